/** Wire shapes of src/server/routes/models-wire.ts (models, versions, aliases, decisions, lineage, card). */
export interface ModelWire {
  name: string;
  description: string;
  owner: string;
  tags: Record<string, string>;
  created_at: number;
  updated_at: number;
  aliases?: Record<string, number>;
  latest_version?: number | null;
}

export interface TensorWire {
  name: string;
  type: string;
  shape: Array<number | null>;
}

export interface VersionWire {
  model: string;
  version: number;
  ref: string;
  description: string;
  intended_use: string;
  artifact: { format: string; storage: string; sha256: string; size: number; file_name: string | null };
  signature: { source: string; inputs: TensorWire[]; outputs: TensorWire[] };
  source_run_id: string | null;
  author: string;
  tags: Record<string, string>;
  stage: string;
  lineage: {
    pipeline_run_id: string | null;
    dataset_versions: string[];
    git_commit: string | null;
    env_digest: string | null;
  };
  aliases?: string[];
  created_at: number;
  updated_at: number;
}

export interface AliasEventWire {
  seq: number;
  alias: string;
  action: string;
  from_version: number | null;
  to_version: number | null;
  actor: string;
  at: number;
  decision_id: string | null;
}

export interface CheckWire {
  policy: string;
  kind: string;
  check: string;
  value: number | string | null;
  threshold: number | string | null;
  outcome: "pass" | "fail" | "pending";
  detail: string;
}

export interface DecisionWire {
  id: string;
  request_id: string | null;
  model: string;
  version: number;
  target: { kind: string; name: string };
  verdict: string;
  checks: CheckWire[];
  evaluated_by: string;
  at: number;
}

export interface RequestWire {
  id: string;
  model: string;
  version: number;
  target: { kind: string; name: string };
  policy: string | null;
  status: string;
  requested_by: string;
  created_at: number;
  decided_at: number | null;
  decision_id: string | null;
}

export interface ApprovalWire {
  id: string;
  user: string;
  role: string;
  decision: string;
  comment: string;
  at: number;
}

export interface OutcomeWire {
  status: "applied" | "pending" | "refused";
  version: VersionWire;
  alias: { alias: string; version: number } | null;
  request: RequestWire | null;
  decision: DecisionWire | null;
}

export interface LineageWire {
  nodes: Array<{ id: string; kind: string; label: string; attributes: Record<string, unknown> }>;
  edges: Array<{ from: string; to: string; relation: string }>;
  dataset_versions: string[];
  git_commit: string | null;
  env_digest: string | null;
}

export interface CardWire {
  model: string;
  version: number;
  description: string;
  intended_use: string;
  author: string;
  owner: string;
  created_at: number;
  artifact: { format: string; sha256: string; size: number; file_name: string | null };
  signature: { inputs?: TensorWire[]; outputs?: TensorWire[] } | null;
  aliases: string[];
  training: {
    source_run_id: string | null;
    pipeline_run_id: string | null;
    dataset_versions: string[];
    git_commit: string | null;
    env_digest: string | null;
    params: Record<string, string>;
    metrics: Record<string, number>;
  };
  fairness: Array<{
    dataset: string;
    attribute: string;
    metrics: Record<string, number>;
    by_group: Record<string, Record<string, number>>;
  }>;
}

/** ROC and PR curves, down-sampled, their areas and the confusion matrix (models-wire.ts curvesWire). */
export interface CurvesWire {
  roc: { fpr: number[]; tpr: number[]; thresholds: number[] };
  pr: { precision: number[]; recall: number[]; thresholds: number[] };
  roc_auc: number;
  average_precision: number;
  /** The class called positive. */
  positive_label: string;
  /** [[TN, FP], [FN, TP]] at `threshold`. */
  confusion: { threshold: number; matrix: number[][] };
}

/** One evaluation of a version (src/server/routes/models-wire.ts evaluationWire). */
export interface EvaluationWire {
  id: string;
  model: string;
  version: number;
  dataset: string;
  metrics: Record<string, number>;
  /** A binary classifier's curves (tandem/evaluate); null otherwise. */
  curves: CurvesWire | null;
  run_id: string | null;
  created_by: string;
  created_at: number;
  source: "pipeline" | "manual";
  pipeline_run_id: string | null;
  step: string | null;
}
