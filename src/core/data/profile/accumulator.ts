/**
 * Building a column's statistics chunk by chunk, and turning the sketches into a readable profile.
 *
 * Each chunk is first counted exactly (strings and other keys in a map, numbers as number-tally.ts
 * says); the distinct-count, frequent-value and quantile sketches then see each distinct
 * value of the chunk once, with its count. Real columns repeat a lot (flights-3m's airports: ~300
 * values in 3 M rows), so the sketches' cost falls from per-row to per-distinct-value, and strings
 * are classified (number? date?) once per value.
 */
import { FrequentItems } from "../sketches/frequent.js";
import { hashKey, type SketchKey } from "../sketches/hash.js";
import { Hll } from "../sketches/hll.js";
import { Kll, quantileOf, type SortedView } from "../sketches/kll.js";
import { tallyNumbers } from "../sketches/number-tally.js";
import { emptyMoments, mergeMoments, momentsOf, varianceOf, type MomentsState } from "../sketches/moments.js";
import { histogramFromView } from "./accessors.js";
import {
  DEFAULT_HISTOGRAM_BINS,
  DISPLAY_FREQUENT,
  inferType,
  isNumericKind,
  resolveKind,
  type ColumnProfile,
  type ValueKind,
} from "./model.js";
import { isNumberArray, scanNumbers, scanValues } from "./scan.js";
import { classifyString, type Classified } from "./values.js";

/** One chunk as its distinct values (see `ColumnAccumulator.addDistinct`). */
export interface DistinctChunk {
  /** Rows in the chunk, missing ones included. */
  rows: number;
  /** Entries (distinct values). */
  size: number;
  counts: ArrayLike<number>;
  /** The value's text, or null where it is the number in `numbers` (absent: every entry is a number). */
  texts?: ArrayLike<string | null>;
  numbers: ArrayLike<number>;
  /** 1 where `numbers[i]` was written as an integer. */
  integers: ArrayLike<number>;
}

export interface ColumnSource {
  /** The kind the file's schema declares (Parquet); numbers then count as this kind. */
  declared?: ValueKind;
  /** Values are untyped text (CSV): read numbers, booleans and null tokens out of strings (default false). */
  text?: boolean;
}

const QUANTILE_POINTS: Array<[string, number]> = [
  ["p1", 0.01],
  ["p5", 0.05],
  ["p25", 0.25],
  ["p50", 0.5],
  ["p75", 0.75],
  ["p95", 0.95],
  ["p99", 0.99],
];

export class ColumnAccumulator {
  count = 0;
  nullCount = 0;
  valueKinds: Record<ValueKind, number> = { integer: 0, float: 0, bool: 0, datetime: 0, string: 0 };
  moments: MomentsState = emptyMoments();
  kll = new Kll();
  hll = new Hll();
  frequent = new FrequentItems();
  private buffer = new Float64Array(0);

  constructor(
    readonly name: string,
    readonly source: ColumnSource = {},
  ) {}

  addMissing(rows: number): void {
    this.count += rows;
    this.nullCount += rows;
  }

  /** Adds `values[start..end)`: numbers, bigints, booleans, strings, Dates, null/undefined, or nested JSON. */
  add(values: ArrayLike<unknown>, start = 0, end = values.length): void {
    const length = end - start;
    if (this.buffer.length < length) this.buffer = new Float64Array(length);
    const buf = this.buffer;
    const counts = new Map<SketchKey, number>();
    const strings = new Map<string, number>();
    const declared = this.source.declared;
    // Numbers count as the declared kind (a Parquet DOUBLE holding 1.0 is still a float column).
    const numberKind: ValueKind | null = declared === "float" || declared === "datetime" ? declared : null;
    const scan = isNumberArray(values)
      ? scanNumbers(values, start, end, buf)
      : scanValues(values, start, end, buf, strings, counts);
    const kinds = this.valueKinds;
    // Non-integer numbers, or every number when the schema declares the kind.
    const floats = numberKind === null ? scan.numbers - scan.ints : scan.numbers;
    if (numberKind !== null) kinds[numberKind] += floats;
    else {
      kinds.float += floats;
      kinds.integer += scan.ints;
    }
    kinds.bool += scan.bools;
    kinds.datetime += scan.dates;
    kinds.string += scan.others;
    this.count += length;
    this.nullCount += scan.missing;
    const n = scan.numbers + scan.dates;
    if (n > 0) this.moments = mergeMoments(this.moments, momentsOf(buf, n));
    const weighted = { values: [] as number[], counts: [] as number[] };
    if (strings.size > 0) this.addStrings(strings, counts, weighted);
    this.addCounted(buf, n, counts, weighted);
  }

  /**
   * Adds one chunk of `rows` rows given as its distinct values with their counts, in the order of
   * their first occurrence in the chunk (what SQL's GROUP BY … ORDER BY min(row) hands back): the
   * columnar reader's way in (issue 18). Entry i is `texts[i]` classified as `add` classifies a
   * string, or, where `texts[i]` is null, a text already read as the number `numbers[i]` (an integer
   * when `integers[i]` is 1). Rows not in any entry are missing. The steps are `add`'s for a chunk of
   * strings, taken per distinct value in the same order, so the profile is the same to the bit.
   */
  addDistinct(chunk: DistinctChunk): void {
    if (!chunk.texts) return this.addDistinctNumbers(chunk);
    const counts = new Map<SketchKey, number>();
    const weighted = { values: [] as number[], counts: [] as number[] };
    const text = this.source.text ?? false;
    let present = 0;
    for (let i = 0; i < chunk.size; i++) {
      const c = chunk.counts[i]!;
      present += c;
      const s = chunk.texts?.[i];
      if (s === null || s === undefined)
        this.addNumber(chunk.integers[i] ? "integer" : "float", chunk.numbers[i]!, c, weighted);
      else this.addClassified(classifyString(s, text), c, counts, weighted);
    }
    this.count += chunk.rows;
    this.nullCount += chunk.rows - present;
    this.addCounted(this.buffer, 0, counts, weighted);
  }

  /**
   * `addDistinct` of a chunk of numbers only (an all-number CSV column): addNumber's steps per entry,
   * in the same order, with the moments held in locals, and the entries handed to the tally as they are.
   */
  private addDistinctNumbers(chunk: DistinctChunk): void {
    const { size, counts, numbers, integers } = chunk;
    const m = this.moments;
    let { n, mean, m2, min, max } = m;
    let present = 0;
    let ints = 0;
    for (let i = 0; i < size; i++) {
      const c = counts[i]!;
      const v = numbers[i]!;
      present += c;
      if (integers[i]) ints += c;
      // mergeMoments({ n, mean, m2, min, max }, { n: c, mean: v, m2: 0, min: v, max: v }), term for term.
      if (n === 0) {
        n = c;
        mean = v;
        m2 = 0;
        min = v;
        max = v;
      } else {
        const total = n + c;
        const delta = v - mean;
        mean = mean + (delta * c) / total;
        m2 = m2 + 0 + (delta * delta * n * c) / total;
        min = Math.min(min!, v);
        max = Math.max(max!, v);
        n = total;
      }
    }
    Object.assign(m, { n, mean, m2, min, max });
    if (this.source.declared === "float") this.valueKinds.float += present;
    else {
      this.valueKinds.integer += ints;
      this.valueKinds.float += present - ints;
    }
    this.count += chunk.rows;
    this.nullCount += chunk.rows - present;
    this.addCounted(this.buffer, 0, new Map(), { values: prefix(numbers, size), counts: prefix(counts, size) });
  }

  /** The sketches' share of a chunk: its exactly counted keys and numbers. */
  private addCounted(
    buf: Float64Array,
    n: number,
    counts: Map<SketchKey, number>,
    weighted: { values: ArrayLike<number>; counts: ArrayLike<number> },
  ): void {
    if (counts.size > 0) {
      const keys = [...counts.keys()];
      for (const key of keys) this.hll.addHash(hashKey(key));
      this.frequent.addBatch(keys, [...counts.values()], keys.length);
    }
    if (n > 0 || weighted.values.length > 0) {
      const tally = tallyNumbers(buf, n, weighted);
      this.hll.addNumbers(tally.values, tally.size);
      this.frequent.addBatch(tally.values, tally.counts, tally.size);
      this.kll.addSortedCounts(tally.values, tally.counts, tally.size);
    }
  }

  /** Classifies each distinct string once; numbers read out of text go to `weighted` with their counts. */
  private addStrings(
    strings: Map<string, number>,
    counts: Map<SketchKey, number>,
    weighted: { values: number[]; counts: number[] },
  ): void {
    const text = this.source.text ?? false;
    for (const [s, c] of strings) this.addClassified(classifyString(s, text), c, counts, weighted);
  }

  /** One distinct value of a chunk, occurring `c` times. */
  private addClassified(
    cls: Classified,
    c: number,
    counts: Map<SketchKey, number>,
    weighted: { values: number[]; counts: number[] },
  ): void {
    switch (cls.kind) {
      case "missing":
        this.nullCount += c;
        break;
      case "integer":
      case "float":
      case "datetime":
        this.addNumber(cls.kind, cls.value, c, weighted);
        break;
      case "bool":
      case "string":
        this.valueKinds[cls.kind] += c;
        counts.set(cls.value, (counts.get(cls.value) ?? 0) + c);
        break;
    }
  }

  /** A number read out of a string, occurring `c` times. */
  private addNumber(
    kind: "integer" | "float" | "datetime",
    v: number,
    c: number,
    weighted: { values: number[]; counts: number[] },
  ): void {
    this.valueKinds[kind === "integer" && this.source.declared === "float" ? "float" : kind] += c;
    // mergeMoments(this.moments, { n: c, mean: v, m2: 0, min: v, max: v }), term for term, in place:
    // once per distinct number of every chunk, the two objects it made per call were ~10 % of a CSV
    // profile's CPU (1 M × 25 columns).
    const m = this.moments;
    if (m.n === 0) {
      m.n = c;
      m.mean = v;
      m.m2 = 0;
      m.min = v;
      m.max = v;
    } else {
      const n = m.n + c;
      const delta = v - m.mean;
      m.mean = m.mean + (delta * c) / n;
      m.m2 = m.m2 + 0 + (delta * delta * m.n * c) / n;
      m.min = Math.min(m.min!, v);
      m.max = Math.max(m.max!, v);
      m.n = n;
    }
    weighted.values.push(v);
    weighted.counts.push(c);
  }

  merge(other: ColumnAccumulator): void {
    this.count += other.count;
    this.nullCount += other.nullCount;
    for (const k of Object.keys(this.valueKinds) as ValueKind[]) this.valueKinds[k] += other.valueKinds[k];
    this.moments = mergeMoments(this.moments, other.moments);
    this.kll.merge(other.kll);
    this.hll.merge(other.hll);
    this.frequent.merge(other.frequent);
  }

  static fromProfile(column: ColumnProfile): ColumnAccumulator {
    const acc = new ColumnAccumulator(column.name);
    const s = column.sketches;
    acc.count = column.count;
    acc.nullCount = column.nullCount;
    acc.valueKinds = { ...s.valueKinds };
    acc.moments = { ...s.moments };
    acc.kll = Kll.fromJSON(s.quantiles);
    acc.hll = Hll.fromJSON(s.distinct);
    acc.frequent = FrequentItems.fromJSON(s.frequent);
    return acc;
  }

  /** The readable profile: kind and type resolved, statistics derived from the sketches. */
  describe(): ColumnProfile {
    const kind = resolveKind(this.valueKinds);
    const values = this.count - this.nullCount;
    const frequentState = this.frequent.toJSON();
    const exact = frequentState.maxError === 0;
    const distinct = exact ? this.distinctExact(kind) : this.hll.estimate();
    const numeric = isNumericKind(kind) && this.moments.n > 0;
    const view: SortedView | null = numeric ? this.kll.sortedView() : null;
    const variance = numeric ? varianceOf(this.moments) : null;
    return {
      name: this.name,
      kind,
      type: inferType(kind, distinct, values),
      count: this.count,
      nullCount: this.nullCount,
      distinct,
      distinctExact: exact,
      mean: numeric ? this.moments.mean : null,
      variance,
      std: variance === null ? null : Math.sqrt(variance),
      min: numeric ? this.moments.min : null,
      max: numeric ? this.moments.max : null,
      quantiles: view
        ? Object.fromEntries(
            QUANTILE_POINTS.map(([label, q]) => [label, quantileOf(view, q, this.kll.min, this.kll.max)]),
          )
        : null,
      histogram: view ? histogramFromView(view, this.kll.min, this.kll.max, DEFAULT_HISTOGRAM_BINS) : null,
      frequent: displayFrequent(this.frequent, kind),
      frequentMaxError: frequentState.maxError,
      sketches: {
        valueKinds: { ...this.valueKinds },
        moments: { ...this.moments },
        quantiles: this.kll.toJSON(),
        distinct: this.hll.toJSON(),
        frequent: frequentState,
      },
    };
  }

  /** Exact distinct count from the (never purged) frequent counters; in a mixed column 1 and "1" are one value. */
  private distinctExactCount(): number {
    return new Set([...this.frequent.counts.keys()].map(String)).size;
  }

  private distinctExact(kind: string): number {
    return kind === "string" ? this.distinctExactCount() : this.frequent.counts.size;
  }
}

/** The first `size` values, without a copy where they are a typed array. */
function prefix(values: ArrayLike<number>, size: number): ArrayLike<number> {
  if (values instanceof Float64Array) return values.subarray(0, size);
  return Array.prototype.slice.call(values, 0, size) as number[];
}

/** Top values as they should read: strings in a string column, ISO text for datetimes. */
function displayFrequent(frequent: FrequentItems, kind: string): Array<{ value: SketchKey; count: number }> {
  if (kind === "string") {
    const merged = new Map<string, number>();
    for (const [k, c] of frequent.counts) merged.set(String(k), (merged.get(String(k)) ?? 0) + c);
    return [...merged.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, DISPLAY_FREQUENT)
      .map(([value, count]) => ({ value, count }));
  }
  return frequent.top(DISPLAY_FREQUENT).map(([value, count]) => ({
    value: kind === "datetime" && typeof value === "number" ? new Date(value).toISOString() : value,
    count,
  }));
}
