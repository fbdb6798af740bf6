/** Wire shapes of src/server/routes/pipelines-wire.ts and pipeline-events.ts. */
export interface StepRunWire {
  id: string;
  name: string;
  step: string;
  matrix: Record<string, unknown> | null;
  needs: string[];
  status: string;
  cached: boolean;
  cache_key: string | null;
  attempt: number;
  started_at: number | null;
  finished_at: number | null;
  exit_code: number | null;
  error: string | null;
  command: string | null;
  inputs: Record<string, { sha256: string; kind: string; source: string }>;
  outputs: Record<string, string>;
  metrics: Record<string, number>;
  tracking_run_id: string | null;
}

export interface PipelineRunWire {
  id: string;
  project: string;
  pipeline: string;
  spec_version: number;
  status: string;
  params: Record<string, unknown>;
  trigger: Record<string, unknown>;
  no_cache: boolean;
  concurrency: number;
  workspace: string | null;
  created_at: number;
  created_by: string;
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
  cancel_requested: boolean;
  tracking_run_id: string | null;
  steps?: StepRunWire[];
}

export interface LogLineWire {
  seq: number;
  step: string;
  step_id: string;
  stream: string;
  text: string;
  at: number;
}

export interface PipelineSummaryWire {
  name: string;
  description: string | null;
  params: Record<string, unknown>;
  triggers: unknown[];
  steps: string[];
  latest_run: PipelineRunWire | null;
}

export const ACTIVE_RUN = new Set(["queued", "running"]);

export function runDuration(
  r: { started_at: number | null; finished_at: number | null },
  now = Date.now(),
): number | null {
  if (r.started_at === null) return null;
  return (r.finished_at ?? now) - r.started_at;
}

/** "manual by ana", "schedule 0 3 * * *", "alert flights-drift"… from the run's trigger record. */
export function describeTrigger(t: Record<string, unknown>): string {
  const kind = typeof t.kind === "string" ? t.kind : "unknown";
  const detail = Object.entries(t)
    .filter(([k]) => k !== "kind")
    .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(", ");
  return detail ? `${kind} (${detail})` : kind;
}
