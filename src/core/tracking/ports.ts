/**
 * What the tracking domain needs from storage. `SqlTrackingStore` implements it for SQLite and
 * Postgres. Every method takes the transaction it runs in (omit it for a read on its own).
 */
import type { SortKeyValue } from "./run-keyset.js";
import type { AuditEvent } from "../governance/model.js";
import type { Tx } from "../ports.js";
import type { Clause, OrderBy } from "./filter/ast.js";
import type {
  DatasetInput,
  Experiment,
  LifecycleStage,
  MetricPoint,
  Run,
  RunInfo,
  RunStatus,
  ViewType,
} from "./model.js";

export interface RunSearchQuery {
  project: string;
  experimentIds: string[];
  clauses: Clause[];
  orderBy: OrderBy[];
  viewType: ViewType;
  offset: number;
  limit: number;
  /** Only runs that sort after this key (run-keyset.ts): the last run of the previous page. */
  after?: SortKeyValue[];
}

export interface ArtifactRecord {
  /** Full path under the project's artifact space: `<experiment>/<run>/artifacts/<file>`. */
  path: string;
  sha256: string;
  size: number;
  runId: string | null;
  updatedAt: number;
}

/** A log-batch as one statement: distinct param and tag keys, no tag that moves a run column. */
export interface OneStatementLogBatch {
  project: string;
  runId: string;
  params: Array<{ key: string; value: string }>;
  metrics: MetricPoint[];
  tags: Array<{ key: string; value: string }>;
}

export type LogBatchOutcome =
  | { kind: "logged"; auditSeq: number }
  /** The run is missing, elsewhere or not active, or a race needs the general path: nothing written. */
  | { kind: "not-written" }
  /** A param of the batch was logged before with another value: nothing written. */
  | { kind: "param-clash"; key: string; stored: string };

export interface TrackingStore {
  // Experiments
  nextExperimentId(project: string, tx: Tx): Promise<string>;
  insertExperiment(e: Experiment, tx: Tx): Promise<void>;
  /** Inserts unless an experiment with this id exists (used for "Default"). */
  ensureExperiment(e: Experiment, tx?: Tx): Promise<void>;
  getExperiment(project: string, experimentId: string, tx?: Tx): Promise<Experiment | null>;
  getExperimentByName(project: string, name: string, tx?: Tx): Promise<Experiment | null>;
  listExperiments(project: string, viewType: ViewType, tx?: Tx): Promise<Experiment[]>;
  updateExperiment(
    project: string,
    experimentId: string,
    patch: { name?: string; lifecycleStage?: LifecycleStage; lastUpdateTime: number },
    tx: Tx,
  ): Promise<void>;
  setExperimentTag(project: string, experimentId: string, key: string, value: string, tx: Tx): Promise<void>;
  deleteExperimentTag(project: string, experimentId: string, key: string, tx: Tx): Promise<boolean>;

  // Runs
  /**
   * Where a store can (Postgres), run creation as one statement with its audit event, chained by the
   * store at commit (`event` is unchained): the event's seq, or null when the experiment is missing
   * or not active and nothing was written. Undefined where the general path is as cheap (SQLite).
   */
  readonly createRunAudited?: (
    info: RunInfo,
    tags: Array<{ key: string; value: string }>,
    event: Omit<AuditEvent, "seq">,
  ) => Promise<number | null>;
  /** The same for log-batch (see OneStatementLogBatch and LogBatchOutcome). */
  readonly logBatchAudited?: (input: OneStatementLogBatch, event: Omit<AuditEvent, "seq">) => Promise<LogBatchOutcome>;
  insertRun(info: RunInfo, tx: Tx): Promise<void>;
  getRunInfo(runId: string, tx?: Tx): Promise<RunInfo | null>;
  getRuns(runIds: string[], tx?: Tx): Promise<Run[]>;
  updateRun(
    runId: string,
    patch: Partial<Pick<RunInfo, "status" | "endTime" | "runName" | "lifecycleStage" | "deletedTime" | "parentRunId">>,
    tx: Tx,
  ): Promise<void>;
  /** Marks every active run of an experiment deleted (or restores those deleted with it). */
  setExperimentRunsStage(
    project: string,
    experimentId: string,
    stage: LifecycleStage,
    at: number,
    tx: Tx,
  ): Promise<void>;
  /** The params among `keys` already logged for the run, with their values. */
  getParams(runId: string, keys: string[], tx: Tx): Promise<Record<string, string>>;
  /** Inserts the params whose keys the run does not have yet; returns the keys it inserted. */
  insertParams(runId: string, params: Array<{ key: string; value: string }>, tx: Tx): Promise<string[]>;
  setTags(runId: string, tags: Array<{ key: string; value: string }>, tx: Tx): Promise<void>;
  deleteTag(runId: string, key: string, tx: Tx): Promise<boolean>;
  /** Appends points and moves each key's latest point forward where they are later. */
  logMetrics(runId: string, points: MetricPoint[], tx: Tx): Promise<void>;
  metricHistory(runId: string, key: string, offset: number, limit: number, tx?: Tx): Promise<MetricPoint[]>;
  logInputs(runId: string, inputs: DatasetInput[], tx: Tx): Promise<void>;
  /** Run ids matching the query in order (one page). */
  searchRunIds(query: RunSearchQuery, tx?: Tx): Promise<string[]>;
  /** The runs `searchRunIds` finds, whole and in its order (one round trip where the store can). */
  searchRuns(query: RunSearchQuery, tx?: Tx): Promise<Run[]>;
  listChildRuns(parentRunId: string, tx?: Tx): Promise<RunInfo[]>;
  runsWithStatus(project: string, status: RunStatus, tx?: Tx): Promise<RunInfo[]>;

  // Artifacts and garbage collection
  putArtifact(project: string, record: ArtifactRecord, tx: Tx): Promise<void>;
  getArtifact(project: string, path: string, tx?: Tx): Promise<ArtifactRecord | null>;
  /** Files whose path starts with `prefix/` (or all, for an empty prefix), in path order. */
  listArtifacts(project: string, prefix: string, tx?: Tx): Promise<ArtifactRecord[]>;
  /** Removes the file at `path` or every file under `path/`; returns how many. */
  deleteArtifacts(project: string, path: string, tx: Tx): Promise<number>;
  /** Deleted runs whose deletion is older than `before` (ms), at most `limit`. */
  deletedRunsBefore(before: number, limit: number, project?: string, tx?: Tx): Promise<RunInfo[]>;
  /** Removes a run and everything it logged; returns the sha256s its artifacts used. */
  purgeRun(runId: string, tx: Tx): Promise<string[]>;
  /** Of these sha256s, those some artifact row still points at. */
  referencedBlobs(sha256s: string[], tx?: Tx): Promise<Set<string>>;
}
