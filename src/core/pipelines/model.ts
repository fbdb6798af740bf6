/**
 * Glossary (DESIGN.md "Pipeline"):
 * - Spec version: a stored copy of a project's tandem.yaml (`tandem apply`); every run names the
 *   version it ran, so a resumed or retried run executes exactly the same spec.
 * - Pipeline run: one execution of a pipeline's DAG. It is the parent tracking run of its steps.
 * - Step run: one execution of one step (one per matrix combination: `train[lr=0.1]`). It records
 *   its inputs (manifest hashes), command, environment digest, outputs, logs, metrics and whether it
 *   was served from cache. It is a child tracking run.
 * - Cache key: sha256 over the resolved command, the params it references, its inputs' hashes, the
 *   environment digest and the step definition. Equal key → the outputs are reused (a cache hit).
 * - Lease: `owner` + `expires_at` on a run being driven. The owner renews it while it works; when a
 *   process dies its lease expires and another process takes the run over, rerunning only the steps
 *   that had not finished.
 * - Workspace: the folder holding tandem.yaml, where steps find the project's source. Local and
 *   embedded runs use it in place; it is recorded on the run so a remote worker can later use a
 *   source snapshot instead.
 */
import type { Scalar } from "./spec/names.js";
import type { OutputKind } from "./spec/schema.js";

export const RUN_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const STEP_STATUSES = ["pending", "running", "succeeded", "failed", "cancelled", "skipped"] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const TRIGGER_KINDS = ["manual", "schedule", "git", "data", "alert", "retry"] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

export function isTerminalRun(s: RunStatus): boolean {
  switch (s) {
    case "queued":
    case "running":
      return false;
    case "succeeded":
    case "failed":
    case "cancelled":
      return true;
  }
}

export function isTerminalStep(s: StepStatus): boolean {
  switch (s) {
    case "pending":
    case "running":
      return false;
    case "succeeded":
    case "failed":
    case "cancelled":
    case "skipped":
      return true;
  }
}

export interface SpecVersion {
  project: string;
  version: number;
  /** sha256 of the source text. */
  digest: string;
  source: string;
  /** The file it came from, as the client named it (for error messages). */
  file: string;
  /** Where tandem.yaml was on the machine that applied it: runs started by triggers use this folder. */
  workspace: string | null;
  createdAt: number;
  createdBy: string;
}

export interface TriggerInfo {
  kind: TriggerKind;
  /** Schedule cron, git branch, dataset or alert name. */
  name?: string;
  /** Kind-specific facts: commit, dataset version, alert payload summary, previous run id… */
  [key: string]: unknown;
}

export interface PipelineRun {
  id: string;
  project: string;
  pipeline: string;
  specVersion: number;
  status: RunStatus;
  params: Record<string, Scalar>;
  trigger: TriggerInfo;
  noCache: boolean;
  /** Parallel steps (default: the server's cores). */
  concurrency: number;
  /** Absolute path of the folder with tandem.yaml on the machine that drives the run. */
  workspace: string | null;
  /** sha256 of the workspace's lockfiles (package-lock.json, requirements.txt, …). */
  envDigest: string | null;
  createdAt: number;
  createdBy: string;
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
  cancelRequested: boolean;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  trackingRunId: string | null;
}

export interface InputRecord {
  manifest: string;
  kind: OutputKind;
  /** Where it came from: `steps.prepare.outputs.table`, `dataset://flights@3`, `src/`. */
  source: string;
}

export interface StepRun {
  id: string;
  runId: string;
  /** Instance name: the step name, with its matrix values for a fan-out (`train[lr=0.1]`). */
  name: string;
  /** The step's name in the spec. */
  step: string;
  matrix: Record<string, Scalar> | null;
  /** Instance names this one waits for. */
  needs: string[];
  status: StepStatus;
  cached: boolean;
  cacheKey: string | null;
  attempt: number;
  startedAt: number | null;
  finishedAt: number | null;
  exitCode: number | null;
  error: string | null;
  /** The resolved command (secrets masked). */
  command: string | null;
  inputs: Record<string, InputRecord>;
  /** Output name → manifest hash. */
  outputs: Record<string, string>;
  metrics: Record<string, number>;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  /** Process group of a running local step and its host, so a takeover can kill leftovers. */
  pid: number | null;
  host: string | null;
  /**
   * Which process `pid` was: `<boot id>:<start time>` from /proc, so a takeover kills that process
   * and never a stranger that reuses its pid after a reboot or a wrap-around (null: not known).
   */
  pidStart: string | null;
  trackingRunId: string | null;
  /** Order in the spec (for stable listings). */
  seq: number;
}

export interface LogChunk {
  seq: number;
  stepId: string;
  stream: "stdout" | "stderr" | "system";
  text: string;
  at: number;
}

export interface CacheEntry {
  project: string;
  key: string;
  outputs: Record<string, string>;
  metrics: Record<string, number>;
  stepRunId: string;
  createdAt: number;
}
