/** Wire shapes of src/server/routes/monitors.ts and alerts.ts. */
export interface CheckResultWire {
  check: string;
  passed: boolean;
  summary: string;
  details: Record<string, unknown>;
}

export interface MonitorResultWire {
  id: string;
  monitor: string;
  window_start: number;
  window_end: number;
  computed_from: "raw" | "profile";
  status: "ok" | "failing" | "insufficient_data" | "error";
  rows: number;
  labelled_rows: number;
  checks: CheckResultWire[];
  error: string | null;
  alert_id: string | null;
  created_at: number;
  /** Set when the window held more than the monitor's max_rows: checked on a uniform sample. */
  sampled?: { rows: number; of: number } | null;
}

export interface MonitorWire {
  name: string;
  endpoint: string | null;
  dataset: string | null;
  schedule: string | null;
  timezone: string;
  window_ms: number | null;
  reference: string | null;
  columns: Record<string, unknown>;
  checks: Array<Record<string, unknown>>;
  min_rows: number;
  next_run_at: number | null;
  last_run_at: number | null;
  last_result?: MonitorResultWire | null;
}

export interface AlertWire {
  id: string;
  project: string;
  name: string;
  fingerprint: string;
  status: "firing" | "resolved";
  severity: string;
  source: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  evidence: Record<string, unknown>;
  starts_at: number;
  ends_at: number | null;
  updated_at: number;
  fire_count: number;
  acked_by: string | null;
  acked_at: number | null;
  ack_comment: string | null;
  triggered_at: number | null;
  resolution: Record<string, unknown> | null;
}

/** The drift evidence a data/prediction/target drift check carries (monitoring/monitors/checks.ts). */
export interface DriftColumnWire {
  name: string;
  type: string;
  test: string;
  statistic: number;
  p_value: number | null;
  threshold: number;
  drift: boolean;
  histogram?: { edges?: number[]; labels?: string[]; reference: number[]; current: number[] };
}

export function driftColumns(check: CheckResultWire | undefined): DriftColumnWire[] {
  const cols = check?.details.columns;
  return Array.isArray(cols) ? (cols as DriftColumnWire[]) : [];
}

export function checkOf(result: MonitorResultWire, name: string): CheckResultWire | undefined {
  return result.checks.find((c) => c.check === name);
}

/** A number from a check's details, or null. */
export function detailNumber(check: CheckResultWire | undefined, key: string): number | null {
  const v = check?.details[key];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}
