/**
 * Distribution of the one-sample Kolmogorov-Smirnov statistic D_n, as SciPy's `kstwo.sf` computes it.
 * SciPy's two-sample test (`ks_2samp`, method 'asymp') reports kstwo.sf(d, round(m·n/(m+n))), so matching
 * its p-values to 1e-6 means following the same choice of algorithm per (n, x) region that SciPy takes
 * from Simard & L'Ecuyer (2011): Ruben-Gambino closed forms at the edges, 2·smirnov in the upper tail,
 * the Durbin matrix (Marsaglia-Tsang-Wang 2003) for small n·x^1.5 and the Pelz-Good series otherwise.
 * (SciPy uses Pomeranz's recursion for n ≤ 140 in one region; it is exact, as the Durbin matrix is, so the
 * Durbin matrix serves there too.)
 */
import { logGamma } from "./special.js";

/** P(D_n⁺ ≥ x): the one-sided Smirnov survival function, exact (Birnbaum-Tingey sum), as scipy.special.smirnov. */
export function smirnovSf(n: number, x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  if (n === 1) return 1 - x;
  // x · Σ_{j=0}^{⌊n(1−x)⌋} C(n,j) (1 − x − j/n)^{n−j} (x + j/n)^{j−1}, terms summed in log space.
  const jmax = Math.floor(n * (1 - x));
  const logTerms: number[] = [];
  const lgN1 = logGamma(n + 1);
  let maxLog = -Infinity;
  for (let j = 0; j <= jmax; j++) {
    const a = 1 - x - j / n;
    if (a <= 0 && n - j > 0) continue;
    const logBinom = lgN1 - logGamma(j + 1) - logGamma(n - j + 1);
    const lt = logBinom + (n - j) * Math.log(a) + (j - 1) * Math.log(x + j / n);
    logTerms.push(lt);
    if (lt > maxLog) maxLog = lt;
  }
  let sum = 0;
  for (const lt of logTerms) sum += Math.exp(lt - maxLog);
  const p = x * sum * Math.exp(maxLog);
  return Math.min(1, Math.max(0, p));
}

/** log(n! / n^n) */
function logFactorialOverPower(n: number): number {
  return logGamma(n + 1) - n * Math.log(n);
}

const SCALE_EXP = 128;
const SCALE = 2 ** SCALE_EXP;

/** Durbin matrix method (Marsaglia, Tsang & Wang 2003): P(D_n < d), exact up to rounding. */
export function kolmogorovCdfDurbin(n: number, d: number): number {
  const k = Math.floor(n * d) + 1;
  const m = 2 * k - 1;
  const h = k - n * d;
  const H = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) H[i * m + j] = i - j + 1 >= 0 ? 1 : 0;
  for (let i = 0; i < m; i++) {
    H[i * m] = H[i * m]! - h ** (i + 1);
    H[(m - 1) * m + i] = H[(m - 1) * m + i]! - h ** (m - i);
  }
  if (2 * h - 1 > 0) H[(m - 1) * m] = H[(m - 1) * m]! + (2 * h - 1) ** m;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const f = i - j + 1;
      if (f > 0) H[i * m + j] = H[i * m + j]! / Math.exp(logGamma(f + 1));
    }
  }
  // Q = H^n by repeated squaring, with a separate power-of-two exponent so entries never overflow.
  const { matrix: Q, exponent } = matrixPower(H, m, n);
  let s = Q[(k - 1) * m + (k - 1)]!;
  const logS = Math.log(s) + exponent * Math.LN2 + logFactorialOverPower(n);
  s = Math.exp(logS);
  return Math.min(1, Math.max(0, s));
}

function matMul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let l = 0; l < m; l++) {
      const ail = a[i * m + l]!;
      if (ail === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j] = out[i * m + j]! + ail * b[l * m + j]!;
    }
  }
  return out;
}

function rescale(x: Float64Array, m: number, centre: number): number {
  if (Math.abs(x[centre * m + centre]!) <= SCALE) return 0;
  for (let i = 0; i < x.length; i++) x[i] = x[i]! / SCALE;
  return SCALE_EXP;
}

function matrixPower(H: Float64Array, m: number, n: number): { matrix: Float64Array; exponent: number } {
  const centre = (m - 1) / 2;
  let result: Float64Array | null = null;
  let resultExp = 0;
  let base = H;
  let baseExp = 0;
  let e = n;
  while (e > 0) {
    if (e & 1) {
      if (result === null) {
        result = base.slice();
        resultExp = baseExp;
      } else {
        result = matMul(result, base, m);
        resultExp += baseExp;
      }
      resultExp += rescale(result, m, centre);
    }
    e = Math.floor(e / 2);
    if (e > 0) {
      base = matMul(base, base, m);
      baseExp *= 2;
      baseExp += rescale(base, m, centre);
    }
  }
  return { matrix: result!, exponent: resultExp };
}

const PI2 = Math.PI ** 2;
const PI4 = PI2 ** 2;
const PI6 = PI4 * PI2;
const SQRT_2PI = Math.sqrt(2 * Math.PI);

/**
 * Pelz-Good asymptotic series for P(D_n ≤ x): K0(z) + K1(z)/√n + K2(z)/n + K3(z)/n^{3/2}, z = x√n,
 * each K written in its theta-function form that converges fast for small z (Pelz & Good 1976).
 */
export function kolmogorovCdfPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 0;
  const q = Math.exp(qlog);
  // Sums over odd m = 2k−1 of c(m)·q^{m²}, via Horner in q^{8k}.
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z6 * z2;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k >= 1; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    const qp = q ** (8 * k);
    K[0] = K[0]! * qp + 1;
    K[1] = K[1]! * qp + (k1a + k1b * m2);
    K[2] = K[2]! * qp + (k2a + k2b * m2 + k2c * m4);
    K[3] = K[3]! * qp + (k3a + k3b * m2 + k3c * m4 + k3d * m6);
  }
  const divisors = [z, 6 * z4, 72 * z4 * z2 * z, 6480 * z4 * z6];
  for (let i = 0; i < 4; i++) K[i] = (K[i]! * q * SQRT_2PI) / divisors[i]!;
  // Sums over all integers k of k²·q'^{k²} with q' = e^{−π²/(2z²)} for the K2 and K3 corrections.
  const q2 = Math.exp(-PI2 / 2 / z2);
  let k2extra = 0;
  let k3extra = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let k = maxk; k >= 1; k--) {
    const kk = k * k;
    const qk = q2 ** kk;
    k2extra += kk * qk;
    const kpi = Math.PI * k;
    k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * kk * qk;
  }
  K[2] = K[2]! + (k2extra * PI2 * SQRT_2PI) / (-36 * z2 * z);
  K[3] = K[3]! + (k3extra * PI2 * SQRT_2PI) / (216 * z6);
  return K[0]! + K[1]! / Math.sqrt(n) + K[2]! / n + K[3]! / n ** 1.5;
}

const clip = (p: number): number => Math.min(1, Math.max(0, p));

/** P(D_n ≥ x), the survival function of the two-sided one-sample KS statistic (scipy kstwo.sf). */
export function kolmogorovSf(n: number, x: number): number {
  if (!Number.isInteger(n) || n <= 0 || Number.isNaN(x)) return Number.NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    // Ruben-Gambino: 1/(2n) ≤ x ≤ 1/n
    if (t <= 0.5) return 1;
    const cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    return clip(1 - cdf);
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n);
  if (x >= 0.5) return clip(2 * smirnovSf(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 4) return clip(1 - kolmogorovCdfDurbin(n, x));
    return clip(2 * smirnovSf(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip(2 * smirnovSf(n, x));
  if (nx2 >= 18) return 0;
  if (n <= 100_000 && n * x ** 1.5 <= 1.4) return clip(1 - kolmogorovCdfDurbin(n, x));
  return clip(1 - kolmogorovCdfPelzGood(n, x));
}
