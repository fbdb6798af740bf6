/**
 * DORA: the five software delivery metrics of DORA's 2024 report (dora.dev's "DORA's software
 * delivery metrics" guide) over everything a project ships — model versions reaching endpoints and
 * software services that CI records (`tandem deployments record`) — apart and together.
 *
 * Glossary:
 * - **Deployment** — a change reaching production: a model version becoming an endpoint's primary
 *   (deployed, its alias moved, rolled back, or rolled out through a canary), or a service deployment
 *   CI recorded. Not counted: a canary slot (a share of traffic that checks a version before it is
 *   rolled out: a check, not a deployment), a deployment still in progress, and a service
 *   deployment to an environment other than production (none given counts as production).
 * - **Failed deployment** — one that needed immediate intervention: it ended failed or rolled back
 *   (a rollout that broke its SLO, a service deployment CI reported failed), a later rollback on the
 *   same target undid it, or a hotfix followed it on the same target within the hotfix window.
 * - **Rework deployment** — an unplanned deployment made because of an incident in production: a
 *   rollback, a hotfix, or a model version trained by a pipeline run that a monitoring alert started.
 * - **Recovery** — from a failed deployment's start until production served a good version again:
 *   the end of a failed rollout (Tandem returns the traffic itself), else the start of the next
 *   successful deployment on the same target. A failed deployment with neither is unrecovered.
 * - **Band** — the 2024 report's performance cluster (elite, high, medium, low) a value falls in.
 */

export type DeploymentGroup = "model" | "service" | "all";
export type Band = "elite" | "high" | "medium" | "low";
export type DoraMetricId =
  | "deployment_frequency"
  | "change_lead_time"
  | "change_fail_rate"
  | "failed_deployment_recovery_time"
  | "deployment_rework_rate";

/** One deployment record as the DORA computation reads it (plain data, so fixtures are written by hand). */
export interface DoraDeploymentFacts {
  id: string;
  kind: "model" | "service";
  /** The endpoint or the service. */
  target: string;
  /** Model version deployed, and the one it replaced (null for services). */
  version: number | null;
  previousVersion: number | null;
  /** "deploy", "alias moved", "rollback", "rollout through canary", "canary 10%", "hotfix"… */
  reason: string;
  /** "succeeded", "failed", "rolled_back" or "in_progress". */
  outcome: string;
  environment: string | null;
  startedAt: number;
  finishedAt: number | null;
  commit: string | null;
  /** When the deployed commit was made, ms; null when unknown (lead time then skips it). */
  commitAt: number | null;
  /** What started the pipeline run that produced a model version (`alert`, `git`, …); null otherwise. */
  producedBy: string | null;
}

export interface DoraFacts {
  project: string;
  /** Every deployment record started within the period asked for (any kind, any outcome). */
  deployments: DoraDeploymentFacts[];
}

export interface DoraOptions {
  /** Start of the period, ms. */
  since: number;
  /** End of the period, ms (now). */
  until: number;
  /** Only this endpoint or service (default all). */
  target?: string | null;
  /** How soon after a deployment a hotfix on its target marks it failed, ms (default 7 days). */
  hotfixWindowMs?: number;
}

/** How one deployment was read: the numbers behind every metric, so each can be checked by hand. */
export interface ClassifiedDeployment {
  id: string;
  kind: "model" | "service";
  target: string;
  reason: string;
  outcome: string;
  started_at: number;
  commit: string | null;
  failed: boolean;
  /** Why it counts as failed: its own outcome, or the id of the rollback or hotfix that followed it. */
  failed_because: string | null;
  rework: boolean;
  lead_time_ms: number | null;
  recovery_ms: number | null;
}

export interface WeekReport {
  /** Monday 00:00 UTC, ms. */
  week_start: number;
  deployments: number;
  failed: number;
  rework: number;
  lead_time_median_ms: number | null;
  recovery_median_ms: number | null;
}

export interface GroupReport {
  deployments: number;
  deployment_frequency: { per_day: number; per_week: number; band: Band };
  /** Median over succeeded deployments of a new commit whose commit time is known (`measured` of them). */
  change_lead_time: { median_ms: number | null; measured: number; band: Band | null };
  change_fail_rate: { rate: number | null; failed: number; band: Band | null };
  failed_deployment_recovery_time: {
    median_ms: number | null;
    recovered: number;
    unrecovered: number;
    band: Band | null;
  };
  /** The 2024 report gives no clusters for rework rate: band is always null. */
  deployment_rework_rate: { rate: number | null; rework: number; band: null };
  weekly: WeekReport[];
}

export interface MetricDefinition {
  id: DoraMetricId;
  name: string;
  /** DORA's definition. */
  definition: string;
  /** How Tandem measures it from its records. */
  measured_as: string;
  /** The 2024 report's clusters, as the report words them; null where it gives none. */
  bands: Record<Band, string> | null;
}

export interface DoraReport {
  project: string;
  target: string | null;
  since: number;
  until: number;
  hotfix_window_ms: number;
  /** The year of the DORA report the bands and definitions come from. */
  report_year: number;
  groups: Record<DeploymentGroup, GroupReport>;
  definitions: MetricDefinition[];
  /** The counted deployments, newest first (at most 1000), each with how it was read. */
  deployments: ClassifiedDeployment[];
}
