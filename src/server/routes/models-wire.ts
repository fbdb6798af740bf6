/** Wire shapes (snake_case) of the registry's routes, and the mappers from the domain's models. */
import { z } from "zod";
import type { ModelCard } from "../../core/registry/card.js";
import type { LineageGraph } from "../../core/registry/lineage.js";
import type {
  Alias,
  AliasEvent,
  Approval,
  Decision,
  Evaluation,
  ModelVersion,
  PromotionRequest,
  RegisteredModel,
} from "../../core/registry/model.js";
import { checkToWire, type PromotionOutcome } from "../../core/registry/promotion.js";

const record = <T extends z.ZodType>(v: T) => z.record(z.string(), v);
const tensorWire = z.object({ name: z.string(), type: z.string(), shape: z.array(z.number().nullable()) });

export const modelWire = z.object({
  name: z.string(),
  description: z.string(),
  owner: z.string(),
  tags: record(z.string()),
  created_at: z.number(),
  updated_at: z.number(),
  aliases: record(z.number()).optional(),
  latest_version: z.number().nullable().optional(),
});

export const versionWire = z.object({
  model: z.string(),
  version: z.number(),
  ref: z.string(),
  description: z.string(),
  intended_use: z.string(),
  artifact: z.object({
    format: z.string(),
    storage: z.string(),
    sha256: z.string(),
    size: z.number(),
    file_name: z.string().nullable(),
  }),
  signature: z.object({
    source: z.string(),
    inputs: z.array(tensorWire),
    outputs: z.array(tensorWire),
    model: z.unknown().optional(),
    params: z.array(z.object({ name: z.string(), type: z.string(), default: z.unknown().optional() })).optional(),
  }),
  source_run_id: z.string().nullable(),
  /** The person behind the version; never its approver. */
  author: z.string(),
  /** `system` when a pipeline step registered it on the author's behalf. */
  via: z.string().nullable(),
  /** Why the author is the author. */
  author_note: z.string(),
  tags: record(z.string()),
  stage: z.string(),
  lineage: z.object({
    pipeline_run_id: z.string().nullable(),
    dataset_versions: z.array(z.string()),
    git_commit: z.string().nullable(),
    git_dirty: z.array(z.string()).describe("Paths that differed from git_commit when the run started (empty: clean)."),
    env_digest: z.string().nullable(),
    env_parts: record(z.string()).describe("What env_digest covers: interpreter versions, lockfile hashes, image."),
    requirements: record(z.string()),
  }),
  aliases: z.array(z.string()).optional(),
  created_at: z.number(),
  updated_at: z.number(),
});

export const aliasWire = z.object({
  alias: z.string(),
  version: z.number(),
  updated_at: z.number(),
  updated_by: z.string(),
});
export const aliasEventWire = z.object({
  seq: z.number(),
  alias: z.string(),
  action: z.string(),
  from_version: z.number().nullable(),
  to_version: z.number().nullable(),
  actor: z.string(),
  at: z.number(),
  decision_id: z.string().nullable(),
});
const evidenceWire = z.object({
  kind: z.enum(["evaluation", "run", "canary"]),
  id: z.string(),
  source: z.enum(["pipeline", "manual"]).nullable(),
  dataset: z.string().nullable(),
  run_id: z.string().nullable(),
  pipeline_run_id: z.string().nullable(),
  step: z.string().nullable(),
  by: z.string().nullable(),
  /** False: set aside (e.g. manual evidence a policy without accept_manual does not read); `note` says why. */
  used: z.boolean(),
  note: z.string(),
});
const checkFields = {
  policy: z.string(),
  kind: z.string(),
  check: z.string(),
  value: z.union([z.number(), z.string()]).nullable(),
  threshold: z.union([z.number(), z.string()]).nullable(),
  outcome: z.enum(["pass", "fail", "pending"]),
  detail: z.string(),
  /** The evaluations (or source run, or canary record) the check read. */
  evidence: z.array(evidenceWire).optional(),
  /** Approvals: who could not count, and why (four-eyes). */
  excluded: z.array(z.object({ user: z.string(), reason: z.string() })).optional(),
};
export const checkWire = z.object({
  ...checkFields,
  /** Approvals: the policy's `unless` checks; all passing means no human was needed. */
  waiver: z.array(z.object(checkFields)).optional(),
});
export const decisionWire = z.object({
  id: z.string(),
  request_id: z.string().nullable(),
  model: z.string(),
  version: z.number(),
  target: z.object({ kind: z.string(), name: z.string() }),
  /** `promote` (a move under the policies) or `rollback`. */
  action: z.string(),
  /** What the move changed: aliases, endpoint slots, stages. */
  scope: z.string(),
  /** The policies that governed it, and why each did. */
  governing: z.array(z.object({ policy: z.string(), reason: z.string() })),
  verdict: z.string(),
  checks: z.array(checkWire),
  evaluated_by: z.string(),
  at: z.number(),
});
export const requestWire = z.object({
  id: z.string(),
  model: z.string(),
  version: z.number(),
  target: z.object({ kind: z.string(), name: z.string() }),
  policy: z.string().nullable(),
  status: z.string(),
  requested_by: z.string(),
  created_at: z.number(),
  decided_at: z.number().nullable(),
  decision_id: z.string().nullable(),
});
export const approvalWire = z.object({
  id: z.string(),
  user: z.string(),
  role: z.string(),
  decision: z.string(),
  comment: z.string(),
  at: z.number(),
});
const fairnessWire = z.object({ metrics: record(z.number()), by_group: record(record(z.number())) });
/** A binary classifier's curves, down-sampled to at most a few hundred points (ends kept). */
const curvesWire = z.object({
  roc: z.object({ fpr: z.array(z.number()), tpr: z.array(z.number()), thresholds: z.array(z.number()) }),
  pr: z.object({ precision: z.array(z.number()), recall: z.array(z.number()), thresholds: z.array(z.number()) }),
  /** Over the full curves (equal to metrics.roc_auc). */
  roc_auc: z.number(),
  average_precision: z.number(),
  /** The class the curves and matrix call positive: the one the model's probability is of. */
  positive_label: z.string(),
  /** [[TN, FP], [FN, TP]] when a probability at or above `threshold` is called positive. */
  confusion: z.object({
    threshold: z.number(),
    matrix: z.array(z.array(z.number())),
  }),
});
export const evaluationWire = z.object({
  id: z.string(),
  model: z.string(),
  version: z.number(),
  dataset: z.string(),
  metrics: record(z.number()),
  fairness: record(fairnessWire),
  /** ROC and PR curves and the confusion matrix of a binary classifier (tandem/evaluate), else null. */
  curves: curvesWire.nullable(),
  run_id: z.string().nullable(),
  created_by: z.string(),
  created_at: z.number(),
  /** `pipeline` (a tandem/evaluate, tandem/fairness or tandem/eval step) or `manual` (CLI, API). */
  source: z.enum(["pipeline", "manual"]),
  pipeline_run_id: z.string().nullable(),
  step: z.string().nullable(),
  step_run_id: z.string().nullable(),
});
export const outcomeWire = z.object({
  status: z.enum(["applied", "pending", "refused"]),
  version: versionWire,
  alias: aliasWire.nullable(),
  request: requestWire.nullable(),
  decision: decisionWire.nullable(),
});

export const modelToWire = (m: RegisteredModel, extra: { aliases?: Alias[]; latest?: number | null } = {}) => ({
  name: m.name,
  description: m.description,
  owner: m.owner,
  tags: m.tags,
  created_at: m.createdAt,
  updated_at: m.updatedAt,
  ...(extra.aliases ? { aliases: Object.fromEntries(extra.aliases.map((a) => [a.alias, a.version])) } : {}),
  ...(extra.latest !== undefined ? { latest_version: extra.latest } : {}),
});

export const versionToWire = (v: ModelVersion, aliases?: Alias[]) => ({
  model: v.modelName,
  version: v.version,
  ref: `${v.modelName}@${v.version}`,
  description: v.description,
  intended_use: v.intendedUse,
  artifact: {
    format: v.artifact.format,
    storage: v.artifact.storage,
    sha256: v.artifact.sha256,
    size: v.artifact.size,
    file_name: v.artifact.fileName,
  },
  signature: v.signature,
  source_run_id: v.sourceRunId,
  author: v.author,
  via: v.via,
  author_note: v.authorNote,
  tags: v.tags,
  stage: v.stage,
  lineage: {
    pipeline_run_id: v.lineage.pipelineRunId,
    dataset_versions: v.lineage.datasetVersions,
    git_commit: v.lineage.gitCommit,
    git_dirty: v.lineage.gitDirty ?? [],
    env_digest: v.lineage.envDigest,
    env_parts: v.lineage.envParts ?? {},
    requirements: v.lineage.requirements ?? {},
  },
  ...(aliases ? { aliases: aliases.filter((a) => a.version === v.version).map((a) => a.alias) } : {}),
  created_at: v.createdAt,
  updated_at: v.updatedAt,
});

export const aliasToWire = (a: Alias) => ({
  alias: a.alias,
  version: a.version,
  updated_at: a.updatedAt,
  updated_by: a.updatedBy,
});
export const aliasEventToWire = (e: AliasEvent) => ({
  seq: e.seq,
  alias: e.alias,
  action: e.action,
  from_version: e.fromVersion,
  to_version: e.toVersion,
  actor: e.actor,
  at: e.at,
  decision_id: e.decisionId,
});
export const decisionToWire = (d: Decision) => ({
  id: d.id,
  request_id: d.requestId,
  model: d.modelName,
  version: d.version,
  target: d.target,
  action: d.action,
  scope: d.scope,
  governing: d.governing,
  verdict: d.verdict,
  checks: d.checks.map(checkToWire),
  evaluated_by: d.evaluatedBy,
  at: d.at,
});
export const requestToWire = (r: PromotionRequest) => ({
  id: r.id,
  model: r.modelName,
  version: r.version,
  target: r.target,
  policy: r.policy,
  status: r.status,
  requested_by: r.requestedBy,
  created_at: r.createdAt,
  decided_at: r.decidedAt,
  decision_id: r.decisionId,
});
export const approvalToWire = (a: Approval) => ({
  id: a.id,
  user: a.userName,
  role: a.role,
  decision: a.decision,
  comment: a.comment,
  at: a.at,
});
export const evaluationToWire = (e: Evaluation) => ({
  id: e.id,
  model: e.modelName,
  version: e.version,
  dataset: e.dataset,
  metrics: e.metrics,
  fairness: Object.fromEntries(
    Object.entries(e.fairness).map(([k, f]) => [k, { metrics: f.metrics, by_group: f.byGroup }]),
  ),
  curves: e.curves && {
    roc: e.curves.roc,
    pr: e.curves.pr,
    roc_auc: e.curves.rocAuc,
    average_precision: e.curves.averagePrecision,
    positive_label: e.curves.positiveLabel,
    confusion: e.curves.confusion,
  },
  run_id: e.runId,
  created_by: e.createdBy,
  created_at: e.createdAt,
  source: e.source,
  pipeline_run_id: e.pipelineRunId,
  step: e.step,
  step_run_id: e.stepRunId,
});
export const outcomeToWire = (o: PromotionOutcome) => ({
  status: o.status,
  version: versionToWire(o.version),
  alias: o.alias ? aliasToWire(o.alias) : null,
  request: o.request ? requestToWire(o.request) : null,
  decision: o.decision ? decisionToWire(o.decision) : null,
});

const runWire = (r: LineageGraph["sourceRun"]) =>
  r
    ? {
        id: r.id,
        name: r.name,
        status: r.status,
        params: r.params,
        metrics: r.metrics,
        tags: r.tags,
        started_at: r.startedAt,
        ended_at: r.endedAt,
      }
    : null;

export const lineageToWire = (g: LineageGraph) => ({
  version: versionToWire(g.version),
  source_run: runWire(g.sourceRun),
  pipeline_run: runWire(g.pipelineRun),
  steps: g.steps.map(runWire),
  dataset_versions: g.snapshot.datasetVersions,
  git_commit: g.snapshot.gitCommit,
  git_dirty: g.snapshot.gitDirty ?? [],
  env_digest: g.snapshot.envDigest,
  env_parts: g.snapshot.envParts ?? {},
  requirements: g.snapshot.requirements ?? {},
  nodes: g.nodes,
  edges: g.edges,
});

export const cardToWire = (c: ModelCard) => ({
  model: c.model,
  version: c.version,
  description: c.description,
  intended_use: c.intendedUse,
  author: c.author,
  owner: c.owner,
  created_at: c.createdAt,
  artifact: {
    format: c.artifact.format,
    storage: c.artifact.storage,
    sha256: c.artifact.sha256,
    size: c.artifact.size,
    file_name: c.artifact.fileName,
  },
  signature: c.signature,
  aliases: c.aliases,
  training: {
    source_run_id: c.training.sourceRunId,
    pipeline_run_id: c.training.pipelineRunId,
    dataset_versions: c.training.datasetVersions,
    git_commit: c.training.gitCommit,
    env_digest: c.training.envDigest,
    requirements: c.training.requirements,
    params: c.training.params,
    metrics: c.training.metrics,
  },
  evaluations: c.evaluations,
  fairness: c.fairness.map((f) => ({
    dataset: f.dataset,
    attribute: f.attribute,
    metrics: f.metrics,
    by_group: f.byGroup,
  })),
  approvals: c.approvals,
  latest_decision: c.latestDecision,
});
