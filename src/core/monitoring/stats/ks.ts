/**
 * Two-sample Kolmogorov-Smirnov test, two-sided, matching SciPy's `ks_2samp(a, b)` with its default
 * method 'auto': the exact null distribution while both samples have at most 10 000 values, else the
 * asymptotic one (kstwo.sf at n = round(m·n/(m+n)), half to even as NumPy rounds). Ties need no special
 * case: the statistic is taken over the pooled values with right-continuous ECDFs, as SciPy does, and
 * SciPy's exact p-value assumes no ties, so ours does too.
 */
import { sortFloat64 } from "./sort.js";
import { kolmogorovSf } from "./kolmogorov.js";
import { roundHalfEven } from "./special.js";

/** SciPy's MAX_AUTO_N: the exact distribution is used while max(n1, n2) ≤ this. */
export const KS_EXACT_MAX_N = 10_000;

export interface KsResult {
  statistic: number;
  pValue: number;
  method: "exact" | "asymp";
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** sup |F1 − F2| over the pooled values; both inputs sorted ascending, no NaN. */
export function ksStatisticSorted(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n1 && j < n2) {
    const v = a[i]! <= b[j]! ? a[i]! : b[j]!;
    // Step past every copy of v in both samples before comparing: ties move both ECDFs together.
    while (i < n1 && a[i] === v) i++;
    while (j < n2 && b[j] === v) j++;
    const diff = Math.abs(i / n1 - j / n2);
    if (diff > d) d = diff;
  }
  // Once one sample is exhausted its ECDF is 1; the other only climbs towards 1, so d cannot grow.
  return d;
}

/** P(D ≥ h/n) for equal sizes n: 2·Σ_{k≥1} (−1)^{k+1} C(2n, n−kh)/C(2n, n), each ratio a running product. */
function probOutsideSquare(n: number, h: number): number {
  const terms: number[] = [];
  let ratio = 1;
  let j = 0;
  for (let k = 1; k * h <= n; k++) {
    for (; j < k * h; j++) ratio *= (n - j) / (n + j + 1);
    if (ratio === 0) break;
    terms.push(ratio);
  }
  // Sum the alternating series from its smallest term for accuracy.
  let p = 0;
  for (let k = terms.length - 1; k >= 0; k--) p = terms[k]! - p;
  return 2 * p;
}

/**
 * P(D ≥ h/lcm) for sizes m ≠ n: one minus the share of monotone lattice paths from (0,0) to (m,n) that
 * stay strictly inside |i·(n/g) − j·(m/g)| < h. A(i,j) holds the inside-path count divided by C(i+j, i),
 * so A(i,j) = (i·A(i−1,j) + j·A(i,j−1)) / (i+j) stays in [0,1] and never overflows.
 */
function probOutsideLattice(m: number, n: number, g: number, h: number): number {
  const mg = m / g;
  const ng = n / g;
  const A = new Float64Array(n + 1);
  // Row i = 0: inside while j·mg < h.
  let lo = 0;
  let hi = Math.min(n, Math.ceil(h / mg) - 1);
  for (let j = 0; j <= hi; j++) A[j] = 1;
  for (let i = 1; i <= m; i++) {
    // Inside ⇔ (i·ng − h)/mg < j < (i·ng + h)/mg.
    const newLo = Math.max(0, Math.floor((i * ng - h) / mg) + 1);
    const newHi = Math.min(n, Math.ceil((i * ng + h) / mg) - 1);
    if (newHi < newLo) return 1;
    for (let j = lo; j < newLo && j <= hi; j++) A[j] = 0;
    for (let j = hi + 1; j <= newHi; j++) A[j] = 0;
    let left = 0; // A(i, j−1), zero below the window
    for (let j = newLo; j <= newHi; j++) {
      left = (i * A[j]! + j * left) / (i + j);
      A[j] = left;
    }
    lo = newLo;
    hi = newHi;
  }
  return 1 - A[n]!;
}

/**
 * The p-value of a two-sided statistic `d` for sample sizes n1, n2, as ks_2samp's method 'auto' computes
 * it. In the exact branch SciPy snaps d to the lattice (h/lcm); the snapped value is returned too.
 */
export function ksPValue(d: number, n1: number, n2: number): KsResult {
  if (n1 <= 0 || n2 <= 0) throw new RangeError("ks_2samp needs two non-empty samples");
  if (Math.max(n1, n2) <= KS_EXACT_MAX_N) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = roundHalfEven(d * lcm);
    const snapped = h / lcm;
    if (h === 0) return { statistic: snapped, pValue: 1, method: "exact" };
    const p = n1 === n2 ? probOutsideSquare(n1, h) : probOutsideLattice(n1, n2, g, h);
    return { statistic: snapped, pValue: Math.min(1, Math.max(0, p)), method: "exact" };
  }
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const en = (m * n) / (m + n);
  return { statistic: d, pValue: kolmogorovSf(roundHalfEven(en), d), method: "asymp" };
}

/** Two-sided two-sample KS on sorted, NaN-free samples. */
export function ks2SampSorted(a: Float64Array, b: Float64Array): KsResult {
  if (a.length === 0 || b.length === 0) throw new RangeError("ks_2samp needs two non-empty samples");
  return ksPValue(ksStatisticSorted(a, b), a.length, b.length);
}

/** Two-sided two-sample KS; `a` and `b` must already be free of NaN/±inf. */
export function ks2Samp(a: ArrayLike<number>, b: ArrayLike<number>): KsResult {
  return ks2SampSorted(sortFloat64(Float64Array.from(a)), sortFloat64(Float64Array.from(b)));
}
