/**
 * Reading numbers out of a profile's sketches: quantiles, CDF, histograms, frequent values. These
 * are what monitoring computes drift from, so each states its error: quantiles and CDF values are
 * within ±`quantileRankError` (≈ 1.3 %) in rank; a histogram bin's count is within
 * ±2·rankError·n; frequent-value counts under-state by at most `frequentMaxError`.
 */
import { FrequentItems } from "../sketches/frequent.js";
import type { SketchKey } from "../sketches/hash.js";
import { quantileOf, rankOf, sortedViewOf, type SortedView } from "../sketches/kll.js";
import type { ColumnProfile, Histogram, TableProfile } from "./model.js";
import { DEFAULT_HISTOGRAM_BINS } from "./model.js";
import { NotFoundError } from "../../errors.js";

const views = new WeakMap<object, SortedView>();

/** The KLL sketch as a weighted sample: values ascending and cumulative weights (sum = value count). */
export function distribution(column: ColumnProfile): SortedView {
  const sketch = column.sketches.quantiles;
  let view = views.get(sketch);
  if (!view) {
    view = sortedViewOf(sketch.levels);
    views.set(sketch, view);
  }
  return view;
}

/** The column named `name`, or a NotFoundError naming what exists. */
export function columnOf(profile: TableProfile, name: string): ColumnProfile {
  const column = profile.columns.find((c) => c.name === name);
  if (!column) {
    throw new NotFoundError(
      `no column ${JSON.stringify(name)} in the profile (columns: ${profile.columns.map((c) => c.name).join(", ")})`,
    );
  }
  return column;
}

/** Approximate q-quantile (0 ≤ q ≤ 1) of a numeric column; NaN when it has no numeric values. */
export function quantile(column: ColumnProfile, q: number): number {
  const s = column.sketches.quantiles;
  if (s.n === 0 || s.min === null || s.max === null) return NaN;
  return quantileOf(distribution(column), q, s.min, s.max);
}

export function quantiles(column: ColumnProfile, qs: number[]): number[] {
  return qs.map((q) => quantile(column, q));
}

/** Approximate fraction of the column's numeric values ≤ x. */
export function cdf(column: ColumnProfile, x: number): number {
  return rankOf(distribution(column), x);
}

export interface HistogramOptions {
  /** Number of equal-width bins (default 20). */
  bins?: number;
  /** Range to bin over (default the column's own min and max); values outside it are not counted. */
  min?: number;
  max?: number;
}

/** Equal-width histogram of a numeric column from its sketch; null when it has no numeric values. */
export function histogram(column: ColumnProfile, options: HistogramOptions = {}): Histogram | null {
  const s = column.sketches.quantiles;
  if (s.n === 0 || s.min === null || s.max === null) return null;
  return histogramFromView(
    distribution(column),
    options.min ?? s.min,
    options.max ?? s.max,
    options.bins ?? DEFAULT_HISTOGRAM_BINS,
  );
}

export function histogramFromView(view: SortedView, min: number, max: number, bins: number): Histogram {
  if (!(bins >= 1) || !Number.isInteger(bins)) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  const width = (max - min) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + i * width));
  const counts = new Array<number>(bins).fill(0);
  // Each sketch item carries its weight into the bin holding it; items on the last edge go in the last bin.
  let prev = 0;
  for (let i = 0; i < view.values.length; i++) {
    const v = view.values[i]!;
    const w = view.cumulative[i]! - prev;
    prev = view.cumulative[i]!;
    if (v < min || v > max) continue;
    const bin = width > 0 ? Math.min(bins - 1, Math.floor((v - min) / width)) : 0;
    counts[bin]! += w;
  }
  return { edges, counts };
}

/**
 * Frequent values with counts, largest first. For columns with ≤ 1024 distinct values every value is
 * here and counts are exact (`maxError` 0) — the per-value shares categorical drift tests need.
 */
export function frequentValues(
  column: ColumnProfile,
  limit?: number,
): { items: Array<{ value: SketchKey; count: number }>; maxError: number; total: number } {
  const f = FrequentItems.fromJSON(column.sketches.frequent);
  const items = f
    .top(limit)
    .map(([value, count]) => ({ value: column.kind === "string" ? String(value) : value, count }));
  return { items, maxError: f.maxError, total: f.n };
}
