/**
 * What the pipelines domain needs from the outside: a store for specs, runs, steps, logs, cache and
 * secrets (SqlPipelineStore), an Executor that runs one step somewhere (LocalExecutor, SlurmExecutor,
 * a Kubernetes executor), and optional links to the Data and Tracking areas.
 */
import type { Tx } from "../ports.js";
import type { CacheEntry, LogChunk, PipelineRun, RunStatus, SpecVersion, StepRun } from "./model.js";
import type { ExecutorName, StepExecution } from "./spec/executors.js";
import type { OutputKind } from "./spec/schema.js";

export interface RunListQuery {
  project: string;
  pipeline?: string;
  status?: RunStatus[];
  limit: number;
  /** Runs created before this run's creation (paging). */
  beforeCreatedAt?: number;
}

export interface EncryptedSecret {
  project: string;
  name: string;
  /** base64 of nonce ‖ ciphertext ‖ tag (AES-256-GCM). */
  sealed: string;
  updatedAt: number;
  updatedBy: string;
}

export interface PipelineStore {
  // Spec versions
  /** The applied spec: the newest version without a commit (`withCommits`: the newest of all). */
  latestSpec(project: string, tx?: Tx, options?: { withCommits?: boolean }): Promise<SpecVersion | null>;
  getSpec(project: string, version: number, tx?: Tx): Promise<SpecVersion | null>;
  insertSpec(spec: SpecVersion, tx: Tx): Promise<void>;
  listSpecProjects(tx?: Tx): Promise<string[]>;

  // Runs and steps
  insertRun(run: PipelineRun, steps: StepRun[], tx: Tx): Promise<void>;
  getRun(id: string, tx?: Tx): Promise<PipelineRun | null>;
  listRuns(query: RunListQuery, tx?: Tx): Promise<PipelineRun[]>;
  updateRun(id: string, patch: Partial<PipelineRun>, tx?: Tx): Promise<void>;
  getSteps(runId: string, tx?: Tx): Promise<StepRun[]>;
  /**
   * Runs of step instance `name` in runs of `pipeline` created before `before` that made a cache key,
   * newest first (for cache explanations).
   */
  earlierSteps(q: {
    project: string;
    pipeline: string;
    name: string;
    before: number;
    limit: number;
  }): Promise<Array<{ runId: string; runCreatedAt: number; step: StepRun }>>;
  updateStep(id: string, patch: Partial<StepRun>, tx?: Tx): Promise<void>;
  /**
   * Takes the run's lease when it is free, expired, already `owner`'s, or held by `stale` (an owner
   * known dead). Atomic: of two processes racing, one wins. Returns whether `owner` holds it now.
   */
  claimRun(id: string, owner: string, expiresAt: number, now: number, stale?: string | null): Promise<boolean>;
  /** Extends the lease if `owner` still holds it; false when it was lost. */
  renewRun(id: string, owner: string, expiresAt: number): Promise<boolean>;
  /** Extends the leases of `owner`'s running steps of a run (they live and die with the run's driver). */
  renewSteps(runId: string, owner: string, expiresAt: number): Promise<void>;
  /** Unfinished runs (queued or running), oldest first; the caller decides which are orphaned. */
  unfinishedRuns(limit: number): Promise<PipelineRun[]>;

  // Logs
  appendLogs(runId: string, chunks: Array<Omit<LogChunk, "seq">>): Promise<void>;
  readLogs(runId: string, options: { afterSeq?: number; stepId?: string; limit: number }): Promise<LogChunk[]>;

  // Step cache
  getCache(project: string, key: string): Promise<CacheEntry | null>;
  putCache(entry: CacheEntry): Promise<void>;

  // Secrets (sealed by the service; the store never sees a plaintext)
  getSecret(project: string, name: string, tx?: Tx): Promise<EncryptedSecret | null>;
  putSecret(secret: EncryptedSecret, tx: Tx): Promise<void>;
  deleteSecret(project: string, name: string, tx: Tx): Promise<boolean>;
  listSecrets(project: string, tx?: Tx): Promise<Array<Omit<EncryptedSecret, "sealed">>>;

  // Triggers
  /**
   * Records that an event was handled; false when this key was seen before (one event, one run). Given
   * the run's transaction, the event and its run commit together.
   */
  recordTriggerEvent(project: string, key: string, runId: string | null, at: number, tx?: Tx): Promise<boolean>;
  /** The events whose key starts with `prefix` and ends with `suffix`, with the runs they started. */
  triggerEvents(project: string, prefix: string, suffix: string): Promise<Array<{ key: string; runId: string | null }>>;
  /** Whether recordTriggerEvent saw this key (a cheap check before the work of starting a run). */
  hasTriggerEvent(project: string, key: string): Promise<boolean>;
  getTriggerState(project: string, key: string): Promise<string | null>;
  setTriggerState(project: string, key: string, value: string, at: number): Promise<void>;
}

/** One input to materialise in the step's directory before it starts. */
export interface JobInput {
  /** Path relative to the step's directory, e.g. `_tandem/inputs/table`. */
  path: string;
  manifest: string;
  kind: OutputKind;
}

export interface JobOutput {
  name: string;
  /** Path relative to the step's directory. */
  path: string;
  kind: OutputKind;
}

/** What a step asks of the machine that runs it (`resources:`); executors map it to their own terms. */
export interface StepResources {
  /** CPUs: a number, or Kubernetes' "500m". */
  cpu?: string | number;
  /** Kubernetes-style quantity: 512Mi, 4Gi. */
  memory?: string;
  gpu?: number;
}

export interface StepJob {
  runId: string;
  stepId: string;
  attempt: number;
  /** Names a scheduler shows (Slurm job name, Kubernetes labels). */
  project: string;
  pipeline: string;
  /** The step instance's name (`train[lr=0.1]` for a matrix run). */
  stepName: string;
  /** Where and in what the step runs, resolved from the step and its pipeline. */
  execution: StepExecution;
  resources: StepResources;
  /**
   * A scheduler job this attempt already has (recorded before a server restart): the executor
   * attaches to it and never submits again.
   */
  remoteJob?: string | null;
  /**
   * With `remoteJob`: how many lines of that job's output the step log already holds (delivered by
   * the driver before this one), so an executor whose stream restarts from the beginning (a pod's
   * log) skips them instead of logging them twice (default: none skipped).
   */
  loggedLines?: number;
  /** The step's private directory, from `Executor.workdir`. */
  workdir: string;
  /** The project's source folder, made visible inside the step directory. */
  workspace: string | null;
  script: string;
  inputs: JobInput[];
  outputs: JobOutput[];
  env: Record<string, string>;
  /** A metrics file relative to the step directory, read after exit 0. */
  metricsFile?: string;
  /** (default: none) */
  timeoutMs?: number;
  /**
   * A built-in step: called in-process with the prepared directory instead of spawning `script`;
   * inputs are materialised and outputs collected exactly as for a process.
   */
  inProcess?: (workdir: string, signal: AbortSignal) => Promise<void>;
  /**
   * Aborted to stop the step. Its reason is RELEASED when nobody cancelled but this process stops
   * driving the run (it shuts down, or lost its lease to another server): a remote executor then
   * stops following its job and leaves it running for the driver that takes the run over.
   */
  signal: AbortSignal;
  onOutput(stream: "stdout" | "stderr", text: string): void;
  onStarted?(info: StepProcess): void;
  /** A remote executor's job id, once submitted; stored before the executor waits on it. */
  onSubmitted?(remoteJob: string): Promise<void>;
  /** Why a submitted job is not running yet ("waiting for Slurm: Resources"), or null once it runs. */
  onWaiting?(reason: string | null): void;
}

/** The abort reason of a step's signal when its driver lets the run go instead of cancelling it. */
export const RELEASED = "tandem: the driver lets the run go";

/** Whether a step's signal was aborted to let the run go (not cancelled): see StepJob.signal. */
export const released = (signal: AbortSignal) => signal.aborted && signal.reason === RELEASED;

/** A local step's process: its pid, host and (where /proc tells) its identity `<boot id>:<start time>`. */
export interface StepProcess {
  pid: number;
  host: string;
  startTime: string | null;
}

export type JobOutcome = "succeeded" | "failed" | "timed_out" | "cancelled";

export interface JobResult {
  outcome: JobOutcome;
  exitCode: number | null;
  /** The image id the scheduler ran, for container steps (a tag's resolution, recorded after the step). */
  imageId?: string;
  /** Output name → manifest hash (only when succeeded). */
  outputs: Record<string, string>;
  /** The metrics file's text, if declared and present. */
  metricsText?: string;
  error?: string;
}

/**
 * Runs one step attempt somewhere: LocalExecutor (a child process here), SlurmExecutor (an sbatch
 * job), a Kubernetes executor (a Job); ExecutorSet picks one by the step's `executor:`.
 *
 * The contract, whatever the scheduler:
 * - `run` prepares the attempt's directory (inputs materialised and verified), runs `script` (or
 *   `inProcess`, local only) with `env`, streams its output through `onOutput`, and on exit 0 stores
 *   every declared output and returns their manifests; a missing output fails the attempt.
 * - It never throws for a step's own failure: the outcome says succeeded, failed (with `error`),
 *   timed_out (after `timeoutMs`) or cancelled (when `signal` aborts, the step is stopped first).
 * - A remote executor reports its job id through `onSubmitted` before waiting, and when given
 *   `remoteJob` attaches to that job instead of submitting: a restarted server never runs a step twice.
 * - Secrets in `env` never appear on a command line or in a file other users can read.
 * - Scheduler details (sbatch flags, Job manifests) stay inside the executor.
 */
export interface Executor {
  readonly name: string;
  /** Where a step attempt's private directory is, as the step sees it (on the node, for a remote one). */
  workdir(runId: string, stepId: string, attempt: number, executor?: ExecutorName | null): string;
  run(job: StepJob): Promise<JobResult>;
  /**
   * Optional: makes ready ahead what `run(job)` will start, while the step waits for a free slot of
   * its run (the local executor makes its directory and holds its process in its sandbox), without
   * starting it. `run(job)` follows, or else the function returned, which undoes it.
   */
  prepare?(job: StepJob): () => void;
  /**
   * Optional: the process `prepare` holds for `job`, once it has started, if `run(job)` would let
   * that very process go (else null). The step's running write then records it, instead of a
   * second write when `onStarted` reports the same process.
   */
  heldProcess?(job: StepJob): StepProcess | null;
  /**
   * Kills leftovers of a step whose driver died (a process group on this host), only when the
   * process is still the one recorded (same start time). Says what it did or why it left it alone.
   */
  killOrphan(info: StepProcess): Promise<string>;
  /**
   * Finishes what steps left to do after they ended (removing their directories); the driver awaits
   * it before it ends a run (default: nothing left).
   */
  settle?(): Promise<void>;
}

/** What this server knows of its executors, for `tandem validate`. */
export interface ExecutorCatalog {
  /** The executor of steps that name none (TANDEM_EXECUTOR; default local). */
  readonly defaultExecutor: ExecutorName;
  /**
   * Why steps on `name` cannot work from this server (it is not configured here; its nodes could not
   * reach the server's API or a shared path), or null when they can.
   */
  problem(name: ExecutorName): Promise<string | null>;
}

/**
 * Resolves what built-in steps' `with:` fields name, for their cache keys (the Data, Registry and
 * Serving areas answer; see builtins/contract.ts). Each throws NotFoundError, with a message that
 * says what is missing, when the reference names nothing.
 */
export interface ReferenceResolver {
  /** `rows@latest`, `dataset://rows@3` → that version and its manifest's sha256. */
  dataset(project: string, ref: string): Promise<{ name: string; version: number; manifest: string }>;
  /** `m@champion`, `m@3` → that version and its artifact's sha256. */
  model(project: string, ref: string): Promise<{ name: string; version: number; sha256: string }>;
  /** An endpoint's model and the versions it serves now. */
  endpoint(
    project: string,
    name: string,
  ): Promise<{ model: string; primary: number | null; canary: number | null; shadow: number | null }>;
  /** A policy's definition, as in force for the project. */
  policy(project: string, name: string): Promise<unknown>;
}

/** Finds the interpreters a step would run (LocalEnvironmentProbe asks them their version). */
export interface EnvironmentProbe {
  /** `node` and `python3` on `path` (null: this process's PATH) → their version, or null when absent. */
  interpreters(path: string | null): Promise<Record<string, string | null>>;
}

/** What a run's code is (RunCode): git, read with the git CLI by LocalGit. */
export interface SourceControl {
  /** The repository holding `dir`: its top folder and `dir` inside it (`""` at the top); null outside git. */
  locate(dir: string): Promise<{ root: string; subdir: string } | null>;
  /**
   * The commit `dir` has checked out and its uncommitted changes, repository-relative (tandem.lock
   * and `.tandem/` never count); null outside git or before the first commit.
   */
  describe(
    dir: string,
  ): Promise<{ commit: string; committedAt?: number | null; dirty: boolean; changed: string[] } | null>;
  /**
   * Fetches `commit` from `source` (a repository folder or URL) into a clean folder of its own for
   * run `runId`. Answers the run's workspace there (`subdir` inside the checkout) and the text of
   * `<subdir>/<specFile>` at that commit (null when the commit has none). Rejects with git's
   * message when the commit cannot be fetched.
   */
  checkout(options: {
    source: string;
    commit: string;
    runId: string;
    subdir: string;
    specFile: string;
  }): Promise<{ workspace: string; spec: string | null; committedAt?: number | null }>;
  /** Removes a run's checkout (when the run ends; a retry checks the commit out again). */
  release(runId: string): Promise<void>;
}

/** Resolves `dataset://name@version` (the Data area implements it). */
export interface DatasetResolver {
  resolve(project: string, ref: string): Promise<{ manifest: string; kind: "file" | "dir"; version: string }>;
}

/** A tracking run to create for a pipeline or step run. */
export interface NewTrackingRun {
  project: string;
  name: string;
  parentRunId: string | null;
  user: string;
  tags: Record<string, string>;
  params: Record<string, string>;
}

/** Creates the tracking runs that pipeline and step runs are (the Tracking area implements it). */
export interface TrackingLink {
  createRun(options: NewTrackingRun): Promise<string>;
  logParams(project: string, runId: string, params: Record<string, string>): Promise<void>;
  setTags(project: string, runId: string, tags: Record<string, string>): Promise<void>;
  logMetrics(
    project: string,
    runId: string,
    metrics: Array<{ key: string; value: number; step: number; timestamp: number }>,
  ): Promise<void>;
  /** Sets tags and ends the run in one go (one transaction where the implementation can). */
  finishRun(
    project: string,
    runId: string,
    status: "FINISHED" | "FAILED" | "KILLED",
    endTime: number,
    tags?: Record<string, string>,
  ): Promise<void>;
  /** The ids of `parentRunId`'s child runs that are still RUNNING (a takeover ends a dead driver's). */
  openChildRuns(parentRunId: string): Promise<string[]>;
}

/** One step's entry in tandem.lock: enough to say what produced its outputs. */
export interface LockStep {
  cmd: string;
  cache_key: string | null;
  params: Record<string, unknown>;
  deps: Record<string, { source: string; sha256: string }>;
  outs: Record<string, string>;
  metrics?: Record<string, number>;
}

/** The project folder on the machine driving a run (LocalWorkspace implements it). */
export interface WorkspaceAccess {
  /** Stores a file or directory inside the workspace and returns its manifest hash and kind. */
  hashPath(workspace: string, relativePath: string): Promise<{ manifest: string; kind: "file" | "dir" }>;
  /** The lockfiles found in the workspace (package-lock.json, requirements*.txt, …) → sha256 of each. */
  lockfiles(workspace: string): Promise<Record<string, string>>;
  /** Whether a relative path is a file or a folder inside the workspace (null: absent or outside it). */
  entryKind(workspace: string, relativePath: string): Promise<"file" | "dir" | null>;
  /**
   * The project folder's files as a `run:` step may read them: a digest over every file's path and
   * content, and a short description (`commit 1a2b3c4, 120 files, 2 uncommitted`). In git, the
   * files git tracks or would (ignored ones are not code), each by its blob id; elsewhere every
   * file. Tandem's own files (tandem.lock, .tandem/, the top tandem.yaml, whose steps are keyed by
   * their definitions) are left out.
   */
  checkoutDigest(workspace: string): Promise<{ digest: string; value: string }>;
  /** The files a glob matches (`cache: { files }`), sorted, and a sha256 over their paths and contents. */
  hashGlob(workspace: string, glob: string): Promise<{ digest: string; files: string[] }>;
  /** Updates one pipeline's section of `<workspace>/tandem.lock`. */
  writeLock(
    workspace: string,
    pipeline: string,
    lock: { spec_digest: string; params: Record<string, unknown>; steps: Record<string, LockStep> },
  ): Promise<void>;
}
