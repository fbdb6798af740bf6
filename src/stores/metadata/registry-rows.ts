/** Row types of the registry tables (migrations 0400, 0410, 0430) and their mappers to the domain's models. */
import type { Generated } from "kysely";
import type { PolicySpec } from "../../core/registry/policy.js";
import {
  STAGES,
  type Alias,
  type AliasAction,
  type AliasEvent,
  type Approval,
  type ArtifactFormat,
  type Decision,
  type Evaluation,
  type ModelVersion,
  type PromotionRequest,
  type RegisteredModel,
  type RequestStatus,
  type Stage,
} from "../../core/registry/model.js";

export interface RegistryModelRow {
  project: string;
  name: string;
  description: string;
  owner: string;
  tags: string;
  created_at: number;
  updated_at: number;
}

export interface RegistryVersionRow {
  project: string;
  model_name: string;
  version: number;
  description: string;
  intended_use: string;
  artifact_format: string;
  artifact_storage: string;
  artifact_sha256: string;
  artifact_size: number;
  artifact_file: string | null;
  signature: string;
  /** JSON `{"uri", "is_file"}` (migration 0401); null without one. */
  source: string | null;
  source_run_id: string | null;
  author: string;
  /** 0410: `system` when a pipeline step registered it on the author's behalf. */
  via: string | null;
  /** 0410: why the author is the author. */
  author_note: string;
  tags: string;
  stage: string;
  lineage: string;
  created_at: number;
  updated_at: number;
}

export interface RegistryVersionDatasetRow {
  project: string;
  dataset_ref: string;
  model_name: string;
  version: number;
}

export interface RegistryAliasRow {
  project: string;
  model_name: string;
  alias: string;
  version: number;
  updated_at: number;
  updated_by: string;
}

export interface RegistryAliasEventRow {
  seq: Generated<number>;
  project: string;
  model_name: string;
  alias: string;
  action: string;
  from_version: number | null;
  to_version: number | null;
  actor: string;
  at: number;
  decision_id: string | null;
}

export interface RegistryEvaluationRow {
  id: string;
  project: string;
  model_name: string;
  version: number;
  dataset: string;
  metrics: string;
  fairness: string;
  /** 0420: a binary classifier's curves as JSON (ClassifierCurves), or null. */
  curves: string | null;
  run_id: string | null;
  created_by: string;
  created_at: number;
  /** 0410: `pipeline` or `manual`, and for pipeline evidence the run, step and step run. */
  source: string;
  pipeline_run_id: string | null;
  step: string | null;
  step_run_id: string | null;
}

export interface RegistryApprovalRow {
  id: string;
  project: string;
  model_name: string;
  version: number;
  user_name: string;
  role: string;
  decision: string;
  comment: string;
  at: number;
}

export interface RegistryRequestRow {
  id: string;
  project: string;
  model_name: string;
  version: number;
  target_kind: string;
  target_name: string;
  policy: string | null;
  /** 0410: the request's scope as JSON (null for requests made before). */
  scope: string | null;
  status: string;
  requested_by: string;
  created_at: number;
  decided_at: number | null;
  decision_id: string | null;
}

export interface RegistryDecisionRow {
  id: string;
  project: string;
  model_name: string;
  version: number;
  request_id: string | null;
  target_kind: string;
  target_name: string;
  verdict: string;
  checks: string;
  evaluated_by: string;
  at: number;
  /** 0410: `promote` or `rollback`, what the move changed, and the governing policies with reasons (JSON). */
  action: string;
  scope: string;
  governing: string;
}

/** 0430: the highest version number a model name has used (outlives its versions and the model). */
export interface RegistryVersionNumberRow {
  project: string;
  model_name: string;
  last_version: number;
}

export interface RegistryPolicyRow {
  project: string;
  name: string;
  spec: string;
  position: number;
  updated_by: string;
  updated_at: number;
}

declare module "./schema.js" {
  interface Database {
    registry_models: RegistryModelRow;
    registry_versions: RegistryVersionRow;
    registry_version_datasets: RegistryVersionDatasetRow;
    registry_aliases: RegistryAliasRow;
    registry_alias_events: RegistryAliasEventRow;
    registry_evaluations: RegistryEvaluationRow;
    registry_approvals: RegistryApprovalRow;
    registry_requests: RegistryRequestRow;
    registry_decisions: RegistryDecisionRow;
    registry_policies: RegistryPolicyRow;
    registry_version_numbers: RegistryVersionNumberRow;
  }
}

const json = <T>(text: string): T => JSON.parse(text) as T;
const toStage = (s: string): Stage => ((STAGES as readonly string[]).includes(s) ? (s as Stage) : "None");
/** Formats written by this or an earlier release; an unknown one is kept out of serving as `other`. */
const toFormat = (f: string): ArtifactFormat =>
  f === "onnx" || f === "command" || f === "other" || f.startsWith("mlflow/") ? (f as ArtifactFormat) : "other";
const sourceOf = (s: { uri: string; is_file: boolean }): ModelVersion["source"] => ({ uri: s.uri, isFile: s.is_file });
const toTarget = (kind: string, name: string): Decision["target"] =>
  kind === "endpoint"
    ? { kind: "endpoint", name }
    : kind === "stage"
      ? { kind: "stage", name }
      : { kind: "alias", name };

export function toModel(r: RegistryModelRow): RegisteredModel {
  return {
    project: r.project,
    name: r.name,
    description: r.description,
    owner: r.owner,
    tags: json(r.tags),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function fromModel(m: RegisteredModel): RegistryModelRow {
  return {
    project: m.project,
    name: m.name,
    description: m.description,
    owner: m.owner,
    tags: JSON.stringify(m.tags),
    created_at: m.createdAt,
    updated_at: m.updatedAt,
  };
}

export function toVersion(r: RegistryVersionRow): ModelVersion {
  return {
    project: r.project,
    modelName: r.model_name,
    version: r.version,
    description: r.description,
    intendedUse: r.intended_use,
    artifact: {
      format: toFormat(r.artifact_format),
      storage: r.artifact_storage === "tree" ? "tree" : "blob",
      sha256: r.artifact_sha256,
      size: r.artifact_size,
      fileName: r.artifact_file,
    },
    signature: json(r.signature),
    source: r.source ? sourceOf(json(r.source)) : null,
    sourceRunId: r.source_run_id,
    author: r.author,
    via: r.via,
    authorNote: r.author_note,
    tags: json(r.tags),
    stage: toStage(r.stage),
    lineage: json(r.lineage),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function fromVersion(v: ModelVersion): RegistryVersionRow {
  return {
    project: v.project,
    model_name: v.modelName,
    version: v.version,
    description: v.description,
    intended_use: v.intendedUse,
    artifact_format: v.artifact.format,
    artifact_storage: v.artifact.storage,
    artifact_sha256: v.artifact.sha256,
    artifact_size: v.artifact.size,
    artifact_file: v.artifact.fileName,
    signature: JSON.stringify(v.signature),
    source: v.source ? JSON.stringify({ uri: v.source.uri, is_file: v.source.isFile }) : null,
    source_run_id: v.sourceRunId,
    author: v.author,
    via: v.via,
    author_note: v.authorNote,
    tags: JSON.stringify(v.tags),
    stage: v.stage,
    lineage: JSON.stringify(v.lineage),
    created_at: v.createdAt,
    updated_at: v.updatedAt,
  };
}

export function toAlias(r: RegistryAliasRow): Alias {
  return {
    project: r.project,
    modelName: r.model_name,
    alias: r.alias,
    version: r.version,
    updatedAt: r.updated_at,
    updatedBy: r.updated_by,
  };
}

export function toAliasEvent(r: Omit<RegistryAliasEventRow, "seq"> & { seq: number }): AliasEvent {
  return {
    seq: r.seq,
    project: r.project,
    modelName: r.model_name,
    alias: r.alias,
    action: r.action as AliasAction,
    fromVersion: r.from_version,
    toVersion: r.to_version,
    actor: r.actor,
    at: r.at,
    decisionId: r.decision_id,
  };
}

export function toEvaluation(r: RegistryEvaluationRow): Evaluation {
  return {
    id: r.id,
    project: r.project,
    modelName: r.model_name,
    version: r.version,
    dataset: r.dataset,
    metrics: json(r.metrics),
    fairness: json(r.fairness),
    curves: r.curves === null ? null : json(r.curves),
    runId: r.run_id,
    createdBy: r.created_by,
    createdAt: r.created_at,
    source: r.source === "pipeline" ? "pipeline" : "manual",
    pipelineRunId: r.pipeline_run_id,
    step: r.step,
    stepRunId: r.step_run_id,
  };
}

export function toApproval(r: RegistryApprovalRow): Approval {
  return {
    id: r.id,
    project: r.project,
    modelName: r.model_name,
    version: r.version,
    userName: r.user_name,
    role: r.role,
    decision: r.decision === "reject" ? "reject" : "approve",
    comment: r.comment,
    at: r.at,
  };
}

export function toRequest(r: RegistryRequestRow): PromotionRequest {
  return {
    id: r.id,
    project: r.project,
    modelName: r.model_name,
    version: r.version,
    target: toTarget(r.target_kind, r.target_name),
    policy: r.policy,
    scope: r.scope === null ? null : json(r.scope),
    status: r.status as RequestStatus,
    requestedBy: r.requested_by,
    createdAt: r.created_at,
    decidedAt: r.decided_at,
    decisionId: r.decision_id,
  };
}

export function toDecision(r: RegistryDecisionRow): Decision {
  return {
    id: r.id,
    project: r.project,
    modelName: r.model_name,
    version: r.version,
    requestId: r.request_id,
    target: toTarget(r.target_kind, r.target_name),
    verdict: r.verdict as Decision["verdict"],
    checks: json(r.checks),
    evaluatedBy: r.evaluated_by,
    at: r.at,
    action: r.action === "rollback" ? "rollback" : "promote",
    scope: r.scope,
    governing: json(r.governing),
  };
}

export function toPolicies(rows: RegistryPolicyRow[]): Record<string, PolicySpec> {
  const out: Record<string, PolicySpec> = {};
  for (const r of [...rows].sort((a, b) => a.position - b.position)) out[r.name] = json(r.spec);
  return out;
}
