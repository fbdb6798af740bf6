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
 * - Author: the person behind a version. For a version a pipeline step registered, that is the
 *   person behind the run (who started it, applied the spec whose schedule/data/alert trigger
 *   started it, or pushed the commit), with `via: system`; four-eyes excludes them all the same.
 * - Evidence source: `pipeline` (made by a `tandem/evaluate`, `tandem/fairness` or `tandem/eval`
 *   step, with its run and step) or `manual` (the CLI, the API, MLflow logging outside a step).
 *   Policies count manual evidence only when they say `accept_manual: true`.
 */
import type { ClassifierCurves } from "../evaluation/curves.js";
import type { ModelSignature } from "../training/signature.js";
import type { TargetScope } from "./policy-scope.js";

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
  /** Paths that differed from `gitCommit` when the run started (absent or empty: a clean tree). */
  gitDirty?: string[];
  /** The run's environment digest, combined with the model's own requirement files when it has any. */
  envDigest: string | null;
  /** What the digest covers: `python3`, `node` versions, lockfile → sha256, `image`, `image_id`. */
  envParts?: Record<string, string>;
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
  /** The person behind it (see the glossary); may never approve it. */
  author: string;
  /** `system` when a pipeline step registered it on the author's behalf; null when the author did. */
  via: string | null;
  /** Why the author is the author, as a person reads it (e.g. "started pipeline run 1a2b… by hand"). */
  authorNote: string;
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

export type EvidenceSource = "pipeline" | "manual";

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
  /** A binary classifier's ROC and PR curves and confusion matrix (tandem/evaluate), else null. */
  curves: EvaluationCurves | null;
  runId: string | null;
  createdBy: string;
  createdAt: number;
  source: EvidenceSource;
  /** For pipeline evidence: the pipeline run, step (instance name) and step run that made it. */
  pipelineRunId: string | null;
  step: string | null;
  stepRunId: string | null;
}

/** A binary classifier's curves as an evaluation keeps them, with the class they call positive. */
export type EvaluationCurves = ClassifierCurves & { positiveLabel: string };

export interface FairnessResult {
  metrics: Record<string, number>;
  /** group value → metric → value (selection_rate, accuracy, …). */
  byGroup: Record<string, Record<string, number>>;
}

/** What a request moves: an alias, an endpoint (the slot is in the decision's scope) or an MLflow stage. */
export type PromotionTarget =
  { kind: "alias"; name: string } | { kind: "endpoint"; name: string } | { kind: "stage"; name: string };

export type RequestStatus = "pending" | "applied" | "refused" | "rejected" | "superseded";

export interface PromotionRequest {
  id: string;
  project: string;
  modelName: string;
  version: number;
  target: PromotionTarget;
  /** Policy the requester added to the governing ones (null: none added). */
  policy: string | null;
  /** What the move changes, kept so a pending request is re-evaluated against the same scope. */
  scope: TargetScope | null;
  status: RequestStatus;
  requestedBy: string;
  createdAt: number;
  decidedAt: number | null;
  decisionId: string | null;
}

export type CheckKind = "metric" | "fairness" | "beats" | "canary" | "approvals" | "policy" | "rollback";
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
  /** What the check read: the evaluation (or source run, or canary) each value came from. */
  evidence?: CheckEvidence[];
  /** Approvals: who could not count as approver, and why (four-eyes). */
  excluded?: Array<{ user: string; reason: string }>;
  /** Approvals: the policy's `unless` checks; all passing means no human was needed. */
  waiver?: CheckResult[];
}

/** One piece of evidence a check used (or set aside: `used: false`, with the reason in `note`). */
export interface CheckEvidence {
  kind: "evaluation" | "run" | "canary";
  /** Evaluation id, run id, or endpoint name. */
  id: string;
  source: EvidenceSource | null;
  dataset: string | null;
  runId: string | null;
  pipelineRunId: string | null;
  step: string | null;
  by: string | null;
  used: boolean;
  note: string;
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
  /** `promote` (a move under the policies) or `rollback` (back to an earlier holder). */
  action: "promote" | "rollback";
  /** What the move changes (aliases, endpoint slots, stages) and which policies governed it, and why. */
  scope: string;
  governing: Array<{ policy: string; reason: string }>;
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
