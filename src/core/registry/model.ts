/**
 * Glossary (DESIGN.md "Model / model version", "Policy"):
 * - Registered model: a name in a project with a description, tags and an owner; holds versions.
 * - Model version: `name@N`, immutable once made. Its artifact is content-addressed: an ONNX file is
 *   one blob (its sha256), a command-served model is a directory tree with a `MODEL.json` (the sha256
 *   of its manifest). It records its signature, its source run and its author (who registered it).
 * - Alias: a movable name (`champion`, `challenger`, …) pointing at one version. Every set, move,
 *   delete and rollback appends an alias event, so the history is never lost.
 * - Reference: `name@N`, `name@latest`, `name@<alias>` (or a bare `name`, meaning latest).
 * - Evaluation: metrics (and fairness results by group) of one version on one dataset version —
 *   what policies compare ("beats champion" compares two versions on the same dataset).
 * - Promotion request: "give version V the alias A" (or "deploy V to endpoint E"). Policies decide
 *   it; with human approvals outstanding it stays `pending` until they arrive.
 * - Decision record: one evaluation of the policies for a request: every check, the value found,
 *   the threshold, pass/fail/pending. Stored for every evaluation, passed or not.
 * - Approval: an approver's `approve` or `reject` of a version, with a comment. The version's
 *   author can never approve it.
 */
import type { ModelSignature } from "../training/signature.js";

/** One graph input or output; `null` in a shape is a dynamic axis. Types use onnxruntime names (float32, int64, …). */
export interface TensorInfo {
  name: string;
  type: string;
  shape: (number | null)[];
}

/** MLflow's (deprecated) stages, kept so the MLflow registry API can map onto versions. */
export const STAGES = ["None", "Staging", "Production", "Archived"] as const;
export type Stage = (typeof STAGES)[number];

export interface RegisteredModel {
  project: string;
  name: string;
  description: string;
  owner: string;
  tags: Record<string, string>;
  createdAt: number;
  updatedAt: number;
}

/**
 * `onnx`: one ONNX file served by onnxruntime. `command`: a directory with MODEL.json, served by its
 * command. `mlflow/<flavor>`: an MLflow model directory (MLmodel), as MLflow wrote it (its `onnx`
 * flavor is served by onnxruntime, any other by MLflow's scoring server). `other`: any other file or
 * directory: kept, versioned and downloadable, but not servable.
 */
export type ArtifactFormat = "onnx" | "command" | "other" | `mlflow/${string}`;

/** Whether an endpoint can serve this format. */
export const isServableFormat = (format: ArtifactFormat): boolean => format !== "other";

export interface VersionArtifact {
  format: ArtifactFormat;
  /** `blob`: sha256 names the file itself; `tree`: sha256 names a manifest (see core/artifacts). */
  storage: "blob" | "tree";
  sha256: string;
  /** Total bytes. */
  size: number;
  /**
   * File name of a blob artifact (e.g. `model.onnx`). For a tree, the file served from it (an MLflow
   * `onnx` flavor's data file), else null.
   */
  fileName: string | null;
}

/**
 * What goes in and out. `source` says where it was read: the trainer's embedded `tandem.signature`
 * (full: features, task, classes), the ONNX graph's inputs/outputs alone, MODEL.json, or an MLflow
 * model's MLmodel.
 */
export interface VersionSignature {
  source: "metadata" | "graph" | "manifest" | "mlmodel" | "none";
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** The full trainer signature when the model carried one (for MLmodel: the one derived for serving). */
  model?: ModelSignature;
  /** An MLflow signature's inference params (name, type, default). */
  params?: Array<{ name: string; type: string; default?: unknown }>;
}

/** Lineage facts captured when the version was registered (so the reverse lookup is one query). */
export interface LineageSnapshot {
  pipelineRunId: string | null;
  datasetVersions: string[];
  gitCommit: string | null;
  /** The run's environment digest, combined with the model's own requirement files when it has any. */
  envDigest: string | null;
  /** An MLflow model's environment files (`requirements.txt`, `conda.yaml`, …) → sha256. */
  requirements?: Record<string, string>;
}

export interface ModelVersion {
  project: string;
  modelName: string;
  version: number;
  description: string;
  /** What the model is for and not for (the model card's "intended use"). */
  intendedUse: string;
  artifact: VersionArtifact;
  signature: VersionSignature;
  /** What it was registered from, as an MLflow client named it (`runs:/…/model`); null when not given. */
  source: { uri: string; isFile: boolean } | null;
  sourceRunId: string | null;
  /** Who registered it; may never approve it. */
  author: string;
  tags: Record<string, string>;
  stage: Stage;
  lineage: LineageSnapshot;
  createdAt: number;
  updatedAt: number;
}

export interface Alias {
  project: string;
  modelName: string;
  alias: string;
  version: number;
  updatedAt: number;
  updatedBy: string;
}

export type AliasAction = "set" | "move" | "delete" | "rollback";

export interface AliasEvent {
  seq: number;
  project: string;
  modelName: string;
  alias: string;
  action: AliasAction;
  fromVersion: number | null;
  toVersion: number | null;
  actor: string;
  at: number;
  /** The decision that allowed it (null for delete and rollback). */
  decisionId: string | null;
}

export interface Evaluation {
  id: string;
  project: string;
  modelName: string;
  version: number;
  /** The evaluation data, e.g. `flights@3` (what "beats" matches on). */
  dataset: string;
  metrics: Record<string, number>;
  /** attribute → metric (e.g. `equal_opportunity_difference`) → value, plus `by_group` details. */
  fairness: Record<string, FairnessResult>;
  runId: string | null;
  createdBy: string;
  createdAt: number;
}

export interface FairnessResult {
  metrics: Record<string, number>;
  /** group value → metric → value (selection_rate, accuracy, …). */
  byGroup: Record<string, Record<string, number>>;
}

export type PromotionTarget = { kind: "alias"; name: string } | { kind: "endpoint"; name: string };

export type RequestStatus = "pending" | "applied" | "refused" | "rejected" | "superseded";

export interface PromotionRequest {
  id: string;
  project: string;
  modelName: string;
  version: number;
  target: PromotionTarget;
  /** Policy named by the requester (null: the project's policies in scope). */
  policy: string | null;
  status: RequestStatus;
  requestedBy: string;
  createdAt: number;
  decidedAt: number | null;
  decisionId: string | null;
}

export type CheckKind = "metric" | "fairness" | "beats" | "approvals" | "policy";
/** `pending` only for approvals still awaited. */
export type CheckOutcome = "pass" | "fail" | "pending";

export interface CheckResult {
  policy: string;
  kind: CheckKind;
  /** What was checked, as a person reads it: `roc_auc >= 0.7`, `beats champion on roc_auc`. */
  check: string;
  value: number | string | null;
  threshold: number | string | null;
  outcome: CheckOutcome;
  detail: string;
}

export type Verdict = "pass" | "fail" | "pending";

export interface Decision {
  id: string;
  project: string;
  modelName: string;
  version: number;
  requestId: string | null;
  target: PromotionTarget;
  verdict: Verdict;
  checks: CheckResult[];
  evaluatedBy: string;
  at: number;
}

export interface Approval {
  id: string;
  project: string;
  modelName: string;
  version: number;
  userName: string;
  /** The approver's role in the project when they decided. */
  role: string;
  decision: "approve" | "reject";
  comment: string;
  at: number;
}

/** A parsed `name@…` reference. */
export type VersionSelector =
  { kind: "number"; version: number } | { kind: "latest" } | { kind: "alias"; alias: string };

export interface ModelRef {
  name: string;
  selector: VersionSelector;
}
