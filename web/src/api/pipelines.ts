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
  references: ReferenceWire[];
  cache: { decision: "hit" | "miss" | "off"; reason: string | null; source: string | null } | null;
  environment: EnvironmentWire | null;
  outputs: Record<string, string>;
  metrics: Record<string, number>;
  tracking_run_id: string | null;
}

/** A built-in step's `with:` reference as its cache key resolved it. */
export interface ReferenceWire {
  field: string;
  kind: string;
  ref: string;
  resolved: string | null;
  digest: string | null;
}

export interface EnvironmentWire {
  digest: string;
  lockfiles: Record<string, string>;
  interpreters: Record<string, string | null>;
  image: string | null;
  image_id: string | null;
}

/** GET …/pipeline-runs/{id}/steps/{step}/cache */
export interface CacheExplanationWire {
  step: string;
  key: string | null;
  decision: "hit" | "miss" | "off" | null;
  summary: string;
  parts: Array<{
    name: string;
    digest: string;
    value: string;
    change: "same" | "changed" | "added" | "removed" | null;
    before: { digest: string; value: string } | null;
  }>;
  compared_with: { run_id: string; step_run_id: string; created_at: number; key: string | null; status: string } | null;
}

/** `dataset rows@latest → rows@3 (sha256:1a2b3c4d5e6f)` */
export function describeReference(r: ReferenceWire): string {
  return `${r.field} ${r.ref} → ${r.resolved ?? "none"}${r.digest ? ` (${r.digest.slice(0, 19)})` : ""}`;
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
  commit: string | null;
  dirty: boolean | null;
  changed_paths: string[];
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
