/** Wire shapes (snake_case) of pipeline specs, runs, step runs and logs. */
import { z } from "zod";
import type { CacheExplanation } from "../../core/pipelines/cache-explain.js";
import {
  REFERENCE_KINDS,
  type LogChunk,
  type PipelineRun,
  type SpecVersion,
  type StepRun,
} from "../../core/pipelines/model.js";

export const referenceWire = z.object({
  field: z.string(),
  kind: z.enum(REFERENCE_KINDS),
  ref: z.string(),
  resolved: z.string().nullable(),
  digest: z.string().nullable(),
});

export const environmentWire = z.object({
  digest: z.string(),
  lockfiles: z.record(z.string(), z.string()),
  interpreters: z.record(z.string(), z.string().nullable()),
  image: z.string().nullable(),
  image_id: z.string().nullable(),
});

const environmentToWire = (e: NonNullable<StepRun["environment"]>) => ({
  digest: e.digest,
  lockfiles: e.lockfiles,
  interpreters: e.interpreters,
  image: e.image,
  image_id: e.imageId,
});

export const specVersionWire = z.object({
  project: z.string(),
  version: z.number(),
  digest: z.string(),
  file: z.string(),
  workspace: z.string().nullable(),
  created_at: z.number(),
  created_by: z.string(),
  commit: z.string().nullable().describe("The commit this spec was read from (a run of a commit); null when applied."),
  created: z.boolean().optional(),
  source: z.string().optional(),
});

export const specToWire = (v: SpecVersion & { created?: boolean }, withSource = false) => ({
  project: v.project,
  version: v.version,
  digest: v.digest,
  file: v.file,
  workspace: v.workspace,
  created_at: v.createdAt,
  created_by: v.createdBy,
  commit: v.commit,
  ...(v.created !== undefined ? { created: v.created } : {}),
  ...(withSource ? { source: v.source } : {}),
});

export const stepWire = z.object({
  id: z.string(),
  name: z.string(),
  step: z.string(),
  matrix: z.record(z.string(), z.unknown()).nullable(),
  needs: z.array(z.string()),
  status: z.string(),
  cached: z.boolean(),
  cache_key: z.string().nullable(),
  attempt: z.number(),
  started_at: z.number().nullable(),
  finished_at: z.number().nullable(),
  exit_code: z.number().nullable(),
  error: z.string().nullable(),
  command: z.string().nullable(),
  inputs: z.record(z.string(), z.object({ sha256: z.string(), kind: z.string(), source: z.string() })),
  references: z.array(referenceWire),
  cache: z
    .object({ decision: z.enum(["hit", "miss", "off"]), reason: z.string().nullable(), source: z.string().nullable() })
    .nullable(),
  environment: environmentWire.nullable(),
  outputs: z.record(z.string(), z.string()),
  metrics: z.record(z.string(), z.number()),
  executor: z.string().nullable().describe("local, slurm or kubernetes (null before the step starts)"),
  remote_job: z.string().nullable().describe("The scheduler's job id of a remote step"),
  waiting: z.string().nullable().describe('Why a submitted step is not running yet ("waiting for Slurm: Resources")'),
  tracking_run_id: z.string().nullable(),
});

export const stepToWire = (s: StepRun) => ({
  id: s.id,
  name: s.name,
  step: s.step,
  matrix: s.matrix,
  needs: s.needs,
  status: s.status,
  cached: s.cached,
  cache_key: s.cacheKey,
  attempt: s.attempt,
  started_at: s.startedAt,
  finished_at: s.finishedAt,
  exit_code: s.exitCode,
  error: s.error,
  command: s.command,
  inputs: Object.fromEntries(
    Object.entries(s.inputs).map(([k, v]) => [k, { sha256: v.manifest, kind: v.kind, source: v.source }]),
  ),
  references: s.references,
  cache: s.cacheInfo
    ? { decision: s.cacheInfo.decision, reason: s.cacheInfo.reason, source: s.cacheInfo.source }
    : null,
  environment: s.environment ? environmentToWire(s.environment) : null,
  outputs: s.outputs,
  metrics: s.metrics,
  executor: s.executor,
  remote_job: s.remoteJob,
  waiting: s.waiting,
  tracking_run_id: s.trackingRunId,
});

export const runWire = z.object({
  id: z.string(),
  project: z.string(),
  pipeline: z.string(),
  spec_version: z.number(),
  status: z.string(),
  params: z.record(z.string(), z.unknown()),
  trigger: z.record(z.string(), z.unknown()),
  no_cache: z.boolean(),
  concurrency: z.number(),
  workspace: z.string().nullable(),
  env_digest: z.string().nullable(),
  commit: z.string().nullable(),
  dirty: z.boolean().nullable(),
  changed_paths: z.array(z.string()),
  created_at: z.number(),
  created_by: z.string(),
  /** The person behind the run: who started it, applied the spec whose trigger started it, or pushed its commit. */
  triggered_by: z.string().nullable(),
  started_at: z.number().nullable(),
  finished_at: z.number().nullable(),
  error: z.string().nullable(),
  cancel_requested: z.boolean(),
  lease_owner: z.string().nullable(),
  lease_expires_at: z.number().nullable(),
  tracking_run_id: z.string().nullable(),
  steps: z.array(stepWire).optional(),
});

export const runToWire = (r: PipelineRun & { steps?: StepRun[] }) => ({
  id: r.id,
  project: r.project,
  pipeline: r.pipeline,
  spec_version: r.specVersion,
  status: r.status,
  params: r.params,
  trigger: r.trigger,
  no_cache: r.noCache,
  concurrency: r.concurrency,
  workspace: r.workspace,
  env_digest: r.envDigest,
  commit: r.code?.commit ?? null,
  dirty: r.code ? r.code.dirty : null,
  changed_paths: r.code?.changed ?? [],
  created_at: r.createdAt,
  created_by: r.createdBy,
  triggered_by: r.triggeredBy,
  started_at: r.startedAt,
  finished_at: r.finishedAt,
  error: r.error,
  cancel_requested: r.cancelRequested,
  lease_owner: r.leaseOwner,
  lease_expires_at: r.leaseExpiresAt,
  tracking_run_id: r.trackingRunId,
  ...(r.steps ? { steps: r.steps.map(stepToWire) } : {}),
});

export const logWire = z.object({
  seq: z.number(),
  step: z.string(),
  step_id: z.string(),
  stream: z.string(),
  text: z.string(),
  at: z.number(),
});

export const logToWire = (c: LogChunk & { step: string }) => ({
  seq: c.seq,
  step: c.step,
  step_id: c.stepId,
  stream: c.stream,
  text: c.text,
  at: c.at,
});

const explainedPartWire = z.object({
  name: z.string(),
  digest: z.string(),
  value: z.string(),
  change: z.enum(["same", "changed", "added", "removed"]).nullable(),
  before: z.object({ digest: z.string(), value: z.string() }).nullable(),
});

export const cacheExplanationWire = z.object({
  step: z.string(),
  step_run_id: z.string(),
  key: z.string().nullable(),
  decision: z.enum(["hit", "miss", "off"]).nullable(),
  summary: z.string(),
  parts: z.array(explainedPartWire),
  compared_with: z
    .object({
      run_id: z.string(),
      step_run_id: z.string(),
      created_at: z.number(),
      key: z.string().nullable(),
      status: z.string(),
    })
    .nullable(),
});

export const cacheExplanationToWire = (e: CacheExplanation) => ({
  step: e.step,
  step_run_id: e.stepRunId,
  key: e.key,
  decision: e.decision,
  summary: e.summary,
  parts: e.parts,
  compared_with: e.comparedWith
    ? {
        run_id: e.comparedWith.runId,
        step_run_id: e.comparedWith.stepRunId,
        created_at: e.comparedWith.createdAt,
        key: e.comparedWith.key,
        status: e.comparedWith.status,
      }
    : null,
});
