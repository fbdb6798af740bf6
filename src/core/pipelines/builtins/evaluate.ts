/**
 * `tandem/evaluate`: runs a model on a table and logs the metrics (classification: accuracy,
 * precision, recall, f1, roc_auc, log_loss, calibration_error; regression: rmse, mae, r2) into the
 * step's run and into the registry as an evaluation on `data_ref` — what policies read. `model` is a
 * registered version (`flights-delay@challenger`) or a step's model output (then the evaluation
 * follows the file into the version `tandem/register` makes of it). `compare: [champion]` evaluates
 * those aliases' versions on the same data, so "beats champion" compares like with like. A binary
 * classifier's evaluation also keeps its ROC and PR curves and the confusion matrix at `threshold`
 * (default 0.5, the probability at which a row counts as positive), which the model page draws.
 */
import { z } from "zod";
import { classifierCurves } from "../../evaluation/curves.js";
import type { EvaluationCurves } from "../../registry/model.js";
import { classificationMetrics, defaultPosLabel, labelsOf, regressionMetrics } from "../../evaluation/index.js";
import type { Scored } from "../../registry/scoring.js";
import { defineBuiltin } from "./contract.js";
import type { WithReference } from "./contract.js";
import { dataRefOf, modelArg, optionalModelArg, scoreArg } from "./model-args.js";
import { fileField, isModelRef, modelOrFileField } from "./references.js";

/** `compare:` as a list, with each alias's field name (`compare[0]`, or `compare` for a single one). */
function compareList(compare: unknown): Array<{ alias: string; path: Array<string | number> }> {
  if (typeof compare === "string") return [{ alias: compare, path: ["compare"] }];
  if (!Array.isArray(compare)) return [];
  return compare.flatMap((alias, i) => (typeof alias === "string" ? [{ alias, path: ["compare", i] }] : []));
}

/** The registered model `compare:` aliases belong to: `model`'s name, else `model_name`. */
function comparedModel(w: { model?: unknown; model_name?: unknown }): string | null {
  if (typeof w.model === "string" && isModelRef(w.model)) return w.model.slice(0, w.model.lastIndexOf("@"));
  return typeof w.model_name === "string" ? w.model_name : null;
}

export function metricsOf(s: Scored): Record<string, number> {
  if (s.task === "regression") return { ...regressionMetrics(s.yTrue as number[], s.yPred as number[]) };
  const m = classificationMetrics({
    yTrue: s.yTrue,
    yPred: s.yPred,
    probability: s.probability ?? undefined,
    posLabel: s.posLabel ?? undefined,
  });
  return Object.fromEntries(
    Object.entries(m).filter((e): e is [string, number] => typeof e[1] === "number" && Number.isFinite(e[1])),
  );
}

/** A binary classifier's curves on these rows; null for regressors, multi-class, or without probabilities. */
export function curvesOf(s: Scored, threshold: number): EvaluationCurves | null {
  if (s.task !== "classification" || !s.probability) return null;
  const labels = labelsOf(s.yTrue);
  if (labels.length !== 2) return null;
  const posLabel = s.posLabel ?? defaultPosLabel(labels);
  const curves = classifierCurves(
    s.yTrue.map((y) => y === posLabel),
    s.probability,
    { threshold },
  );
  // Which class "positive" means: the one the model's probability is of, else the metrics' default.
  return { ...curves, positiveLabel: String(posLabel) };
}

export const evaluateBuiltin = defineBuiltin({
  name: "evaluate",
  description: "Evaluates a model on a table and records the metrics for policies.",
  with: z.strictObject({
    model: z.string().min(1),
    data: z.string().min(1),
    target: z.string().min(1),
    /** What the evaluation data is called, e.g. flights@3 (default: sha256 of its content). */
    data_ref: z.string().optional(),
    /** The registered model name, when `model` is a file and `compare` is used. */
    model_name: z.string().optional(),
    compare: z.union([z.string(), z.array(z.string())]).optional(),
    /** Input columns, for ONNX files without a trainer signature. */
    features: z.array(z.string()).optional(),
    /** The probability at or above which a row is called positive, for the stored confusion matrix. */
    threshold: z.number().min(0).max(1).default(0.5),
  }),
  references(w) {
    const refs: WithReference[] = [...modelOrFileField(w, "model"), ...fileField(w, "data")];
    const name = comparedModel(w);
    // A first run has no champion yet: keyed (and run) as `none`, never a failure.
    if (name)
      for (const c of compareList(w.compare))
        refs.push({ path: c.path, kind: "model", ref: `${name}@${c.alias}`, optional: true });
    return refs;
  },
  async run(ctx) {
    const w = ctx.with;
    const dataset = w.data_ref ?? (await dataRefOf(ctx, w.data));
    const model = await modelArg(ctx, w.model);
    const scored = await scoreArg(model, { data: w.data, target: w.target, features: w.features });
    const metrics = metricsOf(scored);
    ctx.log(
      `${model.label} on ${dataset}: ${Object.entries(metrics)
        .map(([k, v]) => `${k}=${v.toPrecision(4)}`)
        .join(" ")}`,
    );
    await model.record({ dataset, metrics, curves: curvesOf(scored, w.threshold) });
    const name = model.modelName ?? w.model_name;
    for (const { alias, path } of compareList(w.compare)) {
      if (!name) throw new Error("with.compare: give with.model_name when with.model is a file");
      // The version the cache key resolved this alias to (null: none held it then).
      const field = path.length === 1 ? "compare" : `compare[${path[1]}]`;
      const pinned = field in ctx.pinned ? ctx.pinned[field] : `${name}@${alias}`;
      const other = pinned === null || pinned === undefined ? null : await optionalModelArg(ctx, pinned);
      if (!other) {
        ctx.log(`${name}@${alias}: no version holds it yet; nothing to compare`);
        continue;
      }
      const scoredTheirs = await scoreArg(other, { data: w.data, target: w.target, features: w.features });
      const theirs = metricsOf(scoredTheirs);
      await other.record({ dataset, metrics: theirs, curves: curvesOf(scoredTheirs, w.threshold) });
      ctx.log(
        `${other.label} (${alias}) on ${dataset}: ${Object.entries(theirs)
          .map(([k, v]) => `${k}=${v.toPrecision(4)}`)
          .join(" ")}`,
      );
    }
    return { metrics };
  },
});
