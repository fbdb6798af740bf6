/**
 * DORA's definitions and the performance clusters of the 2024 Accelerate State of DevOps report,
 * and the rules that place a measured value in one of them.
 */
import type { Band, MetricDefinition } from "./dora-model.js";

export const REPORT_YEAR = 2024;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const DEFINITIONS: MetricDefinition[] = [
  {
    id: "deployment_frequency",
    name: "Deployment frequency",
    definition: "How often changes are deployed to production: the number of deployments over a period.",
    measured_as:
      "Deployments in the period per day and per week; the band follows the average rate (more than one a day is on demand).",
    bands: {
      elite: "On demand (multiple deploys per day)",
      high: "Between once per day and once per week",
      medium: "Between once per week and once per month",
      low: "Between once per month and once every six months",
    },
  },
  {
    id: "change_lead_time",
    name: "Change lead time",
    definition: "The time a change takes from being committed to version control to being deployed in production.",
    measured_as:
      "Median, over succeeded deployments that ship a commit (rollbacks ship none), of the time from the commit to production: a model's commit is its training run's, a service's comes from CI.",
    bands: {
      elite: "Less than one day",
      high: "Between one day and one week",
      medium: "Between one week and one month",
      low: "Between one month and six months",
    },
  },
  {
    id: "change_fail_rate",
    name: "Change fail rate",
    definition:
      "The share of deployments that need immediate intervention after they are deployed, typically a rollback or a hotfix.",
    measured_as:
      "Deployments that ended failed or rolled back, were undone by a later rollback, or were followed by a hotfix on the same target within the hotfix window, over all deployments. The 2024 clusters give one typical rate each (medium's is below high's): the band is the cluster with the nearest rate.",
    bands: { elite: "5%", high: "20%", medium: "10%", low: "40%" },
  },
  {
    id: "failed_deployment_recovery_time",
    name: "Failed deployment recovery time",
    definition: "How long it takes to recover from a deployment that fails and needs immediate intervention.",
    measured_as:
      "Median, over failed deployments, of the time until production served a good version again: the end of a failed canary rollout, else the next successful deployment on the target.",
    bands: {
      elite: "Less than one hour",
      high: "Less than one day",
      medium: "Less than one day",
      low: "Between one week and one month",
    },
  },
  {
    id: "deployment_rework_rate",
    name: "Deployment rework rate",
    definition: "The share of deployments that are unplanned and made because of an incident in production.",
    measured_as:
      "Rollbacks, hotfixes and model versions trained by a run a monitoring alert started, over all deployments. The 2024 report drew its clusters from the other four metrics: no band.",
    bands: null,
  },
];

/** Average deployments per day → band. */
export function frequencyBand(perDay: number): Band {
  if (perDay > 1) return "elite";
  if (perDay >= 1 / 7) return "high";
  if (perDay >= 1 / 30) return "medium";
  return "low";
}

export function leadTimeBand(ms: number): Band {
  if (ms < DAY) return "elite";
  if (ms <= 7 * DAY) return "high";
  if (ms <= 30 * DAY) return "medium";
  return "low";
}

/** The 2024 clusters' typical change fail rates, best cluster first (a tie goes to it). */
const FAIL_RATES: Array<[Band, number]> = [
  ["elite", 0.05],
  ["high", 0.2],
  ["medium", 0.1],
  ["low", 0.4],
];

export function failRateBand(rate: number): Band {
  let best: [Band, number] = FAIL_RATES[0]!;
  for (const candidate of FAIL_RATES)
    if (Math.abs(candidate[1] - rate) < Math.abs(best[1] - rate) - 1e-12) best = candidate;
  return best[0];
}

/** High and medium share "less than one day" in 2024; slower than a day is low. */
export function recoveryBand(ms: number): Band {
  if (ms < HOUR) return "elite";
  if (ms < DAY) return "high";
  return "low";
}
