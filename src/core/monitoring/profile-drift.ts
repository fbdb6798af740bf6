/**
 * Drift from mergeable profiles instead of rows, so a week or a month of traffic is checked without
 * rereading it. Same test selection and thresholds as `computeDrift`; each column also says how far its
 * statistic can be from the raw-row answer, from the sketches' stated error (profile.accuracy):
 *   - categorical tests use the frequent-value counts, exact while a column has ≤ 1024 distinct values
 *     (bound 0; null when the summary had to drop values);
 *   - KS reads both CDFs from the KLL sketches: each within ±ε in rank, so the statistic is within
 *     ε_ref + ε_cur (ε = 0 for a sketch that still holds every value); the p-value is SciPy's for that
 *     statistic and the exact sample sizes;
 *   - Wasserstein integrates |F_ref − F_cur| from the sketches: within (ε_ref + ε_cur)·(max − min)/norm,
 *     with min, max and the standard deviation exact (moments);
 *   - numeric columns with ≤ 1024 distinct values have exact counts, hence exact CDFs (bound 0);
 *   - binned Jensen-Shannon uses Sturges bins whose shares are each within ±2ε; no bound on the
 *     distance itself is claimed (null). Binned PSI is refused (the column is skipped, with the reason):
 *     its log(r/c) magnifies tail bins finer than the sketch resolves.
 */
import { frequentValues, distribution } from "../data/profile/accessors.js";
import type { ColumnProfile, TableProfile } from "../data/profile/model.js";
import type { SortedView } from "../data/sketches/kll.js";
import type { CategoryKey, ColumnType } from "./columns.js";
import {
  categoricalTest,
  defaultNumericTest,
  PER_VALUE_MAX_DISTINCT,
  verdictOf,
  WASSERSTEIN_MIN_STD,
  type ColumnDrift,
  type ColumnDriftOptions,
  type DriftOptions,
  type DriftReport,
  type SkippedColumn,
  type TestOutcome,
} from "./drift.js";
import { ksPValue } from "./stats/ks.js";
import { sturgesEdges } from "./stats/numeric.js";
import { jensenShannonDistance, psi } from "./stats/tests.js";

export interface ProfileColumnDrift extends ColumnDrift {
  /** Largest possible |statistic − raw-row statistic| from the sketches' stated error; null when not derived. */
  errorBound: number | null;
}

export interface ProfileDriftReport extends DriftReport {
  computedFrom: "profile";
  columns: ProfileColumnDrift[];
  /** The KLL rank error ε the bounds are built from (profile.accuracy.quantileRankError). */
  quantileRankError: number;
}

/**
 * The sketch's CDF at x, linear between its items: an item of weight w stands for w values spread up
 * to it, so tail bins get their share of that spread instead of all-or-nothing jumps of w.
 */
function smoothCdf(view: SortedView, x: number): number {
  const v = view.values;
  if (x <= v[0]!) return 0;
  if (x >= v[v.length - 1]!) return 1;
  let lo = 0;
  let hi = v.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (v[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const f0 = view.cumulative[lo]! / view.total;
  const f1 = view.cumulative[hi]! / view.total;
  return f0 + ((f1 - f0) * (x - v[lo]!)) / (v[hi]! - v[lo]!);
}

/** The exact distribution of a column whose frequent-value counts are exact, as a weighted view. */
function exactView(column: ColumnProfile): SortedView {
  const items = frequentValues(column)
    .items.map(({ value, count }) => [Number(value), count] as const)
    .sort((x, y) => x[0] - y[0]);
  const values = Float64Array.from(items, (x) => x[0]);
  const cumulative = new Float64Array(items.length);
  let total = 0;
  items.forEach((x, i) => (cumulative[i] = total += x[1]));
  // One entry per value of weight ≥ 1: rankError() below must not mistake it for a sketch.
  return { values, cumulative, total };
}

/** A sketch that never compacted holds every value with weight 1: its CDF is exact. */
const rankError = (view: SortedView, eps: number): number => (view.values.length === view.total ? 0 : eps);

/** sup |F_a − F_b| and ∫ |F_a − F_b| dx over two weighted step CDFs, in one merge walk. */
function cdfDistances(a: SortedView, b: SortedView): { sup: number; area: number } {
  let i = 0;
  let j = 0;
  let fa = 0;
  let fb = 0;
  let sup = 0;
  let area = 0;
  let prev = Math.min(a.values[0]!, b.values[0]!);
  while (i < a.values.length || j < b.values.length) {
    const next =
      j >= b.values.length || (i < a.values.length && a.values[i]! <= b.values[j]!) ? a.values[i]! : b.values[j]!;
    area += Math.abs(fa - fb) * (next - prev);
    while (i < a.values.length && a.values[i] === next) fa = a.cumulative[i++]! / a.total;
    while (j < b.values.length && b.values[j] === next) fb = b.cumulative[j++]! / b.total;
    sup = Math.max(sup, Math.abs(fa - fb));
    prev = next;
  }
  return { sup, area };
}

function counts(ref: ColumnProfile, cur: ColumnProfile) {
  const r = frequentValues(ref);
  const c = frequentValues(cur);
  const index = new Map<CategoryKey, number>();
  const refCounts: number[] = [];
  const curCounts: number[] = [];
  const put = (items: typeof r.items, own: number[], other: number[]): void => {
    for (const { value, count } of items) {
      let at = index.get(value as CategoryKey);
      if (at === undefined) {
        index.set(value as CategoryKey, (at = own.length));
        own.push(0);
        other.push(0);
      }
      own[at] = count;
    }
  };
  put(r.items, refCounts, curCounts);
  put(c.items, curCounts, refCounts);
  return {
    keys: [...index.keys()],
    ref: Float64Array.from(refCounts),
    cur: Float64Array.from(curCounts),
    nRef: r.total,
    nCur: c.total,
    exact: r.maxError === 0 && c.maxError === 0,
  };
}

type Outcome = TestOutcome & { errorBound: number | null };

function numericFromProfiles(
  ref: ColumnProfile,
  cur: ColumnProfile,
  eps: number,
  forced: ColumnDriftOptions["test"],
): Outcome {
  const nRef = ref.sketches.quantiles.n;
  const nCur = cur.sketches.quantiles.n;
  const freq = counts(ref, cur);
  // Distinct over reference ∪ current: exact from the frequent values while they are exact, else at least the larger side's.
  const union = freq.exact ? freq.keys.length : Math.max(ref.distinct, cur.distinct);
  const test = forced ?? defaultNumericTest(nRef, union);
  if (test === "chisquare" || test === "z")
    return { ...categoricalTest(freq, test), errorBound: freq.exact ? 0 : null };
  // With every distinct value counted exactly (≤ 1024 of them) the CDFs are exact, not sketched.
  const a = freq.exact ? exactView(ref) : distribution(ref);
  const b = freq.exact ? exactView(cur) : distribution(cur);
  const err = freq.exact ? 0 : rankError(a, eps) + rankError(b, eps);
  const min = Math.min(ref.min!, cur.min!);
  const max = Math.max(ref.max!, cur.max!);
  switch (test) {
    case "ks": {
      const r = ksPValue(cdfDistances(a, b).sup, nRef, nCur);
      // The exact branch snaps the statistic to the 1/lcm lattice the raw statistic lives on: ≤ ½/lcm more.
      const snap = err > 0 && r.method === "exact" ? 0.5 / Math.max(nRef, nCur) : 0;
      return { test, statistic: r.statistic, pValue: r.pValue, errorBound: err + snap };
    }
    case "wasserstein": {
      const norm = Math.max(ref.std ?? 0, WASSERSTEIN_MIN_STD);
      return { test, statistic: cdfDistances(a, b).area / norm, pValue: null, errorBound: (err * (max - min)) / norm };
    }
    case "jensenshannon":
    case "psi": {
      let r: Float64Array;
      let c: Float64Array;
      let bound: number | null = null;
      if (ref.distinctExact && ref.distinct <= PER_VALUE_MAX_DISTINCT && freq.exact) {
        r = freq.ref.map((x) => x / freq.nRef);
        c = freq.cur.map((x) => x / freq.nCur);
        bound = 0;
      } else {
        if (test === "psi") return { test, statistic: Number.NaN, pValue: null, errorBound: null };
        const edges = sturgesEdges(min, max, nRef + nCur);
        const shares = (v: SortedView): Float64Array => {
          const out = new Float64Array(edges.length - 1);
          for (let i = 0; i < out.length; i++) {
            const hi = i === out.length - 1 ? 1 : smoothCdf(v, edges[i + 1]!);
            out[i] = hi - (i === 0 ? 0 : smoothCdf(v, edges[i]!));
          }
          return out;
        };
        r = shares(a);
        c = shares(b);
      }
      return {
        test,
        statistic: test === "psi" ? psi(r, c) : jensenShannonDistance(r, c),
        pValue: null,
        errorBound: bound,
      };
    }
  }
}

/** Drift between two profiles (e.g. a dataset version's and a month of merged window profiles). */
export function computeDriftFromProfiles(
  reference: TableProfile,
  current: TableProfile,
  options: DriftOptions = {},
): ProfileDriftReport {
  const eps = reference.accuracy.quantileRankError;
  const byName = (p: TableProfile) => new Map(p.columns.map((c) => [c.name, c]));
  const refCols = byName(reference);
  const curCols = byName(current);
  const names = options.columns ?? [...refCols.keys()].filter((n) => curCols.has(n));
  const driftShare = options.driftShare ?? 0.5;
  const columns: ProfileColumnDrift[] = [];
  const skipped: SkippedColumn[] = [];
  for (const name of names) {
    const ref = refCols.get(name);
    const cur = curCols.get(name);
    if (!ref || !cur) {
      skipped.push({ name, type: ref?.type ?? cur?.type ?? "categorical", reason: "not in both profiles" });
      continue;
    }
    const own = (options.perColumn && Object.hasOwn(options.perColumn, name) && options.perColumn[name]) || {};
    const type: ColumnType = own.type ?? ref.type;
    const test = own.test ?? options.test;
    if ((type === "text" || type === "datetime") && test === undefined) {
      skipped.push({ name, type, reason: `${type} columns are not drift-tested unless a test is asked for` });
      continue;
    }
    if (ref.count - ref.nullCount === 0 || cur.count - cur.nullCount === 0) {
      skipped.push({ name, type, reason: "no values on one side" });
      continue;
    }
    let outcome: Outcome;
    if (type === "numeric" && ref.min !== null && cur.min !== null) {
      outcome = numericFromProfiles(ref, cur, eps, test);
    } else {
      const freq = counts(ref, cur);
      outcome = { ...categoricalTest(freq, test), errorBound: freq.exact ? 0 : null };
    }
    if (Number.isNaN(outcome.statistic)) {
      // Sturges bins in the tails hold shares below the sketch's ±2ε resolution, and PSI's log(r/c)
      // magnifies exactly those: an answer could be off by more than the threshold. Ask for raw rows.
      skipped.push({
        name,
        type,
        reason: "PSI over binned numeric values needs raw rows (sketch tail bins are too coarse)",
      });
      continue;
    }
    columns.push({ name, type, ...verdictOf(outcome, own), ...outcome });
  }
  const drifted = columns.filter((c) => c.drift).length;
  const shareDrifted = columns.length === 0 ? 0 : drifted / columns.length;
  return {
    computedFrom: "profile",
    quantileRankError: eps,
    datasetDrift: columns.length > 0 && shareDrifted >= driftShare,
    shareDrifted,
    driftShare,
    columns,
    skipped,
    referenceRows: reference.rowCount,
    currentRows: current.rowCount,
  };
}
