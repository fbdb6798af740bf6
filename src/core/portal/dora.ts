/**
 * Computes DORA's five metrics from deployment facts (see dora-model.ts for the terms): each
 * deployment is classified once (failed? rework? lead time, recovery time), then each group —
 * models, services, all — and each week is summarised from those classifications.
 */
import { DEFINITIONS, failRateBand, frequencyBand, leadTimeBand, recoveryBand, REPORT_YEAR } from "./dora-bands.js";
import type {
  ClassifiedDeployment,
  DeploymentGroup,
  DoraDeploymentFacts,
  DoraFacts,
  DoraOptions,
  DoraReport,
  GroupReport,
  WeekReport,
} from "./dora-model.js";

const DAY = 86_400_000;
const WEEK = 7 * DAY;
/** A hotfix a week after a deployment still fixes it; later, it is a change of its own. */
export const DEFAULT_HOTFIX_WINDOW_MS = 7 * DAY;
/** The report lists this many deployments at most (the metrics count them all). */
const MAX_LISTED = 1000;

const PRODUCTION = /^prod(uction)?$/i;

/** Monday 00:00 UTC of the week holding `t` (1970-01-01 was a Thursday: Monday is 3 days before). */
export function weekStart(t: number): number {
  return Math.floor((t + 3 * DAY) / WEEK) * WEEK - 3 * DAY;
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A deployment to production that has ended (see the glossary's "Deployment"). */
function counts(d: DoraDeploymentFacts): boolean {
  if (d.outcome === "in_progress") return false;
  if (/^canary\b/i.test(d.reason)) return false;
  return d.environment === null || PRODUCTION.test(d.environment);
}

const endedBadly = (d: DoraDeploymentFacts) => d.outcome === "failed" || d.outcome === "rolled_back";

interface Reading {
  d: DoraDeploymentFacts;
  failedBecause: string | null;
  rework: boolean;
  leadTimeMs: number | null;
  recoveryMs: number | null;
}

/** Classifies every counted deployment of one target, in the order they started. */
function readTarget(list: DoraDeploymentFacts[], hotfixWindowMs: number): Reading[] {
  const readings: Reading[] = list.map((d) => ({
    d,
    failedBecause: endedBadly(d) ? d.outcome : null,
    rework: d.reason === "rollback" || d.reason === "hotfix" || d.producedBy === "alert",
    leadTimeMs: null,
    recoveryMs: null,
  }));
  readings.forEach((r, i) => {
    const earlier = readings.slice(0, i).reverse();
    let undone: Reading | undefined;
    if (r.d.reason === "rollback") {
      // A model rollback names the version it left; a service's undoes the last good deployment.
      undone =
        r.d.kind === "model"
          ? earlier.find((e) => e.d.version !== null && e.d.version === r.d.previousVersion)
          : earlier.find((e) => e.d.outcome === "succeeded");
    } else if (r.d.reason === "hotfix") {
      const previous = earlier[0];
      if (previous && r.d.startedAt - previous.d.startedAt <= hotfixWindowMs) undone = previous;
    }
    if (undone && undone.failedBecause === null) undone.failedBecause = `${r.d.reason} ${r.d.id}`;
    const end = r.d.finishedAt ?? r.d.startedAt;
    if (r.d.outcome === "succeeded" && r.d.reason !== "rollback" && r.d.commitAt !== null && end >= r.d.commitAt)
      r.leadTimeMs = end - r.d.commitAt;
  });
  readings.forEach((r, i) => {
    if (r.failedBecause === null) return;
    if (r.d.kind === "model" && endedBadly(r.d)) {
      // Tandem returned the traffic to the previous version itself when the rollout ended.
      if (r.d.finishedAt !== null) r.recoveryMs = r.d.finishedAt - r.d.startedAt;
      return;
    }
    const next = readings.slice(i + 1).find((x) => x.d.outcome === "succeeded");
    if (next) r.recoveryMs = next.d.startedAt - r.d.startedAt;
  });
  return readings;
}

function classify(facts: DoraFacts, options: DoraOptions): Reading[] {
  const hotfixWindowMs = options.hotfixWindowMs ?? DEFAULT_HOTFIX_WINDOW_MS;
  const byTarget = new Map<string, DoraDeploymentFacts[]>();
  for (const d of facts.deployments) {
    if (!counts(d) || d.startedAt < options.since || d.startedAt > options.until) continue;
    if (options.target && d.target !== options.target) continue;
    // A service and an endpoint may share a name: they are different targets.
    const key = `${d.kind}\u0000${d.target}`;
    byTarget.set(key, [...(byTarget.get(key) ?? []), d]);
  }
  const readings: Reading[] = [];
  for (const list of byTarget.values()) {
    list.sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id));
    readings.push(...readTarget(list, hotfixWindowMs));
  }
  return readings.sort((a, b) => b.d.startedAt - a.d.startedAt || a.d.id.localeCompare(b.d.id));
}

function summarise(readings: Reading[], since: number, until: number): GroupReport {
  const days = Math.max(until - since, 1) / DAY;
  const failed = readings.filter((r) => r.failedBecause !== null);
  const leadTimes = readings.flatMap((r) => (r.leadTimeMs === null ? [] : [r.leadTimeMs]));
  const recoveries = failed.flatMap((r) => (r.recoveryMs === null ? [] : [r.recoveryMs]));
  const rework = readings.filter((r) => r.rework).length;
  const n = readings.length;
  const leadMedian = median(leadTimes);
  const recoveryMedian = median(recoveries);
  const failRate = n === 0 ? null : failed.length / n;
  const perDay = n / days;
  return {
    deployments: n,
    deployment_frequency: { per_day: perDay, per_week: perDay * 7, band: frequencyBand(perDay) },
    change_lead_time: {
      median_ms: leadMedian,
      measured: leadTimes.length,
      band: leadMedian === null ? null : leadTimeBand(leadMedian),
    },
    change_fail_rate: {
      rate: failRate,
      failed: failed.length,
      band: failRate === null ? null : failRateBand(failRate),
    },
    failed_deployment_recovery_time: {
      median_ms: recoveryMedian,
      recovered: recoveries.length,
      unrecovered: failed.length - recoveries.length,
      band: recoveryMedian === null ? null : recoveryBand(recoveryMedian),
    },
    deployment_rework_rate: { rate: n === 0 ? null : rework / n, rework, band: null },
    weekly: weekly(readings, since, until),
  };
}

function weekly(readings: Reading[], since: number, until: number): WeekReport[] {
  const weeks: WeekReport[] = [];
  for (let start = weekStart(since); start <= until; start += WEEK) {
    const inWeek = readings.filter((r) => r.d.startedAt >= start && r.d.startedAt < start + WEEK);
    const failed = inWeek.filter((r) => r.failedBecause !== null);
    weeks.push({
      week_start: start,
      deployments: inWeek.length,
      failed: failed.length,
      rework: inWeek.filter((r) => r.rework).length,
      lead_time_median_ms: median(inWeek.flatMap((r) => (r.leadTimeMs === null ? [] : [r.leadTimeMs]))),
      recovery_median_ms: median(failed.flatMap((r) => (r.recoveryMs === null ? [] : [r.recoveryMs]))),
    });
  }
  return weeks;
}

const toListed = (r: Reading): ClassifiedDeployment => ({
  id: r.d.id,
  kind: r.d.kind,
  target: r.d.target,
  reason: r.d.reason,
  outcome: r.d.outcome,
  started_at: r.d.startedAt,
  commit: r.d.commit,
  failed: r.failedBecause !== null,
  failed_because: r.failedBecause,
  rework: r.rework,
  lead_time_ms: r.leadTimeMs,
  recovery_ms: r.recoveryMs,
});

/** DORA's five metrics over the deployments in `facts`, for models, services and both. */
export function computeDora(facts: DoraFacts, options: DoraOptions): DoraReport {
  const readings = classify(facts, options);
  const group = (g: DeploymentGroup) =>
    summarise(g === "all" ? readings : readings.filter((r) => r.d.kind === g), options.since, options.until);
  return {
    project: facts.project,
    target: options.target ?? null,
    since: options.since,
    until: options.until,
    hotfix_window_ms: options.hotfixWindowMs ?? DEFAULT_HOTFIX_WINDOW_MS,
    report_year: REPORT_YEAR,
    groups: { all: group("all"), model: group("model"), service: group("service") },
    definitions: DEFINITIONS,
    deployments: readings.slice(0, MAX_LISTED).map(toListed),
  };
}
