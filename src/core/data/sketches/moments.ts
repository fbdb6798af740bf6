/**
 * Count, mean, variance, min and max, mergeable exactly by Chan, Golub & LeVeque's parallel update
 * ("Updating formulae and a pairwise algorithm for computing sample variances", 1979): two partial
 * results combine without the rows, with the numerical stability of Welford's method.
 */
export interface MomentsState {
  n: number;
  mean: number;
  /** Sum of squared deviations from the mean. Population variance = m2 / n; sample = m2 / (n − 1). */
  m2: number;
  min: number | null;
  max: number | null;
}

export function emptyMoments(): MomentsState {
  return { n: 0, mean: 0, m2: 0, min: null, max: null };
}

/** Moments of `values[0..length)` by two passes (exact mean first, then deviations). */
export function momentsOf(values: ArrayLike<number>, length = values.length): MomentsState {
  if (length === 0) return emptyMoments();
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < length; i++) {
    const v = values[i]!;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / length;
  let m2 = 0;
  for (let i = 0; i < length; i++) {
    const d = values[i]! - mean;
    m2 += d * d;
  }
  return { n: length, mean, m2, min, max };
}

/** Chan et al.'s pairwise combination. */
export function mergeMoments(a: MomentsState, b: MomentsState): MomentsState {
  if (a.n === 0) return { ...b };
  if (b.n === 0) return { ...a };
  const n = a.n + b.n;
  const delta = b.mean - a.mean;
  return {
    n,
    mean: a.mean + (delta * b.n) / n,
    m2: a.m2 + b.m2 + (delta * delta * a.n * b.n) / n,
    min: Math.min(a.min!, b.min!),
    max: Math.max(a.max!, b.max!),
  };
}

/** Population variance (ddof 0), as Evidently and NumPy's default use; null when empty. */
export function varianceOf(m: MomentsState): number | null {
  return m.n === 0 ? null : m.m2 / m.n;
}
