/**
 * The safe-rollout verdict: does the canary hold its SLO against the primary over the window?
 * Pure, over the per-slot stats the prediction log gives (every replica's requests).
 */
import type { SloSpec } from "./model.js";
import type { WindowStats } from "./ports.js";

export type SloVerdict =
  | { verdict: "breach"; reason: string; canary: WindowStats; primary: WindowStats | null }
  | { verdict: "healthy"; canary: WindowStats; primary: WindowStats | null }
  | { verdict: "insufficient_data"; requests: number };

export function judgeCanary(
  slo: SloSpec,
  stats: WindowStats[],
  canaryVersion: number,
  primaryVersion: number | null,
): SloVerdict {
  const canary = stats.find((s) => s.slot === "canary" && s.version === canaryVersion);
  if (!canary || canary.requests < slo.minRequests)
    return { verdict: "insufficient_data", requests: canary?.requests ?? 0 };
  const primary = stats.find((s) => s.slot === "primary" && s.version === primaryVersion) ?? null;
  const canaryRate = canary.errors / canary.requests;
  const primaryRate = primary && primary.requests > 0 ? primary.errors / primary.requests : 0;
  if (canaryRate - primaryRate > slo.maxErrorRateIncrease) {
    return {
      verdict: "breach",
      reason: `error rate ${(canaryRate * 100).toFixed(1)}% vs primary ${(primaryRate * 100).toFixed(1)}% (allowed +${(slo.maxErrorRateIncrease * 100).toFixed(1)} points) over ${canary.requests} requests`,
      canary,
      primary,
    };
  }
  if (
    primary &&
    primary.requests >= slo.minRequests &&
    canary.p95Ms !== null &&
    primary.p95Ms !== null &&
    primary.p95Ms > 0
  ) {
    const ratio = canary.p95Ms / primary.p95Ms;
    // Sub-millisecond p95s are noise (timer resolution, GC): compare only when the canary is slow in absolute terms too.
    if (ratio > slo.maxP95Ratio && canary.p95Ms - primary.p95Ms > 1) {
      return {
        verdict: "breach",
        reason: `p95 latency ${canary.p95Ms.toFixed(1)} ms vs primary ${primary.p95Ms.toFixed(1)} ms (allowed ×${slo.maxP95Ratio})`,
        canary,
        primary,
      };
    }
  }
  return { verdict: "healthy", canary, primary };
}

/** Upper bounds (ms) of the latency histogram kept per flush; the last bucket is everything above. */
export const LATENCY_BOUNDS_MS = [
  0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 2000, 5000, 10000,
];

export function latencyBucket(ms: number): number {
  let i = 0;
  while (i < LATENCY_BOUNDS_MS.length && ms > LATENCY_BOUNDS_MS[i]!) i++;
  return i;
}

/** p-th percentile from a merged histogram: the upper bound of the bucket holding it (null when empty). */
export function histogramPercentile(hist: number[], p: number): number | null {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const target = Math.ceil((p / 100) * total);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= target) return LATENCY_BOUNDS_MS[i] ?? LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]! * 2;
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
