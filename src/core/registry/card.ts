/**
 * The model card of one version, generated from what the registry already knows: intended use (from
 * the registration), training data versions and params (lineage and source run), evaluation metrics,
 * fairness by group, signature, aliases, approvals and the newest decision. JSON for machines,
 * Markdown for people; both from one object so they never disagree.
 */
import type { Alias, Approval, Decision, Evaluation, ModelVersion, RegisteredModel } from "./model.js";
import type { LineageRun } from "./ports.js";

export interface ModelCard {
  model: string;
  version: number;
  description: string;
  intendedUse: string;
  author: string;
  createdAt: number;
  owner: string;
  artifact: ModelVersion["artifact"];
  signature: ModelVersion["signature"];
  aliases: string[];
  training: {
    sourceRunId: string | null;
    pipelineRunId: string | null;
    datasetVersions: string[];
    gitCommit: string | null;
    envDigest: string | null;
    /** An MLflow model's environment files → sha256. */
    requirements: Record<string, string>;
    params: Record<string, string>;
    metrics: Record<string, number>;
  };
  evaluations: Array<{ dataset: string; metrics: Record<string, number>; at: number }>;
  fairness: Array<{
    dataset: string;
    attribute: string;
    metrics: Record<string, number>;
    byGroup: Record<string, Record<string, number>>;
  }>;
  approvals: Array<{ user: string; decision: string; comment: string; at: number }>;
  latestDecision: { target: string; verdict: string; at: number; checks: Decision["checks"] } | null;
}

export function buildModelCard(input: {
  model: RegisteredModel;
  version: ModelVersion;
  aliases: Alias[];
  sourceRun: LineageRun | null;
  evaluations: Evaluation[];
  approvals: Approval[];
  decisions: Decision[];
}): ModelCard {
  const { model, version: v } = input;
  const latest = input.decisions[0] ?? null;
  return {
    model: v.modelName,
    version: v.version,
    description: v.description || model.description,
    intendedUse: v.intendedUse,
    author: v.author,
    createdAt: v.createdAt,
    owner: model.owner,
    artifact: v.artifact,
    signature: v.signature,
    aliases: input.aliases.filter((a) => a.version === v.version).map((a) => a.alias),
    training: {
      sourceRunId: v.sourceRunId,
      pipelineRunId: v.lineage.pipelineRunId,
      datasetVersions: v.lineage.datasetVersions,
      gitCommit: v.lineage.gitCommit,
      envDigest: v.lineage.envDigest,
      requirements: v.lineage.requirements ?? {},
      params: input.sourceRun?.params ?? {},
      metrics: input.sourceRun?.metrics ?? {},
    },
    evaluations: input.evaluations.map((e) => ({ dataset: e.dataset, metrics: e.metrics, at: e.createdAt })),
    fairness: input.evaluations.flatMap((e) =>
      Object.entries(e.fairness).map(([attribute, f]) => ({
        dataset: e.dataset,
        attribute,
        metrics: f.metrics,
        byGroup: f.byGroup,
      })),
    ),
    approvals: input.approvals.map((a) => ({ user: a.userName, decision: a.decision, comment: a.comment, at: a.at })),
    latestDecision: latest
      ? {
          target: `${latest.target.kind} ${latest.target.name}`,
          verdict: latest.verdict,
          at: latest.at,
          checks: latest.checks,
        }
      : null,
  };
}

const fmt = (x: unknown): string => {
  if (x === null || x === undefined || x === "") return "—";
  if (typeof x === "number") return Number.isInteger(x) ? String(x) : x.toPrecision(4).replace(/\.?0+$/, "");
  return String(x).replace(/\|/g, "\\|").replace(/\n/g, " ");
};
const iso = (ms: number): string => new Date(ms).toISOString();

function table(headers: string[], rows: unknown[][]): string[] {
  if (rows.length === 0) return ["_None recorded._", ""];
  return [
    `| ${headers.join(" | ")} |`,
    `| ${headers.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(fmt).join(" | ")} |`),
    "",
  ];
}

export function modelCardMarkdown(card: ModelCard): string {
  const lines: string[] = [`# Model card: ${card.model} version ${card.version}`, ""];
  lines.push(card.description || "_No description._", "");
  lines.push("## Details", "");
  lines.push(
    ...table(
      ["Field", "Value"],
      [
        ["Author", card.author],
        ["Owner", card.owner],
        ["Registered", iso(card.createdAt)],
        ["Aliases", card.aliases.join(", ")],
        ["Format", card.artifact.format],
        ["Artifact sha256", card.artifact.sha256],
      ],
    ),
  );
  lines.push("## Intended use", "", card.intendedUse || "_Not stated at registration._", "");
  lines.push("## Training data and lineage", "");
  lines.push(
    ...table(
      ["Field", "Value"],
      [
        ["Dataset versions", card.training.datasetVersions.join(", ")],
        ["Source run", card.training.sourceRunId],
        ["Pipeline run", card.training.pipelineRunId],
        ["Git commit", card.training.gitCommit],
        ["Environment digest", card.training.envDigest],
        ...Object.entries(card.training.requirements).map(([file, sha]) => [`Requirements: ${file}`, sha]),
      ],
    ),
  );
  lines.push("### Parameters", "", ...table(["Param", "Value"], Object.entries(card.training.params)));
  lines.push("## Evaluation", "");
  const metricNames = [...new Set(card.evaluations.flatMap((e) => Object.keys(e.metrics)))].sort();
  lines.push(
    ...table(
      ["Dataset", ...metricNames],
      card.evaluations.map((e) => [e.dataset, ...metricNames.map((m) => e.metrics[m])]),
    ),
  );
  if (card.evaluations.length === 0 && Object.keys(card.training.metrics).length) {
    lines.push(
      "Metrics logged by the source run:",
      "",
      ...table(["Metric", "Value"], Object.entries(card.training.metrics)),
    );
  }
  lines.push("## Fairness", "");
  if (card.fairness.length === 0) lines.push("_No fairness evaluation recorded._", "");
  for (const f of card.fairness) {
    lines.push(`### By ${f.attribute} (on ${f.dataset})`, "");
    lines.push(...table(["Metric", "Value"], Object.entries(f.metrics)));
    const groupMetrics = [...new Set(Object.values(f.byGroup).flatMap((g) => Object.keys(g)))].sort();
    lines.push(
      ...table(
        ["Group", ...groupMetrics],
        Object.entries(f.byGroup).map(([g, m]) => [g, ...groupMetrics.map((k) => m[k])]),
      ),
    );
  }
  lines.push(
    "Fairness figures follow Fairlearn's definitions; the four-fifths rule is a heuristic, not a legal verdict.",
    "",
  );
  lines.push("## Signature", "", `Read from: ${card.signature.source}`, "");
  lines.push(
    ...table(
      ["Direction", "Name", "Type", "Shape"],
      [
        ...card.signature.inputs.map((t) => ["input", t.name, t.type, JSON.stringify(t.shape)]),
        ...card.signature.outputs.map((t) => ["output", t.name, t.type, JSON.stringify(t.shape)]),
      ],
    ),
  );
  if (card.signature.model) {
    lines.push(
      `Task: ${card.signature.model.task}. Features: ${card.signature.model.features.map((f) => f.name).join(", ")}.`,
      "",
    );
  }
  lines.push(
    "## Approvals",
    "",
    ...table(
      ["User", "Decision", "Comment", "At"],
      card.approvals.map((a) => [a.user, a.decision, a.comment, iso(a.at)]),
    ),
  );
  if (card.latestDecision) {
    const d = card.latestDecision;
    lines.push(`## Latest policy decision (${d.target}: ${d.verdict}, ${iso(d.at)})`, "");
    lines.push(
      ...table(
        ["Policy", "Check", "Value", "Threshold", "Outcome"],
        d.checks.map((c) => [c.policy, c.check, c.value, c.threshold, c.outcome]),
      ),
    );
  }
  return lines.join("\n");
}
