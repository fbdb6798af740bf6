/** Wire types of the portal routes: maturity (`/maturity`) and DORA (`/dora`). */

export interface EvidenceWire {
  kind: "run" | "spec" | "decision" | "alert" | "deployment" | "model_version" | "endpoint";
  id: string;
  /** The record's page in this UI (`/p/{project}/…`). */
  href: string;
  note: string;
}

export interface CriterionWire {
  id: string;
  name: string;
  level: 1 | 2;
  passed: boolean;
  evidence: EvidenceWire[];
  next_step: string | null;
}

export interface MaturityWire {
  project: string;
  level: 0 | 1 | 2;
  passed: number;
  total: number;
  criteria: CriterionWire[];
  signs: Array<{ id: string; name: string; evidence: EvidenceWire[] }>;
  evaluated_at: number;
}

export type DoraBand = "elite" | "high" | "medium" | "low";
export type DoraGroup = "all" | "model" | "service";
export type DoraMetricId =
  | "deployment_frequency"
  | "change_lead_time"
  | "change_fail_rate"
  | "failed_deployment_recovery_time"
  | "deployment_rework_rate";

export interface DoraWeekWire {
  week_start: number;
  deployments: number;
  failed: number;
  rework: number;
  lead_time_median_ms: number | null;
  recovery_median_ms: number | null;
}

export interface DoraGroupWire {
  deployments: number;
  deployment_frequency: { per_day: number; per_week: number; band: DoraBand };
  change_lead_time: { median_ms: number | null; measured: number; band: DoraBand | null };
  change_fail_rate: { rate: number | null; failed: number; band: DoraBand | null };
  failed_deployment_recovery_time: {
    median_ms: number | null;
    recovered: number;
    unrecovered: number;
    band: DoraBand | null;
  };
  deployment_rework_rate: { rate: number | null; rework: number; band: null };
  weekly: DoraWeekWire[];
}

export interface DoraWire {
  project: string;
  target: string | null;
  since: number;
  until: number;
  hotfix_window_ms: number;
  report_year: number;
  groups: Record<DoraGroup, DoraGroupWire>;
  definitions: Array<{
    id: DoraMetricId;
    name: string;
    definition: string;
    measured_as: string;
    bands: Record<DoraBand, string> | null;
  }>;
  deployments: Array<{
    id: string;
    kind: "model" | "service";
    target: string;
    reason: string;
    outcome: string;
    started_at: number;
    commit: string | null;
    failed: boolean;
    failed_because: string | null;
    rework: boolean;
    lead_time_ms: number | null;
    recovery_ms: number | null;
  }>;
}

/**
 * Deployments per week as the Overview and the DORA page print it (DORA's deployment frequency from
 * `/dora`): two decimals at most, so "1.75" and not "1.7500000000000002".
 */
export function formatPerWeek(perWeek: number): string {
  return String(Math.round(perWeek * 100) / 100);
}
