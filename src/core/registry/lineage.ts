/**
 * Lineage: version → source run → pipeline run → its steps → dataset versions, git commit and
 * environment digest, read from run tags (the contract is in ports.ts). Collected once at
 * registration (kept on the version, so "which versions were trained on flights@3" is one query)
 * and again, live, when someone asks for the graph.
 */
import { createHash } from "node:crypto";
import type { LineageSnapshot, ModelVersion } from "./model.js";
import { LINEAGE_TAGS, type LineageRun, type LineageSource } from "./ports.js";

export interface LineageNode {
  id: string;
  kind: "model_version" | "run" | "pipeline_run" | "step_run" | "dataset_version" | "git_commit" | "environment";
  label: string;
  attributes: Record<string, string | number | null>;
}

export interface LineageEdge {
  from: string;
  to: string;
  relation: "produced_by" | "part_of" | "read" | "built_from" | "ran_in";
}

export interface LineageGraph {
  version: ModelVersion;
  sourceRun: LineageRun | null;
  pipelineRun: LineageRun | null;
  steps: LineageRun[];
  snapshot: LineageSnapshot;
  nodes: LineageNode[];
  edges: LineageEdge[];
}

/** `["a@1","b@2"]` or `a@1, b@2` → refs; anything unreadable is ignored rather than failing lineage. */
export function parseDatasetVersions(value: string | undefined): string[] {
  if (!value) return [];
  const text = value.trim();
  if (text.startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed))
        return parsed.filter((x): x is string => typeof x === "string" && x.length > 0).map((x) => x.trim());
    } catch {
      return [];
    }
  }
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function pipelineRunIdOf(run: LineageRun): string | null {
  return run.tags[LINEAGE_TAGS.pipelineRunId] ?? run.tags[LINEAGE_TAGS.mlflowParentRunId] ?? run.parentRunId ?? null;
}

function gitCommitOf(run: LineageRun | null): string | null {
  return run ? (run.tags[LINEAGE_TAGS.gitCommit] ?? run.tags[LINEAGE_TAGS.mlflowGitCommit] ?? null) : null;
}

/** A JSON tag, or undefined when absent or unreadable (lineage never fails on a bad tag). */
function jsonTag<T>(run: LineageRun | null, tag: string, valid: (value: unknown) => value is T): T | undefined {
  const text = run?.tags[tag];
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return valid(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");
const isStringRecord = (v: unknown): v is Record<string, string> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");

export interface CollectedLineage {
  sourceRun: LineageRun | null;
  pipelineRun: LineageRun | null;
  steps: LineageRun[];
  snapshot: LineageSnapshot;
}

/** Walks the run records from `runId`; a missing pipeline run only shortens the walk. */
export async function collectLineage(
  source: LineageSource,
  project: string,
  runId: string | null,
): Promise<CollectedLineage> {
  const empty: LineageSnapshot = { pipelineRunId: null, datasetVersions: [], gitCommit: null, envDigest: null };
  if (!runId) return { sourceRun: null, pipelineRun: null, steps: [], snapshot: empty };
  const sourceRun = await source.getRun(project, runId);
  if (!sourceRun) return { sourceRun: null, pipelineRun: null, steps: [], snapshot: empty };
  const pipelineRunId = pipelineRunIdOf(sourceRun);
  const pipelineRun = pipelineRunId ? await source.getRun(project, pipelineRunId) : null;
  const steps = pipelineRun
    ? (await source.childRuns(project, pipelineRun.id)).sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0))
    : [];
  const all = [sourceRun, ...(pipelineRun ? [pipelineRun] : []), ...steps];
  const datasets = new Set<string>();
  for (const run of all) for (const d of parseDatasetVersions(run.tags[LINEAGE_TAGS.datasetVersions])) datasets.add(d);
  const gitCommit =
    gitCommitOf(sourceRun) ?? gitCommitOf(pipelineRun) ?? all.map(gitCommitOf).find((c) => c !== null) ?? null;
  const envDigest = sourceRun.tags[LINEAGE_TAGS.envDigest] ?? pipelineRun?.tags[LINEAGE_TAGS.envDigest] ?? null;
  const gitDirty = jsonTag(sourceRun, LINEAGE_TAGS.gitDirty, isStrings);
  const envParts = jsonTag(sourceRun, LINEAGE_TAGS.envParts, isStringRecord);
  return {
    sourceRun,
    pipelineRun,
    steps,
    snapshot: {
      pipelineRunId: pipelineRun?.id ?? pipelineRunId,
      datasetVersions: [...datasets].sort(),
      gitCommit,
      ...(gitDirty?.length ? { gitDirty } : {}),
      envDigest,
      ...(envParts ? { envParts } : {}),
    },
  };
}

/**
 * A version's lineage with its model's own environment files (an MLflow model's requirements.txt,
 * conda.yaml, python_env.yaml). The environment digest then covers both what the run ran in and what
 * the model says it needs: sha256 over the run's digest and each file's name and sha256, in name order.
 */
export function withRequirements(snapshot: LineageSnapshot, requirements: Record<string, string>): LineageSnapshot {
  const files = Object.keys(requirements).sort();
  if (files.length === 0) return snapshot;
  const hash = createHash("sha256").update(`run\0${snapshot.envDigest ?? ""}\0`);
  for (const f of files) hash.update(`${f}\0${requirements[f]}\0`);
  return {
    ...snapshot,
    envDigest: hash.digest("hex"),
    requirements: Object.fromEntries(files.map((f) => [f, requirements[f]!])),
  };
}

/** The graph as nodes and edges (what the UI draws), beside the plain records. */
export function lineageGraph(version: ModelVersion, collected: CollectedLineage): LineageGraph {
  // Live records may be gone (a purged run); the snapshot taken at registration still answers.
  const snapshot: LineageSnapshot = collected.sourceRun
    ? withRequirements(collected.snapshot, version.lineage.requirements ?? {})
    : version.lineage;
  const nodes: LineageNode[] = [];
  const edges: LineageEdge[] = [];
  const vId = `model_version:${version.modelName}@${version.version}`;
  nodes.push({
    id: vId,
    kind: "model_version",
    label: `${version.modelName}@${version.version}`,
    attributes: { sha256: version.artifact.sha256 },
  });
  const runNode = (run: LineageRun, kind: LineageNode["kind"]): string => {
    const id = `run:${run.id}`;
    if (!nodes.some((n) => n.id === id)) {
      nodes.push({
        id,
        kind,
        label: run.tags[LINEAGE_TAGS.step] ?? run.name ?? run.id,
        attributes: { run_id: run.id, status: run.status },
      });
    }
    return id;
  };
  let anchor = vId;
  if (collected.sourceRun) {
    const src = runNode(collected.sourceRun, collected.pipelineRun ? "step_run" : "run");
    edges.push({ from: vId, to: src, relation: "produced_by" });
    anchor = src;
  } else if (version.sourceRunId) {
    nodes.push({
      id: `run:${version.sourceRunId}`,
      kind: "run",
      label: version.sourceRunId,
      attributes: { run_id: version.sourceRunId, status: "missing" },
    });
    edges.push({ from: vId, to: `run:${version.sourceRunId}`, relation: "produced_by" });
    anchor = `run:${version.sourceRunId}`;
  }
  if (collected.pipelineRun) {
    const p = runNode(collected.pipelineRun, "pipeline_run");
    edges.push({ from: anchor, to: p, relation: "part_of" });
    for (const step of collected.steps) {
      const s = runNode(step, "step_run");
      if (s !== anchor) edges.push({ from: s, to: p, relation: "part_of" });
      for (const d of parseDatasetVersions(step.tags[LINEAGE_TAGS.datasetVersions]))
        edges.push({ from: s, to: `dataset_version:${d}`, relation: "read" });
    }
  }
  for (const d of snapshot.datasetVersions) {
    nodes.push({ id: `dataset_version:${d}`, kind: "dataset_version", label: d, attributes: {} });
    const readers = edges.some((e) => e.to === `dataset_version:${d}`);
    if (!readers) edges.push({ from: anchor, to: `dataset_version:${d}`, relation: "read" });
  }
  if (snapshot.gitCommit) {
    nodes.push({
      id: `git_commit:${snapshot.gitCommit}`,
      kind: "git_commit",
      label: `${snapshot.gitCommit.slice(0, 12)}${snapshot.gitDirty?.length ? " (dirty)" : ""}`,
      // A dirty tree ran more than the commit: which paths differed.
      attributes: {
        commit: snapshot.gitCommit,
        ...(snapshot.gitDirty?.length ? { dirty: snapshot.gitDirty.join(", ") } : {}),
      },
    });
    edges.push({ from: anchor, to: `git_commit:${snapshot.gitCommit}`, relation: "built_from" });
  }
  if (snapshot.envDigest) {
    nodes.push({
      id: `environment:${snapshot.envDigest}`,
      kind: "environment",
      label: snapshot.envDigest.slice(0, 19),
      // The model's own environment files, by name (`requirements.txt: <sha256>`), beside the digest.
      attributes: { digest: snapshot.envDigest, ...snapshot.envParts, ...snapshot.requirements },
    });
    edges.push({ from: anchor, to: `environment:${snapshot.envDigest}`, relation: "ran_in" });
  }
  return {
    version,
    sourceRun: collected.sourceRun,
    pipelineRun: collected.pipelineRun,
    steps: collected.steps,
    snapshot,
    nodes,
    edges,
  };
}
