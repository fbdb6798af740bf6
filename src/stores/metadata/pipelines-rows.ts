/** Row types of the pipelines tables (migrations 0100, 0101) and their mappers to the domain's models. */
import type { Generated } from "kysely";
import type { CacheEntry, LogChunk, PipelineRun, SpecVersion, StepRun } from "../../core/pipelines/model.js";

export interface PipelineSpecRow {
  project: string;
  version: number;
  digest: string;
  source: string;
  file: string;
  workspace: string | null;
  created_at: number;
  created_by: string;
  /** 0102: the commit a run's spec was read from (null: applied with `tandem apply`). */
  commit_sha: string | null;
}

export interface PipelineRunRow {
  id: string;
  project: string;
  pipeline: string;
  spec_version: number;
  status: string;
  params: string;
  trigger: string;
  no_cache: number;
  concurrency: number;
  workspace: string | null;
  env_digest: string | null;
  commit_sha: string | null;
  code: string | null;
  created_at: number;
  created_by: string;
  /** 0110: the person behind the run (null: nobody known). */
  triggered_by: string | null;
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
  cancel_requested: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  tracking_run_id: string | null;
}

export interface PipelineStepRunRow {
  id: string;
  run_id: string;
  seq: number;
  name: string;
  step: string;
  matrix: string | null;
  needs: string;
  status: string;
  cached: number;
  cache_key: string | null;
  attempt: number;
  started_at: number | null;
  finished_at: number | null;
  exit_code: number | null;
  error: string | null;
  command: string | null;
  inputs: string;
  resolved_refs: string | null;
  cache_info: string | null;
  environment: string | null;
  outputs: string;
  metrics: string;
  lease_owner: string | null;
  lease_expires_at: number | null;
  pid: number | null;
  host: string | null;
  /** 0120: `<boot id>:<start time>` of the process `pid` names. */
  pid_start: string | null;
  /** 0130: the executor, a remote step's scheduler job, and why it waits. */
  executor: string | null;
  remote_job: string | null;
  waiting: string | null;
  tracking_run_id: string | null;
}

export interface PipelineLogRow {
  seq: Generated<number>;
  run_id: string;
  step_id: string;
  stream: string;
  text: string;
  at: number;
}

export interface PipelineCacheRow {
  project: string;
  cache_key: string;
  outputs: string;
  metrics: string;
  step_run_id: string;
  created_at: number;
}

export interface PipelineSecretRow {
  project: string;
  name: string;
  sealed: string;
  updated_at: number;
  updated_by: string;
}

export interface PipelineTriggerEventRow {
  project: string;
  event_key: string;
  run_id: string | null;
  at: number;
}

export interface PipelineTriggerStateRow {
  project: string;
  state_key: string;
  value: string;
  updated_at: number;
}

declare module "./schema.js" {
  interface Database {
    pipeline_specs: PipelineSpecRow;
    pipeline_runs: PipelineRunRow;
    pipeline_step_runs: PipelineStepRunRow;
    pipeline_logs: PipelineLogRow;
    pipeline_cache: PipelineCacheRow;
    pipeline_secrets: PipelineSecretRow;
    pipeline_trigger_events: PipelineTriggerEventRow;
    pipeline_trigger_state: PipelineTriggerStateRow;
  }
}

export const toSpec = (r: PipelineSpecRow): SpecVersion => ({
  project: r.project,
  version: r.version,
  digest: r.digest,
  source: r.source,
  file: r.file,
  workspace: r.workspace,
  createdAt: r.created_at,
  createdBy: r.created_by,
  commit: r.commit_sha ?? null,
});

export const toRun = (r: PipelineRunRow): PipelineRun => ({
  id: r.id,
  project: r.project,
  pipeline: r.pipeline,
  specVersion: r.spec_version,
  status: r.status as PipelineRun["status"],
  params: JSON.parse(r.params) as PipelineRun["params"],
  trigger: JSON.parse(r.trigger) as PipelineRun["trigger"],
  noCache: r.no_cache === 1,
  concurrency: r.concurrency,
  workspace: r.workspace,
  envDigest: r.env_digest,
  code: r.code === null ? null : (JSON.parse(r.code) as PipelineRun["code"]),
  createdAt: r.created_at,
  createdBy: r.created_by,
  triggeredBy: r.triggered_by,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  error: r.error,
  cancelRequested: r.cancel_requested === 1,
  leaseOwner: r.lease_owner,
  leaseExpiresAt: r.lease_expires_at,
  trackingRunId: r.tracking_run_id,
});

export function fromRun(run: Partial<PipelineRun>): Partial<PipelineRunRow> {
  const row: Partial<PipelineRunRow> = {};
  if (run.id !== undefined) row.id = run.id;
  if (run.project !== undefined) row.project = run.project;
  if (run.pipeline !== undefined) row.pipeline = run.pipeline;
  if (run.specVersion !== undefined) row.spec_version = run.specVersion;
  if (run.status !== undefined) row.status = run.status;
  if (run.params !== undefined) row.params = JSON.stringify(run.params);
  if (run.trigger !== undefined) row.trigger = JSON.stringify(run.trigger);
  if (run.noCache !== undefined) row.no_cache = run.noCache ? 1 : 0;
  if (run.concurrency !== undefined) row.concurrency = run.concurrency;
  if (run.workspace !== undefined) row.workspace = run.workspace;
  if (run.envDigest !== undefined) row.env_digest = run.envDigest;
  if (run.code !== undefined) {
    row.code = run.code === null ? null : JSON.stringify(run.code);
    row.commit_sha = run.code?.commit ?? null;
  }
  if (run.createdAt !== undefined) row.created_at = run.createdAt;
  if (run.createdBy !== undefined) row.created_by = run.createdBy;
  if (run.triggeredBy !== undefined) row.triggered_by = run.triggeredBy;
  if (run.startedAt !== undefined) row.started_at = run.startedAt;
  if (run.finishedAt !== undefined) row.finished_at = run.finishedAt;
  if (run.error !== undefined) row.error = run.error;
  if (run.cancelRequested !== undefined) row.cancel_requested = run.cancelRequested ? 1 : 0;
  if (run.leaseOwner !== undefined) row.lease_owner = run.leaseOwner;
  if (run.leaseExpiresAt !== undefined) row.lease_expires_at = run.leaseExpiresAt;
  if (run.trackingRunId !== undefined) row.tracking_run_id = run.trackingRunId;
  return row;
}

export const toStep = (r: PipelineStepRunRow): StepRun => ({
  id: r.id,
  runId: r.run_id,
  seq: r.seq,
  name: r.name,
  step: r.step,
  matrix: r.matrix === null ? null : (JSON.parse(r.matrix) as StepRun["matrix"]),
  needs: JSON.parse(r.needs) as string[],
  status: r.status as StepRun["status"],
  cached: r.cached === 1,
  cacheKey: r.cache_key,
  attempt: r.attempt,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  exitCode: r.exit_code,
  error: r.error,
  command: r.command,
  inputs: JSON.parse(r.inputs) as StepRun["inputs"],
  references: r.resolved_refs === null ? [] : (JSON.parse(r.resolved_refs) as StepRun["references"]),
  cacheInfo: r.cache_info === null ? null : (JSON.parse(r.cache_info) as StepRun["cacheInfo"]),
  environment: r.environment === null ? null : (JSON.parse(r.environment) as StepRun["environment"]),
  outputs: JSON.parse(r.outputs) as StepRun["outputs"],
  metrics: JSON.parse(r.metrics) as StepRun["metrics"],
  leaseOwner: r.lease_owner,
  leaseExpiresAt: r.lease_expires_at,
  pid: r.pid,
  host: r.host,
  pidStart: r.pid_start ?? null,
  executor: r.executor ?? null,
  remoteJob: r.remote_job ?? null,
  waiting: r.waiting ?? null,
  trackingRunId: r.tracking_run_id,
});

export function fromStep(s: Partial<StepRun>): Partial<PipelineStepRunRow> {
  const row: Partial<PipelineStepRunRow> = {};
  if (s.id !== undefined) row.id = s.id;
  if (s.runId !== undefined) row.run_id = s.runId;
  if (s.seq !== undefined) row.seq = s.seq;
  if (s.name !== undefined) row.name = s.name;
  if (s.step !== undefined) row.step = s.step;
  if (s.matrix !== undefined) row.matrix = s.matrix === null ? null : JSON.stringify(s.matrix);
  if (s.needs !== undefined) row.needs = JSON.stringify(s.needs);
  if (s.status !== undefined) row.status = s.status;
  if (s.cached !== undefined) row.cached = s.cached ? 1 : 0;
  if (s.cacheKey !== undefined) row.cache_key = s.cacheKey;
  if (s.attempt !== undefined) row.attempt = s.attempt;
  if (s.startedAt !== undefined) row.started_at = s.startedAt;
  if (s.finishedAt !== undefined) row.finished_at = s.finishedAt;
  if (s.exitCode !== undefined) row.exit_code = s.exitCode;
  if (s.error !== undefined) row.error = s.error;
  if (s.command !== undefined) row.command = s.command;
  if (s.inputs !== undefined) row.inputs = JSON.stringify(s.inputs);
  if (s.references !== undefined) row.resolved_refs = JSON.stringify(s.references);
  if (s.cacheInfo !== undefined) row.cache_info = s.cacheInfo === null ? null : JSON.stringify(s.cacheInfo);
  if (s.environment !== undefined) row.environment = s.environment === null ? null : JSON.stringify(s.environment);
  if (s.outputs !== undefined) row.outputs = JSON.stringify(s.outputs);
  if (s.metrics !== undefined) row.metrics = JSON.stringify(s.metrics);
  if (s.leaseOwner !== undefined) row.lease_owner = s.leaseOwner;
  if (s.leaseExpiresAt !== undefined) row.lease_expires_at = s.leaseExpiresAt;
  if (s.pid !== undefined) row.pid = s.pid;
  if (s.host !== undefined) row.host = s.host;
  if (s.pidStart !== undefined) row.pid_start = s.pidStart;
  if (s.executor !== undefined) row.executor = s.executor;
  if (s.remoteJob !== undefined) row.remote_job = s.remoteJob;
  if (s.waiting !== undefined) row.waiting = s.waiting;
  if (s.trackingRunId !== undefined) row.tracking_run_id = s.trackingRunId;
  return row;
}

export const toLog = (r: { seq: number; step_id: string; stream: string; text: string; at: number }): LogChunk => ({
  seq: r.seq,
  stepId: r.step_id,
  stream: r.stream as LogChunk["stream"],
  text: r.text,
  at: r.at,
});

export const toCache = (r: PipelineCacheRow): CacheEntry => ({
  project: r.project,
  key: r.cache_key,
  outputs: JSON.parse(r.outputs) as CacheEntry["outputs"],
  metrics: JSON.parse(r.metrics) as CacheEntry["metrics"],
  stepRunId: r.step_run_id,
  createdAt: r.created_at,
});
