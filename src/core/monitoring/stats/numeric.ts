/**
 * Numeric building blocks shared by the distance tests: population standard deviation, SciPy's
 * first Wasserstein distance, and NumPy's Sturges histogram (edges and counts) so binned Jensen-Shannon
 * and PSI see exactly the bins Evidently sees.
 */
import { sortFloat64 } from "./sort.js";

/** Population standard deviation (NumPy np.std, ddof 0), two-pass for accuracy. */
export function populationStd(x: ArrayLike<number>): number {
  const n = x.length;
  if (n === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += x[i]!;
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i]! - mean;
    ss += d * d;
  }
  return Math.sqrt(ss / n);
}

/**
 * W1 between two empirical distributions (scipy.stats.wasserstein_distance without weights):
 * ∫ |U(t) − V(t)| dt, walking the merged sorted values once. Inputs sorted ascending, NaN-free.
 */
export function wassersteinSorted(u: Float64Array, v: Float64Array): number {
  const nu = u.length;
  const nv = v.length;
  let i = 0;
  let j = 0;
  let total = 0;
  let prev = Math.min(u[0]!, v[0]!);
  while (i < nu || j < nv) {
    const next = j >= nv || (i < nu && u[i]! <= v[j]!) ? u[i]! : v[j]!;
    // Between prev and next both CDFs are flat at i/nu and j/nv.
    if (next > prev) total += Math.abs(i / nu - j / nv) * (next - prev);
    while (i < nu && u[i] === next) i++;
    while (j < nv && v[j] === next) j++;
    prev = next;
  }
  return total;
}

/** scipy.stats.wasserstein_distance(u, v) for unsorted, NaN-free samples. */
export function wassersteinDistance(u: ArrayLike<number>, v: ArrayLike<number>): number {
  return wassersteinSorted(sortFloat64(Float64Array.from(u)), sortFloat64(Float64Array.from(v)));
}

/**
 * np.histogram_bin_edges(values, bins="sturges") for the pooled samples: width = range/(log2(N)+1),
 * ceil(range/width) equal bins, edges start + i·step with the last edge exactly the maximum.
 */
export function sturgesEdges(min: number, max: number, count: number): Float64Array {
  let first = min;
  let last = max;
  const ptp = max - min;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const width = ptp / (Math.log2(count) + 1);
  const bins = width > 0 ? Math.ceil((last - first) / width) : 1;
  const edges = new Float64Array(bins + 1);
  const step = (last - first) / bins;
  for (let i = 0; i <= bins; i++) edges[i] = i * step + first;
  edges[bins] = last;
  return edges;
}

/** np.histogram(values, edges)[0]: bin i holds edges[i] ≤ x < edges[i+1]; the last bin is closed. */
export function histogramCounts(values: ArrayLike<number>, edges: Float64Array): Float64Array {
  const bins = edges.length - 1;
  const counts = new Float64Array(bins);
  const first = edges[0]!;
  const last = edges[bins]!;
  for (let k = 0; k < values.length; k++) {
    const x = values[k]!;
    if (x < first || x > last) continue;
    if (x === last) {
      counts[bins - 1]!++;
      continue;
    }
    // Binary search for the last edge ≤ x.
    let lo = 0;
    let hi = bins;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (edges[mid]! <= x) lo = mid;
      else hi = mid;
    }
    counts[lo]!++;
  }
  return counts;
}
