/**
 * The drift tests themselves, each as Evidently applies it and SciPy computes it: chi-square goodness
 * of fit, the pooled two-proportion Z-test, Jensen-Shannon distance and PSI over shares.
 */
import { chi2Sf, normalSf } from "./special.js";

export interface TestResult {
  statistic: number;
  /** null for distances */
  pValue: number | null;
}

/** scipy.stats.chisquare(observed, expected): Σ (o−e)²/e with k−1 degrees of freedom. */
export function chiSquare(observed: ArrayLike<number>, expected: ArrayLike<number>): TestResult {
  const k = observed.length;
  if (k < 2) return { statistic: 0, pValue: 1 };
  let stat = 0;
  for (let i = 0; i < k; i++) {
    const o = observed[i]!;
    const e = expected[i]!;
    const d = o - e;
    stat += e === 0 ? (d === 0 ? 0 : Infinity) : (d * d) / e;
  }
  return { statistic: stat, pValue: chi2Sf(stat, k - 1) };
}

/** Chi-square drift: observed current counts against reference shares × current count, over the union of values. */
export function chiSquareCounts(reference: ArrayLike<number>, current: ArrayLike<number>): TestResult {
  let nRef = 0;
  let nCur = 0;
  for (let i = 0; i < reference.length; i++) nRef += reference[i]!;
  for (let i = 0; i < current.length; i++) nCur += current[i]!;
  const k = nCur / nRef;
  const expected = Array.from(reference, (r) => r * k);
  return chiSquare(current, expected);
}

/**
 * Two-proportion Z-test with pooled proportion, p = 2(1 − Φ(|z|)), on the share of one value
 * (`refHits` of `nRef` reference rows vs `curHits` of `nCur` current rows).
 */
export function zTestProportions(refHits: number, nRef: number, curHits: number, nCur: number): TestResult {
  const p1 = refHits / nRef;
  const p2 = curHits / nCur;
  const pooled = (p1 * nRef + p2 * nCur) / (nRef + nCur);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / nRef + 1 / nCur));
  if (se === 0) return { statistic: 0, pValue: p1 === p2 ? 1 : 0 };
  const z = (p1 - p2) / se;
  return { statistic: z, pValue: Math.min(1, 2 * normalSf(Math.abs(z))) };
}

/** x·ln(x/y) with SciPy's rel_entr conventions. */
function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

/** scipy.spatial.distance.jensenshannon(p, q) with the natural log; inputs are normalised first. */
export function jensenShannonDistance(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < p.length; i++) sp += p[i]!;
  for (let i = 0; i < q.length; i++) sq += q[i]!;
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / sp;
    const b = q[i]! / sq;
    const m = (a + b) / 2;
    js += relEntr(a, m) + relEntr(b, m);
  }
  return Math.sqrt(js / 2);
}

/**
 * Evidently's empty-bin rule for PSI: a zero share becomes (smallest non-zero share)/10⁶ when that
 * smallest share is ≤ 0.0001, else 0.0001. Applied to each side separately; returns a new array.
 */
export function fillZeroShares(shares: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(shares);
  let min = Infinity;
  for (const s of out) if (s !== 0 && s < min) min = s;
  if (min === Infinity) return out;
  const fill = min <= 0.0001 ? min / 1e6 : 0.0001;
  for (let i = 0; i < out.length; i++) if (out[i] === 0) out[i] = fill;
  return out;
}

/** Population stability index Σ (r − c)·ln(r/c) over shares, after the empty-bin rule. */
export function psi(referenceShares: ArrayLike<number>, currentShares: ArrayLike<number>): number {
  const r = fillZeroShares(referenceShares);
  const c = fillZeroShares(currentShares);
  let sum = 0;
  for (let i = 0; i < r.length; i++) sum += (r[i]! - c[i]!) * Math.log(r[i]! / c[i]!);
  return sum;
}
