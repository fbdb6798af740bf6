/**
 * Glossary (DESIGN.md "Run (tracking)"):
 * - Experiment: a named group of runs inside a project. Ids are numeric-looking strings, unique per
 *   project, because MLflow clients expect them; "0" is the experiment "Default", made on first use.
 * - Run: one execution that logs params, metrics, tags and artifacts. A run may have a parent (a
 *   pipeline run is the parent of its step runs; MLflow's nested runs use the same link). Its id is
 *   32 hex characters, unique across projects.
 * - Param: a key with one value, fixed once logged (logging the same value again is allowed).
 * - Metric: a series of (value, step, timestamp) points per key; the latest point (highest step, then
 *   timestamp, then value) is what search and run listings show.
 * - Tag: a key/value that may change; `mlflow.*` tags are MLflow's own (run name, parent, source).
 * - Lifecycle: status RUNNING → FINISHED | FAILED | KILLED (SCHEDULED exists for MLflow clients);
 *   lifecycle stage active ↔ deleted (soft delete; garbage collection frees a deleted run for good).
 * - Artifact: a file under the run's artifact root, `mlflow-artifacts:/<experiment>/<run>/artifacts`;
 *   bytes live in the content-addressed ArtifactStore, the path → sha256 index in the metadata store.
 */

export const RUN_STATUSES = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const LIFECYCLE_STAGES = ["active", "deleted"] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/** Which runs or experiments a search returns, by lifecycle stage (MLflow's ViewType). */
export type ViewType = "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL";

export const DEFAULT_EXPERIMENT_ID = "0";
export const DEFAULT_EXPERIMENT_NAME = "Default";

/** MLflow's own tag keys that Tandem reads. */
export const TAG_RUN_NAME = "mlflow.runName";
export const TAG_PARENT_RUN_ID = "mlflow.parentRunId";
export const TAG_USER = "mlflow.user";

export interface Experiment {
  project: string;
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: LifecycleStage;
  creationTime: number;
  lastUpdateTime: number;
  tags: Record<string, string>;
}

export interface RunInfo {
  runId: string;
  project: string;
  experimentId: string;
  runName: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime: number | null;
  lifecycleStage: LifecycleStage;
  artifactUri: string;
  parentRunId: string | null;
  deletedTime: number | null;
}

export interface MetricPoint {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface DatasetInput {
  dataset: { name: string; digest: string; sourceType: string; source: string; schema?: string; profile?: string };
  tags: Array<{ key: string; value: string }>;
}

export interface Run {
  info: RunInfo;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** The latest point of each metric. */
  metrics: MetricPoint[];
  inputs: DatasetInput[];
}

export interface ArtifactFile {
  /** Path relative to the listed directory's root (MLflow's `path`). */
  path: string;
  isDir: boolean;
  size: number | null;
}

export function artifactRootOf(experimentId: string, runId: string): string {
  return `mlflow-artifacts:/${experimentId}/${runId}/artifacts`;
}

/** A new run's artifact URI: under Tandem's own store by default, else under the experiment's location. */
export function runArtifactUri(experiment: Experiment, runId: string): string {
  return experiment.artifactLocation === `mlflow-artifacts:/${experiment.experimentId}`
    ? artifactRootOf(experiment.experimentId, runId)
    : `${experiment.artifactLocation}/${runId}/artifacts`;
}

/** Latest-point order: step, then timestamp, then value (NaN above every number). */
export function isLaterPoint(a: MetricPoint, b: MetricPoint): boolean {
  if (a.step !== b.step) return a.step > b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp;
  if (Number.isNaN(a.value) || Number.isNaN(b.value)) return Number.isNaN(a.value) && !Number.isNaN(b.value);
  return a.value > b.value;
}
