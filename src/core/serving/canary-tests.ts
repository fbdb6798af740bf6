/**
 * The two significance tests the canary judge uses, one-sided ("is the canary worse?"), as SciPy
 * computes them, so a p-value printed by Tandem can be checked with a line of Python:
 * - latency: Mann-Whitney U over the two latency histograms. The prediction log keeps latencies as
 *   bucket counts (LATENCY_BOUNDS_MS), so each request is its bucket: ordinal data with ties, which
 *   the U test handles by mid-ranks and the tie-corrected variance —
 *   `scipy.stats.mannwhitneyu(canary, primary, alternative="greater", method="asymptotic")` on the
 *   bucket indices gives the same U and p.
 * - errors: the pooled two-proportion Z-test, one-sided (z² is the 2×2 chi-square without Yates'
 *   correction, `scipy.stats.chi2_contingency(..., correction=False)`).
 */
import { normalSf } from "../monitoring/stats/special.js";
import { zTestProportions } from "../monitoring/stats/tests.js";

export interface OneSidedTest {
  statistic: number;
  /** P(a result at least this bad if the canary were no worse than the primary). */
  pValue: number;
}

/**
 * Mann-Whitney U of the canary against the primary, alternative "canary slower": U is the canary's
 * statistic, p from the normal approximation with tie correction and continuity correction (SciPy's
 * asymptotic method; exact p-values are for samples far smaller than the judge's minimum of 100).
 */
export function mannWhitneyGreater(canaryHist: readonly number[], primaryHist: readonly number[]): OneSidedTest {
  const n1 = sum(canaryHist);
  const n2 = sum(primaryHist);
  if (n1 === 0 || n2 === 0) return { statistic: 0, pValue: 1 };
  const n = n1 + n2;
  let below = 0;
  let rankSum = 0;
  let ties = 0;
  for (let i = 0; i < Math.max(canaryHist.length, primaryHist.length); i++) {
    const c = canaryHist[i] ?? 0;
    const t = c + (primaryHist[i] ?? 0);
    if (t === 0) continue;
    // Every request in a bucket shares the mid-rank of the bucket's run of ranks.
    rankSum += c * (below + (t + 1) / 2);
    ties += t * t * t - t;
    below += t;
  }
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - ties / (n * (n - 1)));
  // All requests in one bucket: no evidence either way.
  if (variance <= 0) return { statistic: u, pValue: 1 };
  const z = (u - mean - 0.5) / Math.sqrt(variance);
  return { statistic: u, pValue: normalSf(z) };
}

/** Pooled two-proportion Z-test, alternative "the canary's error rate is higher"; statistic is z. */
export function errorRateGreater(
  canary: { errors: number; requests: number },
  primary: { errors: number; requests: number },
): OneSidedTest {
  // zTestProportions gives z = (primary rate − canary rate) / se, two-sided; turn it to one side.
  const { statistic } = zTestProportions(primary.errors, primary.requests, canary.errors, canary.requests);
  return { statistic: -statistic, pValue: normalSf(-statistic) };
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
