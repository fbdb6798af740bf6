/**
 * Shared by the registry's builtins (evaluate, fairness): `model:` as a registered version or a step's
 * model file, and where its evaluation is recorded.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { NotFoundError } from "../../errors.js";
import type { EvaluationCurves, FairnessResult } from "../../registry/model.js";
import {
  loadModelFile,
  loadVersion,
  scoreModel,
  tablePath,
  type ScorableModel,
  type Scored,
} from "../../registry/scoring.js";
import type { BuiltinContext } from "./contract.js";

export interface ModelArg extends ScorableModel {
  /** Set when `model` named a registered version. */
  modelName: string | null;
  record(e: {
    dataset: string;
    metrics: Record<string, number>;
    fairness?: Record<string, FairnessResult>;
    curves?: EvaluationCurves | null;
  }): Promise<void>;
}

/** `name@ref` → that version; a path (a step output) → the file, its evaluations kept by sha256. */
export async function modelArg(ctx: BuiltinContext<unknown>, model: string): Promise<ModelArg> {
  return (await findModelArg(ctx, model, false))!;
}

/** Like modelArg, but null when the reference names no version (e.g. an alias nobody holds yet). */
export function optionalModelArg(ctx: BuiltinContext<unknown>, model: string): Promise<ModelArg | null> {
  return findModelArg(ctx, model, true);
}

async function findModelArg(ctx: BuiltinContext<unknown>, model: string, optional: boolean): Promise<ModelArg | null> {
  const { registry, artifacts } = ctx.services;
  // Made by a built-in step: pipeline evidence, with the run and step that made it.
  const provenance = { pipelineRunId: ctx.runId, step: ctx.step, stepRunId: ctx.stepRunId };
  const base = { actor: ctx.actor, project: ctx.project, runId: ctx.trackingRunId, provenance };
  if (ctx.artifacts[model] !== undefined || model.startsWith("/") || existsSync(model)) {
    const file = await loadModelFile(model);
    return {
      ...file,
      modelName: null,
      record: async (e) =>
        void (await registry.recordArtifactEvaluation({ ...base, ...e, artifactSha256: file.sha256 })),
    };
  }
  let version;
  try {
    version = await registry.resolve(ctx.project, model);
  } catch (error) {
    if (optional && error instanceof NotFoundError) return null;
    throw error;
  }
  const ref = `${version.modelName}@${version.version}`;
  return {
    ...(await loadVersion(artifacts, version)),
    modelName: version.modelName,
    record: async (e) => void (await registry.recordEvaluation({ ...base, ...e, ref })),
  };
}

export function scoreArg(
  model: ScorableModel,
  input: { data: string; target: string; features?: string[]; extraColumns?: string[] },
): Promise<Scored> {
  return scoreModel({ model, ...input });
}

/** The evaluation data's name when none is given: `sha256:` of its manifest (a step output) or content. */
export async function dataRefOf(ctx: BuiltinContext<unknown>, path: string): Promise<string> {
  const manifest = ctx.artifacts[path] ?? Object.values(ctx.inputs).find((i) => i.path === path)?.manifest;
  if (manifest) return `sha256:${manifest}`;
  const file = await tablePath(path);
  if (!(await stat(file)).isFile()) return `path:${path}`;
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}
