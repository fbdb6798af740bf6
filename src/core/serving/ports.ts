/**
 * What Serving needs from the rest of Tandem, named after the idea. The Registry satisfies
 * `ModelResolver` (see src/wiring/serving.ts); the SQL store satisfies `ServingStore` and
 * `PredictionLogStore`.
 */
import type { Tx } from "../ports.js";
import type { DeploymentCheck } from "../registry/promotion.js";
import type { ModelSignature } from "../training/signature.js";
import type {
  DeploymentOutcome,
  DeploymentRecord,
  Endpoint,
  FeedbackEntry,
  LoggedRequest,
  ModelSelector,
  PredictionLogEntry,
  ServingEvent,
  Slot,
} from "./model.js";

/** A model version as Serving sees it: enough to load and run it. */
export interface ServableVersion {
  model: string;
  version: number;
  /**
   * `onnx` (onnxruntime), `command` (a MODEL.json directory's own process), `mlflow/<flavor>` (an
   * MLflow model directory: `mlflow/onnx` runs in onnxruntime, any other flavor in MLflow's scoring server).
   */
  format: "onnx" | "command" | "prompt" | `mlflow/${string}`;
  /** `blob`: the ONNX file's sha256; `tree`: the sha256 of a directory manifest (MODEL.json or MLmodel). */
  storage: "blob" | "tree";
  sha256: string;
  /** In a tree: the file to load (an MLflow `onnx` flavor's data file); absent otherwise. */
  fileName?: string | null;
  /** The trainer's signature when the model carries one (features, task, classes). */
  signature: ModelSignature | null;
  /** Git commit of the version's lineage, for deployment records. */
  gitCommit: string | null;
  /** What a `prompt` version serves (its messages and parameters), for the runner factory. */
  payload?: unknown;
}

export interface ModelResolver {
  /** Resolves `model@alias` / `model@N`; NotFoundError when either is unknown. */
  resolve(project: string, model: string, selector: ModelSelector, tx?: Tx): Promise<ServableVersion>;
  /**
   * Checks every policy that governs the slot (and the aliases it follows, before and after) before
   * `version` takes it; throws PolicyRefusedError with the decision record as details when they say no.
   */
  checkDeployment(input: DeploymentCheck): Promise<void>;
  /**
   * Moves `alias` back to `version` as a rollback, so alias and traffic agree. The registry decides
   * it (a rollback is a decision: ForbiddenError when the rule refuses); `automatic` is serving's own
   * rollback after an SLO breach.
   */
  rollbackAlias(input: {
    project: string;
    model: string;
    alias: string;
    version: number;
    actor: string;
    role: string | null;
    automatic?: boolean;
    reason: string;
  }): Promise<void>;
  /** A pinned endpoint back to a version it served: the same rollback rule; ForbiddenError when refused. */
  checkEndpointRollback(input: {
    project: string;
    model: string;
    version: number;
    endpoint: string;
    actor: string;
    role: string | null;
  }): Promise<void>;
  /** Moves `alias` to `version` under the policies (promote): PolicyRefusedError when refused or pending. */
  promoteAlias(input: {
    project: string;
    model: string;
    alias: string;
    version: number;
    actor: string;
    policy: string | null;
  }): Promise<void>;
  /** The version `alias` pointed at before its current one (from the alias history), or null. */
  previousAliasVersion(project: string, model: string, alias: string): Promise<number | null>;
}

export interface DeploymentFilter {
  target?: string;
  kind?: "model" | "service";
  /** Newest first (default 100). */
  limit?: number;
}

export interface ServingStore {
  getEndpoint(project: string, name: string, tx?: Tx): Promise<Endpoint | null>;
  listEndpoints(project: string | null, tx?: Tx): Promise<Endpoint[]>;
  insertEndpoint(endpoint: Endpoint, tx: Tx): Promise<void>;
  /** Writes `endpoint` if its stored revision is `expectedRevision`; false when someone else won. */
  updateEndpoint(endpoint: Endpoint, expectedRevision: number, tx: Tx): Promise<boolean>;
  deleteEndpoint(project: string, name: string, tx: Tx): Promise<void>;
  /** Bumps the change counter every serving process polls. Call in the transaction of the change. */
  bumpChangeCounter(tx: Tx): Promise<void>;
  changeCounter(): Promise<number>;

  insertDeployment(record: DeploymentRecord, tx: Tx): Promise<void>;
  finishDeployment(
    id: string,
    outcome: DeploymentOutcome,
    at: number,
    details: Record<string, unknown>,
    tx: Tx,
  ): Promise<void>;
  getDeployment(id: string, tx?: Tx): Promise<DeploymentRecord | null>;
  listDeployments(project: string, filter: DeploymentFilter): Promise<DeploymentRecord[]>;

  insertEvent(event: ServingEvent, tx: Tx): Promise<void>;
  listEvents(project: string, endpoint: string | null, limit: number): Promise<ServingEvent[]>;
}

/** Per-slot request statistics over a window, from the prediction log (all replicas). */
export interface WindowStats {
  slot: Slot;
  version: number;
  requests: number;
  errors: number;
  /** 95th percentile latency in ms (null when no successful requests). */
  p95Ms: number | null;
  /** Successful requests per latency bucket (bounds: LATENCY_BOUNDS_MS, plus one overflow bucket). */
  latencyHist: number[];
}

/** Requests, errors and a latency histogram (bounds: LATENCY_BOUNDS_MS) of one slot, one flush. */
export interface StatsDelta {
  project: string;
  endpoint: string;
  slot: Slot;
  version: number;
  at: number;
  requests: number;
  errors: number;
  /** Counts per bucket of LATENCY_BOUNDS_MS, plus one overflow bucket. */
  latencyHist: number[];
}

export interface PredictionLogStore {
  /** Appends a batch of logged requests (one row per instance) and their aggregates in one transaction. */
  append(requests: LoggedRequest[], stats: StatsDelta[]): Promise<void>;
  /** Stats by slot and version for an endpoint since `since`. */
  windowStats(project: string, endpoint: string, since: number): Promise<WindowStats[]>;
  /** Stores feedback; returns the ids that matched no logged prediction of the endpoint. */
  addFeedback(entries: FeedbackEntry[]): Promise<string[]>;
  /** Drops log rows (and their feedback) older than `before`; returns how many rows went. */
  deleteBefore(before: number): Promise<number>;
  /** For tests and Monitoring: the newest entries of an endpoint. */
  recent(project: string, endpoint: string, limit: number): Promise<PredictionLogEntry[]>;
}

/**
 * Where critical serving events go besides the event table. Monitoring replaces the default (which
 * only keeps the event) with one that raises an alert and fires its webhooks.
 */
export type ServingAlertSink = (event: ServingEvent) => Promise<void> | void;
