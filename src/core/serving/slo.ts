/**
 * The safe-rollout verdict: does the canary hold its SLO against the primary over the window?
 * Pure, over the per-slot stats the prediction log gives (every replica's requests).
 */
import { errorRateGreater, mannWhitneyGreater } from "./canary-tests.js";
import type { SloSpec } from "./model.js";
import type { SpecEndpoint } from "./service.js";
import type { WindowStats } from "./ports.js";

/** One SLO judged: both arms' values and sizes, the test's p-value, and the line that says it. */
export interface SloJudgement {
  slo: "error_rate" | "latency";
  /** Error rate (0–1) or p95 latency (ms) of each arm; null when the arm has no successful request. */
  canary: number | null;
  primary: number | null;
  canaryRequests: number;
  primaryRequests: number;
  /** One-sided p-value of "the canary is worse" (two-proportion Z-test, or Mann-Whitney U). */
  pValue: number;
  passed: boolean;
  /** Names the SLO, both values, the sample sizes and the p-value, and why it passed or failed. */
  summary: string;
}

/** One arm of the comparison: its requests, errors and successful requests' latency histogram. */
export interface ArmStats {
  requests: number;
  errors: number;
  /** 95th percentile latency in ms (null when no successful requests). */
  p95Ms: number | null;
  /** Successful requests per latency bucket (LATENCY_BOUNDS_MS, plus one overflow bucket). */
  latencyHist: number[];
}

export type SloVerdict =
  | { verdict: "breach"; reason: string; judgements: SloJudgement[]; canary: ArmStats; primary: ArmStats }
  | { verdict: "healthy"; reason: string; judgements: SloJudgement[]; canary: ArmStats; primary: ArmStats }
  | { verdict: "insufficient_data"; reason: string; requests: number; primaryRequests: number };

/** Judges the canary version against the primary version over an endpoint's window stats. */
export function judgeCanary(
  slo: SloSpec,
  stats: WindowStats[],
  canaryVersion: number,
  primaryVersion: number | null,
): SloVerdict {
  const canary = stats.find((s) => s.slot === "canary" && s.version === canaryVersion);
  const primary = stats.find((s) => s.slot === "primary" && s.version === primaryVersion);
  return judgeArms(slo, canary ?? null, primary ?? null);
}

/**
 * Judges the canary against the primary, SLO by SLO, the way Kayenta and Flagger analyses do: below
 * `minRequests` per arm there is no verdict (keep watching), and a difference fails the canary only
 * when it is both significant (one-sided p < `significance`) and larger than the SLO allows — a
 * ratio of two tails over a few dozen requests is noise (issue 21: the quickstart rolled back a
 * canary on 39 requests whose client-measured latency was lower than the primary's). Serving's
 * controller and the registry's `canary` policy check both judge with it.
 */
export function judgeArms(slo: SloSpec, canary: ArmStats | null, primary: ArmStats | null): SloVerdict {
  const cn = canary?.requests ?? 0;
  const pn = primary?.requests ?? 0;
  if (!canary || !primary || cn < slo.minRequests || pn < slo.minRequests)
    return {
      verdict: "insufficient_data",
      reason: `keep watching: canary ${cn} and primary ${pn} requests, ${slo.minRequests} each needed for a verdict`,
      requests: cn,
      primaryRequests: pn,
    };
  const judgements = [judgeErrorRate(slo, canary, primary), judgeLatency(slo, canary, primary)];
  const failed = judgements.find((j) => !j.passed);
  if (failed) return { verdict: "breach", reason: failed.summary, judgements, canary, primary };
  return { verdict: "healthy", reason: judgements.map((j) => j.summary).join("; "), judgements, canary, primary };
}

function judgeErrorRate(slo: SloSpec, canary: ArmStats, primary: ArmStats): SloJudgement {
  const c = canary.errors / canary.requests;
  const p = primary.errors / primary.requests;
  const { pValue } = errorRateGreater(canary, primary);
  const significant = pValue < slo.significance;
  const over = c - p > slo.maxErrorRateIncrease;
  const why = !significant
    ? `not significant at ${slo.significance}`
    : over
      ? `more than the allowed +${points(slo.maxErrorRateIncrease)}`
      : `within the allowed +${points(slo.maxErrorRateIncrease)}`;
  return {
    slo: "error_rate",
    canary: c,
    primary: p,
    canaryRequests: canary.requests,
    primaryRequests: primary.requests,
    pValue,
    passed: !(significant && over),
    summary:
      `error rate SLO: canary ${pct(c)} (${canary.errors} of ${canary.requests} requests) vs primary ` +
      `${pct(p)} (${primary.errors} of ${primary.requests}), two-proportion p = ${pFmt(pValue)}: ${why}`,
  };
}

function judgeLatency(slo: SloSpec, canary: ArmStats, primary: ArmStats): SloJudgement {
  const { pValue } = mannWhitneyGreater(canary.latencyHist, primary.latencyHist);
  const c = canary.p95Ms;
  const p = primary.p95Ms;
  const significant = pValue < slo.significance;
  let why: string;
  let passed = true;
  if (c === null || p === null) why = "no successful requests to compare";
  else if (!significant) why = `not significant at ${slo.significance}`;
  else if (c < slo.latencyFloorMs) why = `p95 under the ${slo.latencyFloorMs} ms floor`;
  else if (c - p <= slo.latencyMarginMs) why = `within ${slo.latencyMarginMs} ms of the primary`;
  else if (c <= p * slo.maxP95Ratio) why = `within the allowed ×${slo.maxP95Ratio}`;
  else {
    passed = false;
    why = `slower beyond the ${slo.latencyFloorMs} ms floor, the ${slo.latencyMarginMs} ms margin and ×${slo.maxP95Ratio}`;
  }
  const ms = (v: number | null) => (v === null ? "-" : `${v.toFixed(1)} ms`);
  const ok = (s: ArmStats) => s.requests - s.errors;
  return {
    slo: "latency",
    canary: c,
    primary: p,
    canaryRequests: canary.requests,
    primaryRequests: primary.requests,
    pValue,
    passed,
    summary:
      `latency SLO: canary p95 ${ms(c)} (${ok(canary)} requests) vs primary p95 ${ms(p)} (${ok(primary)}), ` +
      `Mann-Whitney p = ${pFmt(pValue)}: ${why}`,
  };
}

/**
 * A breach's facts for its event and deployment record (snake_case: they go out on the wire as
 * they are): the failed SLO, both values, both sample sizes and the p-value, and every SLO judged.
 */
export function breachDetails(
  slo: SloSpec,
  verdict: Extract<SloVerdict, { verdict: "breach" }>,
): Record<string, unknown> {
  const failed = verdict.judgements.find((j) => !j.passed)!;
  return {
    slo: failed.slo,
    canary_value: failed.canary,
    primary_value: failed.primary,
    canary_requests: failed.canaryRequests,
    primary_requests: failed.primaryRequests,
    p_value: failed.pValue,
    significance: slo.significance,
    reason: verdict.reason,
    judgements: verdict.judgements.map(judgementToWire),
  };
}

export function judgementToWire(j: SloJudgement) {
  return {
    slo: j.slo,
    canary_value: j.canary,
    primary_value: j.primary,
    canary_requests: j.canaryRequests,
    primary_requests: j.primaryRequests,
    p_value: j.pValue,
    passed: j.passed,
    summary: j.summary,
  };
}

/** The fields an endpoint's `slo:` sets (tandem.yaml or the deploy route), in SloSpec's units. */
export function sloFromSpec(slo: SpecEndpoint["slo"]): Partial<SloSpec> | undefined {
  if (!slo) return undefined;
  const out: Partial<SloSpec> = {};
  if (slo.max_error_rate_increase !== undefined) out.maxErrorRateIncrease = slo.max_error_rate_increase;
  if (slo.max_p95_ratio !== undefined) out.maxP95Ratio = slo.max_p95_ratio;
  if (slo.significance !== undefined) out.significance = slo.significance;
  if (slo.latency_floor_ms !== undefined) out.latencyFloorMs = slo.latency_floor_ms;
  if (slo.latency_margin_ms !== undefined) out.latencyMarginMs = slo.latency_margin_ms;
  if (slo.window_seconds !== undefined) out.windowMs = slo.window_seconds * 1000;
  if (slo.min_requests !== undefined) out.minRequests = slo.min_requests;
  if (slo.auto_promote_after_seconds !== undefined) out.autoPromoteAfterMs = slo.auto_promote_after_seconds * 1000;
  return out;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const points = (x: number) => `${(x * 100).toFixed(1)} points`;
/** Small p-values in scientific notation (p = 3.2e-7), others to three decimals. */
export const pFmt = (p: number) => (p < 0.001 ? p.toExponential(1) : p.toFixed(3));

/** Upper bounds (ms) of the latency histogram kept per flush; the last bucket is everything above. */
export const LATENCY_BOUNDS_MS = [
  0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 2000, 5000, 10000,
];

export function latencyBucket(ms: number): number {
  let i = 0;
  while (i < LATENCY_BOUNDS_MS.length && ms > LATENCY_BOUNDS_MS[i]!) i++;
  return i;
}

/**
 * p-th percentile from a merged histogram, interpolated linearly inside its bucket as Prometheus'
 * histogram_quantile does (the bucket's upper bound alone read 3 ms as 5 and 35 ms as 50, which
 * put a canary over the latency floor it was far under). The overflow bucket answers its lower
 * bound. Null when empty.
 */
export function histogramPercentile(hist: readonly number[], p: number): number | null {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = (p / 100) * total;
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    const n = hist[i]!;
    if (n > 0 && seen + n >= rank) {
      const upper = LATENCY_BOUNDS_MS[i];
      const lower = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1]!;
      if (upper === undefined) return lower;
      return lower + ((upper - lower) * (rank - seen)) / n;
    }
    seen += n;
  }
  return null;
}

/** p-th percentile (0–100) of unsorted numbers, nearest-rank; null when empty. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
