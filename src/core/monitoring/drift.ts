/**
 * One-shot data drift between two tables, with Evidently's default test selection and thresholds
 * (DESIGN.md "Monitoring semantics"):
 *   reference ≤ 1000 values — KS for numeric columns with > 5 distinct values (over reference ∪ current),
 *     chi-square for other columns with > 2 distinct values, Z-test with ≤ 2;
 *   reference > 1000 values — normalised Wasserstein for numeric columns with > 5 distinct values,
 *     Jensen-Shannon otherwise;
 *   p-value tests drift when p < 0.05, distances when ≥ 0.1; the dataset drifts when ≥ half its
 *   tested columns drift. Missing values (null, NaN, ±inf) are dropped per column first.
 */
import { InvalidInputError } from "../errors.js";
import { categoryCounts, inferColumnType, numericSorted, type ColumnType, type Table } from "./columns.js";
import { ks2SampSorted } from "./stats/ks.js";
import { histogramCounts, populationStd, sturgesEdges, wassersteinSorted } from "./stats/numeric.js";
import { chiSquareCounts, jensenShannonDistance, psi, zTestProportions } from "./stats/tests.js";

export type DriftTest = "ks" | "chisquare" | "z" | "wasserstein" | "jensenshannon" | "psi";
export const DRIFT_TESTS: readonly DriftTest[] = ["ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi"];

/** Evidently's cut-over between small-sample tests and distances (rows of the reference column). */
export const SMALL_REFERENCE_MAX_ROWS = 1000;
/** Numeric columns need more distinct values than this for KS / Wasserstein. */
export const NUMERIC_TEST_MIN_DISTINCT = 5;
/** Jensen-Shannon and PSI bin numeric columns with more distinct reference values than this. */
export const PER_VALUE_MAX_DISTINCT = 20;
export const DEFAULT_P_VALUE_THRESHOLD = 0.05;
export const DEFAULT_DISTANCE_THRESHOLD = 0.1;
/** Normalised Wasserstein divides by max(std, this) so constant references don't divide by zero. */
export const WASSERSTEIN_MIN_STD = 0.001;

export const isPValueTest = (t: DriftTest): boolean => t === "ks" || t === "chisquare" || t === "z";

export interface ColumnDriftOptions {
  /** Force a test instead of the default selection. */
  test?: DriftTest;
  /** Threshold for this column (default 0.05 for p-value tests, 0.1 for distances). */
  threshold?: number;
  /** Force the column's kind instead of inferring it. */
  type?: ColumnType;
}

export interface DriftOptions {
  /** Columns to check (default: every column present in both tables). */
  columns?: readonly string[];
  /** Use this test for every column, e.g. "psi" for PSI on request (default: Evidently's selection). */
  test?: DriftTest;
  /** Per-column overrides of test, threshold and kind. */
  perColumn?: Readonly<Record<string, ColumnDriftOptions>>;
  /** Share of drifted columns at which the dataset drifts (default 0.5). */
  driftShare?: number;
  /** Attach reference/current histograms for reports (default false). */
  histograms?: boolean;
}

export interface Histogram {
  /** Bin edges for numeric columns (length = counts + 1), or category labels. */
  edges?: number[];
  labels?: string[];
  reference: number[];
  current: number[];
}

export interface ColumnDrift {
  name: string;
  type: ColumnType;
  test: DriftTest;
  statistic: number;
  pValue: number | null;
  threshold: number;
  drift: boolean;
  histogram?: Histogram;
}

export interface SkippedColumn {
  name: string;
  type: ColumnType;
  reason: string;
}

export interface DriftReport {
  datasetDrift: boolean;
  shareDrifted: number;
  driftShare: number;
  columns: ColumnDrift[];
  skipped: SkippedColumn[];
  referenceRows: number;
  currentRows: number;
}

/** The longest column's length. */
export function rowCount(t: Table): number {
  let n = 0;
  for (const v of Object.values(t)) n = Math.max(n, v.length);
  return n;
}

/** Compare two tables column by column; see the module comment for the rules. */
export function computeDrift(reference: Table, current: Table, options: DriftOptions = {}): DriftReport {
  const names = options.columns ?? Object.keys(reference).filter((c) => Object.hasOwn(current, c));
  const driftShare = options.driftShare ?? 0.5;
  const columns: ColumnDrift[] = [];
  const skipped: SkippedColumn[] = [];
  for (const name of names) {
    // Own columns only: `--columns constructor` must not find Object.prototype's function.
    const ref = Object.hasOwn(reference, name) ? reference[name] : undefined;
    const cur = Object.hasOwn(current, name) ? current[name] : undefined;
    if (ref === undefined) throw new InvalidInputError(`column "${name}" is not in the reference data`);
    if (cur === undefined) throw new InvalidInputError(`column "${name}" is not in the current data`);
    const own = (options.perColumn && Object.hasOwn(options.perColumn, name) && options.perColumn[name]) || {};
    const type = own.type ?? inferColumnType(ref);
    const test = own.test ?? options.test;
    if ((type === "text" || type === "datetime") && test === undefined) {
      skipped.push({ name, type, reason: `${type} columns are not drift-tested unless a test is asked for` });
      continue;
    }
    const result = columnDrift(name, type, ref, cur, { ...own, test }, options.histograms ?? false);
    if (typeof result === "string") skipped.push({ name, type, reason: result });
    else columns.push(result);
  }
  return driftReportOf(columns, skipped, driftShare, rowCount(reference), rowCount(current));
}

/** The report of tested and skipped columns: the dataset drifts when ≥ `driftShare` of the tested did. */
export function driftReportOf(
  columns: ColumnDrift[],
  skipped: SkippedColumn[],
  driftShare: number,
  referenceRows: number,
  currentRows: number,
): DriftReport {
  const drifted = columns.filter((c) => c.drift).length;
  const shareDrifted = columns.length === 0 ? 0 : drifted / columns.length;
  return {
    datasetDrift: columns.length > 0 && shareDrifted >= driftShare,
    shareDrifted,
    driftShare,
    columns,
    skipped,
    referenceRows,
    currentRows,
  };
}

/** Count distinct values of sorted arrays, stopping once above `cap`. */
function distinctSorted(a: Float64Array, cap: number): number {
  let n = 0;
  for (let i = 0; i < a.length && n <= cap; i++) if (i === 0 || a[i] !== a[i - 1]) n++;
  return n;
}

function distinctUnionSorted(a: Float64Array, b: Float64Array, cap: number): number {
  let i = 0;
  let j = 0;
  let n = 0;
  while ((i < a.length || j < b.length) && n <= cap) {
    const v = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    n++;
    while (i < a.length && a[i] === v) i++;
    while (j < b.length && b[j] === v) j++;
  }
  return n;
}

/** A test's outcome before the threshold is applied. */
export type TestOutcome = Omit<ColumnDrift, "name" | "type" | "threshold" | "drift">;
type Decided = TestOutcome;

/** Apply the column's threshold (default 0.05 for p-values, 0.1 for distances). */
export function verdictOf(decided: TestOutcome, own: ColumnDriftOptions): { threshold: number; drift: boolean } {
  const pTest = isPValueTest(decided.test);
  const threshold = own.threshold ?? (pTest ? DEFAULT_P_VALUE_THRESHOLD : DEFAULT_DISTANCE_THRESHOLD);
  return { threshold, drift: pTest ? decided.pValue! < threshold : decided.statistic >= threshold };
}

/**
 * Evidently's default test for a numeric column, given the reference's non-missing row count and the
 * number of distinct values over reference ∪ current (only whether it exceeds 5 and 2 matters).
 */
export function defaultNumericTest(referenceRows: number, unionDistinct: number): DriftTest {
  const many = unionDistinct > NUMERIC_TEST_MIN_DISTINCT;
  if (referenceRows <= SMALL_REFERENCE_MAX_ROWS) return many ? "ks" : unionDistinct > 2 ? "chisquare" : "z";
  return many ? "wasserstein" : "jensenshannon";
}

function columnDrift(
  name: string,
  type: ColumnType,
  refValues: ArrayLike<unknown>,
  curValues: ArrayLike<unknown>,
  own: ColumnDriftOptions,
  withHistogram: boolean,
): ColumnDrift | string {
  let decided: Decided;
  if (type === "numeric") {
    const ref = numericSorted(refValues);
    const cur = numericSorted(curValues);
    if (ref.length === 0 || cur.length === 0) return "no finite values on one side";
    decided = numericTest(ref, cur, own.test);
    if (withHistogram) decided.histogram = numericHistogram(ref, cur);
  } else {
    const counts = categoryCounts(refValues, curValues);
    if (counts.nRef === 0 || counts.nCur === 0) return "no values on one side";
    decided = categoricalTest(counts, own.test);
    if (withHistogram) decided.histogram = categoricalHistogram(counts);
  }
  return { name, type, ...verdictOf(decided, own), ...decided };
}

function numericTest(ref: Float64Array, cur: Float64Array, forced: DriftTest | undefined): Decided {
  const test = forced ?? defaultNumericTest(ref.length, distinctUnionSorted(ref, cur, NUMERIC_TEST_MIN_DISTINCT));
  switch (test) {
    case "ks": {
      const r = ks2SampSorted(ref, cur);
      return { test, statistic: r.statistic, pValue: r.pValue };
    }
    case "wasserstein": {
      const norm = Math.max(populationStd(ref), WASSERSTEIN_MIN_STD);
      return { test, statistic: wassersteinSorted(ref, cur) / norm, pValue: null };
    }
    case "jensenshannon":
    case "psi": {
      const { r, c } = numericShares(ref, cur);
      return { test, statistic: test === "psi" ? psi(r, c) : jensenShannonDistance(r, c), pValue: null };
    }
    case "chisquare":
    case "z":
      return categoricalTest(categoryCounts(ref, cur), test);
  }
}

/** Evidently's get_binned_data for numeric columns: Sturges bins when > 20 distinct reference values. */
export function numericShares(ref: Float64Array, cur: Float64Array): { r: Float64Array; c: Float64Array } {
  if (distinctSorted(ref, PER_VALUE_MAX_DISTINCT) > PER_VALUE_MAX_DISTINCT) {
    const min = Math.min(ref[0]!, cur[0]!);
    const max = Math.max(ref[ref.length - 1]!, cur[cur.length - 1]!);
    const edges = sturgesEdges(min, max, ref.length + cur.length);
    const r = histogramCounts(ref, edges).map((x) => x / ref.length);
    const c = histogramCounts(cur, edges).map((x) => x / cur.length);
    return { r, c };
  }
  const counts = categoryCounts(ref, cur);
  return { r: counts.ref.map((x) => x / counts.nRef), c: counts.cur.map((x) => x / counts.nCur) };
}

/** Chi-square / Z / Jensen-Shannon / PSI on per-value counts (Evidently's choice unless `forced`). */
export function categoricalTest(counts: ReturnType<typeof categoryCounts>, forced: DriftTest | undefined): Decided {
  const { keys, ref, cur, nRef, nCur } = counts;
  const test = forced ?? (nRef <= SMALL_REFERENCE_MAX_ROWS ? (keys.length > 2 ? "chisquare" : "z") : "jensenshannon");
  switch (test) {
    case "chisquare": {
      const r = chiSquareCounts(ref, cur);
      return { test, statistic: r.statistic, pValue: r.pValue };
    }
    case "z": {
      if (keys.length > 2) throw new InvalidInputError(`the Z-test needs at most two values, found ${keys.length}`);
      // Both sides hold one and the same value: nothing can have drifted (Evidently answers p = 1).
      if (keys.length === 1) return { test, statistic: 0, pValue: 1 };
      const r = zTestProportions(ref[0]!, nRef, cur[0]!, nCur);
      return { test, statistic: r.statistic, pValue: r.pValue };
    }
    case "jensenshannon":
    case "psi": {
      const r = ref.map((x) => x / nRef);
      const c = cur.map((x) => x / nCur);
      return { test, statistic: test === "psi" ? psi(r, c) : jensenShannonDistance(r, c), pValue: null };
    }
    case "ks":
    case "wasserstein":
      throw new InvalidInputError(`the ${test} test needs a numeric column`);
  }
}

const HISTOGRAM_BINS = 20;
const HISTOGRAM_MAX_LABELS = 20;

function numericHistogram(ref: Float64Array, cur: Float64Array): Histogram {
  const min = Math.min(ref[0]!, cur[0]!);
  const max = Math.max(ref[ref.length - 1]!, cur[cur.length - 1]!);
  const edges = new Float64Array(HISTOGRAM_BINS + 1);
  const span = max > min ? max - min : 1;
  for (let i = 0; i <= HISTOGRAM_BINS; i++) edges[i] = min + (span * i) / HISTOGRAM_BINS;
  const share = (a: Float64Array): number[] => Array.from(histogramCounts(a, edges), (x) => x / a.length);
  return { edges: Array.from(edges), reference: share(ref), current: share(cur) };
}

function categoricalHistogram(counts: ReturnType<typeof categoryCounts>): Histogram {
  const order = counts.keys
    .map((_, i) => i)
    .sort((a, b) => counts.ref[b]! + counts.cur[b]! - (counts.ref[a]! + counts.cur[a]!));
  const top = order.slice(0, HISTOGRAM_MAX_LABELS);
  return {
    labels: top.map((i) => String(counts.keys[i])),
    reference: top.map((i) => counts.ref[i]! / counts.nRef),
    current: top.map((i) => counts.cur[i]! / counts.nCur),
  };
}

/** The wire shape of `tandem monitors drift --json` and the API (snake_case). */
export function driftReportToWire(report: DriftReport): {
  dataset_drift: boolean;
  share_drifted: number;
  columns: {
    name: string;
    type: ColumnType;
    test: DriftTest;
    statistic: number;
    p_value: number | null;
    threshold: number;
    drift: boolean;
  }[];
} {
  return {
    dataset_drift: report.datasetDrift,
    share_drifted: report.shareDrifted,
    columns: report.columns.map((c) => ({
      name: c.name,
      type: c.type,
      test: c.test,
      statistic: c.statistic,
      p_value: c.pValue,
      threshold: c.threshold,
      drift: c.drift,
    })),
  };
}
