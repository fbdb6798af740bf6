/**
 * What the registry needs from the outside: its own store, the project's policies, and the run
 * records of tracking and pipelines (for lineage).
 *
 * ## The lineage tag contract (runs → registry)
 * Lineage is read from run tags, so any area (or a user's own MLflow code) can provide it:
 * - `tandem.pipeline_run_id` — on a step run: the pipeline run it belongs to (MLflow's
 *   `mlflow.parentRunId` is accepted as well).
 * - `tandem.pipeline` / `tandem.step` — the pipeline and step names (shown in the graph).
 * - `tandem.dataset_versions` — the dataset versions the run read: a JSON array (`["flights@3"]`)
 *   or a comma-separated list; `name@N` or `name@sha256:…`.
 * - `tandem.git_commit` — the commit the run's code came from (`mlflow.source.git.commit` too).
 * - `tandem.env_digest` — the environment digest (image or lockfile hash) the step ran in.
 * A version's lineage is the union over its source run, that run's pipeline run, and the pipeline
 * run's steps (so a `train` step that did not read a dataset itself still leads to the dataset
 * its `prepare` step read).
 */
import type { Tx } from "../ports.js";
import type { PolicySpec } from "./policy.js";
import type { PersonBehind } from "../pipelines/person.js";
import type { CanaryStats } from "./policy-approvals.js";
import type { EndpointSlot } from "./policy-scope.js";
import type {
  Alias,
  AliasEvent,
  Approval,
  Decision,
  Evaluation,
  ModelVersion,
  PromotionRequest,
  RegisteredModel,
  RequestStatus,
} from "./model.js";

export const LINEAGE_TAGS = {
  pipelineRunId: "tandem.pipeline_run_id",
  pipeline: "tandem.pipeline",
  step: "tandem.step",
  datasetVersions: "tandem.dataset_versions",
  gitCommit: "tandem.git_commit",
  /** JSON list of the paths that differed from the commit (absent: a clean tree). */
  gitDirty: "tandem.git_dirty",
  envDigest: "tandem.env_digest",
  /** JSON object of the environment's parts: interpreter versions, lockfile hashes, image (and its id). */
  envParts: "tandem.env_parts",
  /** MLflow's own names, read as fallbacks. */
  mlflowParentRunId: "mlflow.parentRunId",
  mlflowGitCommit: "mlflow.source.git.commit",
} as const;

/** A run as lineage sees it (a tracking run, a step run or a pipeline run: one notion of run). */
export interface LineageRun {
  id: string;
  name: string;
  status: string;
  params: Record<string, string>;
  /** Latest value of each metric. */
  metrics: Record<string, number>;
  tags: Record<string, string>;
  parentRunId: string | null;
  startedAt: number | null;
  endedAt: number | null;
}

/** Run records of tracking and pipelines. Tracking's service satisfies it (see wiring). */
export interface LineageSource {
  getRun(project: string, runId: string): Promise<LineageRun | null>;
  /** Runs whose parent is `runId` (a pipeline run's step runs). */
  childRuns(project: string, runId: string): Promise<LineageRun[]>;
  /**
   * Records a run for a registration made without one, so lineage is never empty. Returns its id.
   * The run carries `tags` and is finished at once.
   */
  createRegistrationRun(
    project: string,
    input: { name: string; actor: string; tags: Record<string, string> },
  ): Promise<string>;
}

/** The project's policies in force (an admin's `tandem apply` or PUT /policies stores them). */
export interface PolicySource {
  policies(project: string): Promise<Record<string, PolicySpec>>;
}

/** What Serving knows that the policies need. Serving's endpoint store satisfies it (see wiring). */
/** An endpoint slot and the version it serves (`pinned`: its selector names the version). */
export interface ServedSlot {
  endpoint: string;
  slot: "primary" | "canary" | "shadow";
  version: number;
}

export interface ServingFacts {
  /** Endpoint slots of `model` that follow `alias`: moving the alias moves their traffic. */
  followers(project: string, model: string, alias: string): Promise<EndpointSlot[]>;
  /** Every endpoint slot of `model` with the version it serves or is pinned to (a model is served by name and number). */
  servedBy(project: string, model: string): Promise<ServedSlot[]>;
  /** What serving recorded of `model@version` as `endpoint`'s canary, over all its time there. */
  canaryStats(project: string, endpoint: string, model: string, version: number): Promise<CanaryStats>;
}

/** A tracking run that is a pipeline step's run, as the pipelines' own records say (tags can be forged). */
export interface StepOfRun {
  pipelineRunId: string;
  step: string;
  stepRunId: string;
  /** Metrics the engine recorded for the step while it ran (its metrics file or built-in result). */
  metrics: Record<string, number>;
  /**
   * The built-in the step ran (`tandem/evaluate`), as the run's spec says; null for a `run:` step,
   * whose metrics file the project's own code wrote.
   */
  uses: string | null;
}

/** The person behind a pipeline run (null: nobody known, e.g. an unmapped git pusher) and why. */
export type { PersonBehind };

/** Pipelines' records as the registry needs them (see wiring). */
export interface PipelineFacts {
  stepOfRun(project: string, trackingRunId: string): Promise<StepOfRun | null>;
  personBehind(project: string, pipelineRunId: string): Promise<PersonBehind | null>;
}

export interface ModelQuery {
  /** SQL LIKE pattern on the name (`%` and `_`), case-sensitive. */
  nameLike?: string;
  /** Every tag must match exactly. */
  tags?: Record<string, string>;
  limit: number;
  offset: number;
  orderBy?: "name" | "created_at" | "updated_at";
  descending?: boolean;
}

export interface VersionQuery {
  modelName?: string;
  runId?: string;
  limit: number;
  offset: number;
}

export interface RegistryStore {
  getModel(project: string, name: string, tx?: Tx): Promise<RegisteredModel | null>;
  /** Inserts unless it exists; true when this call made it. */
  insertModel(m: RegisteredModel, tx?: Tx): Promise<boolean>;
  updateModel(m: RegisteredModel, tx?: Tx): Promise<void>;
  /** Takes the model row's write lock for the rest of `tx` (serialises version numbering, alias moves). */
  lockModel(project: string, name: string, tx: Tx): Promise<void>;
  /** Moves the model's records to `to`; `to` keeps numbering after every number either name used. */
  renameModel(project: string, from: string, to: string, tx: Tx): Promise<void>;
  /** Removes the model's records, but not the numbers its name used (see `nextVersionNumber`). */
  deleteModel(project: string, name: string, tx: Tx): Promise<void>;
  listModels(project: string, q: ModelQuery, tx?: Tx): Promise<{ models: RegisteredModel[]; total: number }>;

  getVersion(project: string, name: string, version: number, tx?: Tx): Promise<ModelVersion | null>;
  latestVersion(project: string, name: string, tx?: Tx): Promise<ModelVersion | null>;
  /**
   * The number the next version of `name` gets: above every number the name ever used, also by a
   * version (or a model of that name) deleted since. Approvals, evaluations, decisions, alias history
   * and endpoints keep versions by number; a reused number would hand them to another file.
   */
  nextVersionNumber(project: string, name: string, tx: Tx): Promise<number>;
  /** Inserts the version and records its number as used (`nextVersionNumber`). */
  insertVersion(v: ModelVersion, tx: Tx): Promise<void>;
  /** Updates only the mutable fields: description, tags, stage, updated_at. */
  updateVersionMeta(v: ModelVersion, tx?: Tx): Promise<void>;
  deleteVersion(project: string, name: string, version: number, tx: Tx): Promise<void>;
  listVersions(project: string, q: VersionQuery, tx?: Tx): Promise<ModelVersion[]>;
  /** Versions whose lineage includes this dataset version, newest first. */
  versionsByDataset(project: string, datasetRef: string, tx?: Tx): Promise<ModelVersion[]>;

  getAlias(project: string, name: string, alias: string, tx?: Tx): Promise<Alias | null>;
  listAliases(project: string, name: string, tx?: Tx): Promise<Alias[]>;
  putAlias(a: Alias, tx: Tx): Promise<void>;
  deleteAlias(project: string, name: string, alias: string, tx: Tx): Promise<void>;
  appendAliasEvent(e: Omit<AliasEvent, "seq">, tx: Tx): Promise<void>;
  /** Oldest first; optionally one alias. */
  aliasHistory(project: string, name: string, alias: string | null, tx?: Tx): Promise<AliasEvent[]>;

  insertEvaluation(e: Evaluation, tx: Tx): Promise<void>;
  /** Newest first. */
  listEvaluations(project: string, name: string, version: number, tx?: Tx): Promise<Evaluation[]>;

  insertApproval(a: Approval, tx: Tx): Promise<void>;
  listApprovals(project: string, name: string, version: number, tx?: Tx): Promise<Approval[]>;

  insertRequest(r: PromotionRequest, tx: Tx): Promise<void>;
  updateRequest(
    id: string,
    patch: { status: RequestStatus; decidedAt: number | null; decisionId: string | null },
    tx: Tx,
  ): Promise<void>;
  getRequest(id: string, tx?: Tx): Promise<PromotionRequest | null>;
  listRequests(
    project: string,
    filter: { modelName?: string; version?: number; status?: RequestStatus },
    tx?: Tx,
  ): Promise<PromotionRequest[]>;

  insertDecision(d: Decision, tx: Tx): Promise<void>;
  getDecision(id: string, tx?: Tx): Promise<Decision | null>;
  /** Newest first. */
  listDecisions(project: string, name: string, version: number, tx?: Tx): Promise<Decision[]>;

  getPolicies(project: string, tx?: Tx): Promise<Record<string, PolicySpec>>;
  replacePolicies(
    project: string,
    policies: Record<string, PolicySpec>,
    actor: string,
    at: number,
    tx: Tx,
  ): Promise<void>;
}
