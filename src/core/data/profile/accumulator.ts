/**
 * Building a column's statistics chunk by chunk, and turning the sketches into a readable profile.
 *
 * Each chunk is first counted exactly in a small map (value → occurrences); the distinct-count and
 * frequent-value sketches then see each distinct value of the chunk once, with its count. Real
 * columns repeat a lot (flights-3m's airports: ~300 values in 3 M rows), so the sketches' cost falls
 * from per-row to per-distinct-value, and strings are classified (number? date?) once per value.
 */
import { FrequentItems } from "../sketches/frequent.js";
import { hashKey, type SketchKey } from "../sketches/hash.js";
import { Hll } from "../sketches/hll.js";
import { NumberCounter } from "../sketches/number-counter.js";
import { Kll, quantileOf, type SortedView } from "../sketches/kll.js";
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
import { classifyString } from "./values.js";

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
    const numbers = new NumberCounter(Math.min(length, 4096));
    const counts = new Map<SketchKey, number>();
    const strings = new Map<string, number>();
    const declared = this.source.declared;
    // Numbers count as the declared kind (a Parquet DOUBLE holding 1.0 is still a float column).
    const numberKind: ValueKind | null = declared === "float" || declared === "datetime" ? declared : null;
    let n = 0;
    let missing = 0;
    let ints = 0;
    /** Non-integer numbers, or every number when the schema declares the kind. */
    let floats = 0;
    let bools = 0;
    let dates = 0;
    let others = 0;
    for (let i = start; i < end; i++) {
      const v = values[i];
      if (v === null || v === undefined) {
        missing++;
      } else if (typeof v === "number") {
        if (v - v !== 0) {
          missing++; // NaN or ±Infinity
          continue;
        }
        if (numberKind === null && Number.isInteger(v)) ints++;
        else floats++;
        buf[n++] = v;
        numbers.add(v);
      } else if (typeof v === "bigint") {
        const x = Number(v);
        if (numberKind === null) ints++;
        else floats++;
        buf[n++] = x;
        numbers.add(x);
      } else if (typeof v === "string") {
        strings.set(v, (strings.get(v) ?? 0) + 1);
      } else if (typeof v === "boolean") {
        bools++;
        counts.set(v, (counts.get(v) ?? 0) + 1);
      } else if (v instanceof Date) {
        const t = v.getTime();
        if (Number.isNaN(t)) {
          missing++;
          continue;
        }
        dates++;
        buf[n++] = t;
        numbers.add(t);
      } else {
        // Nested values (JSON objects, lists, Parquet structs) are profiled as their JSON text.
        const s = v instanceof Uint8Array ? Buffer.from(v).toString("base64") : stringify(v);
        others++;
        counts.set(s, (counts.get(s) ?? 0) + 1);
      }
    }
    const kinds = this.valueKinds;
    if (numberKind !== null) kinds[numberKind] += floats;
    else kinds.float += floats;
    kinds.integer += ints;
    kinds.bool += bools;
    kinds.datetime += dates;
    kinds.string += others;
    this.count += length;
    this.nullCount += missing;
    if (n > 0) this.moments = mergeMoments(this.moments, momentsOf(buf, n));
    if (strings.size > 0) this.addStrings(strings, numbers, counts);
    if (counts.size > 0) {
      const keys = [...counts.keys()];
      for (const key of keys) this.hll.addHash(hashKey(key));
      this.frequent.addBatch(keys, [...counts.values()], keys.length);
    }
    if (numbers.size > 0) {
      const p = numbers.packed();
      for (let i = 0; i < p.size; i++) this.hll.addHash(p.hashes[i]!);
      this.frequent.addBatch(p.values, p.counts, p.size);
      this.kll.addPacked(p.values, p.counts, p.size);
    }
  }

  private addStrings(strings: Map<string, number>, numbers: NumberCounter, counts: Map<SketchKey, number>): void {
    const text = this.source.text ?? false;
    for (const [s, c] of strings) {
      const cls = classifyString(s, text);
      switch (cls.kind) {
        case "missing":
          this.nullCount += c;
          break;
        case "integer":
        case "float":
        case "datetime": {
          const v = cls.value;
          this.valueKinds[cls.kind === "integer" && this.source.declared === "float" ? "float" : cls.kind] += c;
          this.moments = mergeMoments(this.moments, { n: c, mean: v, m2: 0, min: v, max: v });
          numbers.add(v, c);
          break;
        }
        case "bool":
        case "string":
          this.valueKinds[cls.kind] += c;
          counts.set(cls.value, (counts.get(cls.value) ?? 0) + c);
          break;
      }
    }
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

function stringify(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? Number(x) : x)) ?? String(v);
  } catch {
    return String(v);
  }
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
