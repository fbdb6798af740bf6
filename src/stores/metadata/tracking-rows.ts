/** Row types of the tracking tables (migration 0300) and their mappers to the domain's models. */
import type {
  DatasetInput,
  Experiment,
  LifecycleStage,
  MetricPoint,
  RunInfo,
  RunStatus,
} from "../../core/tracking/model.js";

export interface TrackingExperimentRow {
  project: string;
  experiment_id: string;
  seq: number;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
}

export interface TrackingExperimentTagRow {
  project: string;
  experiment_id: string;
  key: string;
  value: string;
}

export interface TrackingRunRow {
  run_id: string;
  project: string;
  experiment_id: string;
  run_name: string;
  user_id: string;
  status: string;
  start_time: number;
  end_time: number | null;
  lifecycle_stage: string;
  artifact_uri: string;
  parent_run_id: string | null;
  deleted_time: number | null;
}

export interface TrackingKeyValueRow {
  run_id: string;
  key: string;
  value: string;
}

export interface TrackingMetricRow {
  run_id: string;
  key: string;
  value: number | null;
  is_nan: number;
  step: number;
  timestamp: number;
}

export interface TrackingInputRow {
  run_id: string;
  name: string;
  digest: string;
  payload: string;
}

export interface TrackingArtifactRow {
  project: string;
  path: string;
  sha256: string;
  size: number;
  run_id: string | null;
  updated_at: number;
}

declare module "./schema.js" {
  interface Database {
    tracking_experiments: TrackingExperimentRow;
    tracking_experiment_tags: TrackingExperimentTagRow;
    tracking_runs: TrackingRunRow;
    tracking_params: TrackingKeyValueRow;
    tracking_tags: TrackingKeyValueRow;
    tracking_metrics: TrackingMetricRow;
    tracking_latest_metrics: TrackingMetricRow;
    tracking_inputs: TrackingInputRow;
    tracking_artifacts: TrackingArtifactRow;
  }
}

export function toExperiment(row: TrackingExperimentRow, tags: Record<string, string>): Experiment {
  return {
    project: row.project,
    experimentId: row.experiment_id,
    name: row.name,
    artifactLocation: row.artifact_location,
    lifecycleStage: row.lifecycle_stage as LifecycleStage,
    creationTime: Number(row.creation_time),
    lastUpdateTime: Number(row.last_update_time),
    tags,
  };
}

export function toRunInfo(row: TrackingRunRow): RunInfo {
  return {
    runId: row.run_id,
    project: row.project,
    experimentId: row.experiment_id,
    runName: row.run_name,
    userId: row.user_id,
    status: row.status as RunStatus,
    startTime: Number(row.start_time),
    endTime: row.end_time === null ? null : Number(row.end_time),
    lifecycleStage: row.lifecycle_stage as LifecycleStage,
    artifactUri: row.artifact_uri,
    parentRunId: row.parent_run_id,
    deletedTime: row.deleted_time === null ? null : Number(row.deleted_time),
  };
}

export function fromRunInfo(info: RunInfo): TrackingRunRow {
  return {
    run_id: info.runId,
    project: info.project,
    experiment_id: info.experimentId,
    run_name: info.runName,
    user_id: info.userId,
    status: info.status,
    start_time: info.startTime,
    end_time: info.endTime,
    lifecycle_stage: info.lifecycleStage,
    artifact_uri: info.artifactUri,
    parent_run_id: info.parentRunId,
    deleted_time: info.deletedTime,
  };
}

export function toPoint(row: Pick<TrackingMetricRow, "key" | "value" | "is_nan" | "step" | "timestamp">): MetricPoint {
  return {
    key: row.key,
    value: row.is_nan ? Number.NaN : Number(row.value),
    step: Number(row.step),
    timestamp: Number(row.timestamp),
  };
}

export function fromPoint(runId: string, p: MetricPoint): TrackingMetricRow {
  const nan = Number.isNaN(p.value);
  return {
    run_id: runId,
    key: p.key,
    value: nan ? null : p.value,
    is_nan: nan ? 1 : 0,
    step: p.step,
    timestamp: p.timestamp,
  };
}

export function toDatasetInput(row: TrackingInputRow): DatasetInput {
  return JSON.parse(row.payload) as DatasetInput;
}
