/**
 * Glossary (DESIGN.md "Pipeline"):
 * - Spec version: a stored copy of a project's tandem.yaml (`tandem apply`); every run names the
 *   version it ran, so a resumed or retried run executes exactly the same spec.
 * - Pipeline run: one execution of a pipeline's DAG. It is the parent tracking run of its steps.
 * - Step run: one execution of one step (one per matrix combination: `train[lr=0.1]`). It records
 *   its inputs (manifest hashes), command, environment digest, outputs, logs, metrics and whether it
 *   was served from cache. It is a child tracking run.
 * - Cache key: sha256 over named parts — the step definition, its resolved command, the params it
 *   references, its inputs' content hashes, every reference of a built-in step's `with:` resolved
 *   to a digest (dataset version, project file, model version, endpoint, policy), `cache.files`
 *   globs and the environment (lockfiles, interpreter versions, image). Equal key → the outputs are
 *   reused (a cache hit). The parts are kept on the step run, so a miss can say which part changed.
 * - Resolved reference: what a `with:` field named (`rows@latest`) and what it was when the key was
 *   made (`rows@3`, its manifest digest), or `none` when it names nothing yet. The step then runs
 *   on exactly that version.
 * - Environment: the lockfiles found in the workspace, the interpreter versions on the step's PATH
 *   (`node`, `python3`, probed once per run) and a container image reference; its digest is a key
 *   part, and the image id an executor reports is added after the step.
 * - Code: the commit a run's source came from, whether the tree was dirty (and which paths), or
 *   `commit: null` outside git. A run started by a push or `--at` runs a clean checkout.
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
  /**
   * The commit this text was read from, for a run of that commit (push, poll, `--at`); null when
   * applied. Only applied versions are the project's spec: their triggers fire, their applier is
   * behind their schedules.
   */
  commit: string | null;
}

export interface TriggerInfo {
  kind: TriggerKind;
  /** Schedule cron, git branch, dataset or alert name. */
  name?: string;
  /** Kind-specific facts: commit, dataset version, alert payload summary, previous run id… */
  [key: string]: unknown;
}

/** Where a run's source came from (see the glossary's "Code"). */
export interface RunCode {
  /** The commit, or null outside git. */
  commit: string | null;
  /**
   * When the commit was made (committer date, ms): where DORA's change lead time starts. Absent for
   * runs recorded before it was kept.
   */
  committedAt?: number | null;
  /** Uncommitted changes in the workspace (never true for a checkout). */
  dirty: boolean;
  /** Changed paths relative to the repository root (tandem.lock and .tandem/ never count). */
  changed: string[];
  /** Set for runs of a commit (push, poll, `--at`): the source to fetch from and tandem.yaml's folder in it. */
  checkout: { source: string; subdir: string } | null;
  /** Why the commit could not be fetched or its spec not used: the run's first step fails with it. */
  error?: string;
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
  /** The commit and tree state the run's code came from; null when unknown (runs before this was kept). */
  code: RunCode | null;
  createdAt: number;
  /** Who the run acts as: the user who started it, or `system` for a trigger. */
  createdBy: string;
  /**
   * The person behind the run: who started it by hand, applied the spec whose schedule, data or alert
   * trigger started it, or pushed its commit (a mapped git identity). Null when nobody is known (an
   * unmapped pusher). Versions it registers carry this person as author, so they cannot approve them.
   */
  triggeredBy: string | null;
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

export const REFERENCE_KINDS = ["dataset", "model", "file", "endpoint", "policy"] as const;
export type ReferenceKind = (typeof REFERENCE_KINDS)[number];

/** A `with:` field of a built-in step resolved when its key was made (see the glossary). */
export interface ResolvedReference {
  /** The field, e.g. `dataset`, `compare[0]`. */
  field: string;
  kind: ReferenceKind;
  /** As written, expressions substituted: `rows@latest`. */
  ref: string;
  /** What it named then: `rows@3`, `m@5`, the file's path; null when it named nothing (`none`). */
  resolved: string | null;
  /** `sha256:…` of the version's manifest, artifact, file or definition; null for none. */
  digest: string | null;
}

/** One named part of a cache key. */
export interface CachePart {
  /** `definition`, `command`, `param learning_rate`, `input raw`, `with.dataset`, `environment python3`… */
  name: string;
  /** sha256 of the part's value (hex). */
  digest: string;
  /** A short readable form of the value (a version, a file's source, a param value). */
  value: string;
}

export interface StepCacheInfo {
  parts: CachePart[];
  /** hit: outputs reused; miss: ran; off: `cache: false` or `--no-cache`. */
  decision: "hit" | "miss" | "off";
  /** Why, when the key alone does not say (outputs gone from the artifact store, caching off). */
  reason: string | null;
  /** For a hit: the step run whose outputs were reused. */
  source: string | null;
}

/** The environment a step ran in; its digest is part of the cache key. */
export interface StepEnvironment {
  digest: string;
  /** Lockfile name → sha256 of its content. */
  lockfiles: Record<string, string>;
  /** `node`, `python3` → the version on the step's PATH, or null when absent. */
  interpreters: Record<string, string | null>;
  /** The container image reference as written. */
  image: string | null;
  /** The image id the executor reported after the step (a tag's resolution). */
  imageId: string | null;
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
  /** The built-in step's `with:` references, as resolved for the key. */
  references: ResolvedReference[];
  /** The key's parts and the cache's decision (null until the key is made). */
  cacheInfo: StepCacheInfo | null;
  environment: StepEnvironment | null;
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
  /** The executor that ran the step's last attempt (local, slurm, kubernetes; null before it starts). */
  executor: string | null;
  /** A remote step's scheduler job (Slurm job id, Kubernetes Job name), for reattaching after a restart. */
  remoteJob: string | null;
  /** Why a submitted step is not running yet ("waiting for Slurm: Resources"); null otherwise. */
  waiting: string | null;
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
