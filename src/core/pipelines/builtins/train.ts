/**
 * `tandem/train`: the built-in trainers (src/core/training) as a pipeline step.
 *
 *   train:
 *     uses: tandem/train
 *     with:
 *       algorithm: gradient_boosting        # or logistic_regression
 *       task: binary_classification         # multiclass_classification, regression
 *       data: ${{ steps.prepare.outputs.train }}   # a table (csv, tsv, jsonl, parquet) or a dir with one
 *       target: delayed
 *       features: [hour, weekday, distance, origin, destination]
 *       params: { learning_rate: 0.1, max_iter: 200 }
 *     outputs:
 *       model: dir                          # model.onnx (signature embedded) + metrics.json
 *
 * Training runs in a worker thread (trainModelInWorker), so the process driving the run keeps
 * answering requests and heartbeats while minutes of CPU go by. The algorithm, task, features and
 * params are logged as the step's tracking-run params; the returned metrics (test metrics, and
 * `importance.<feature>`) land in the same run.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { TrackingService } from "../../tracking/service.js";
import { trainModelInWorker } from "../../training/train-async.js";
import type { ColumnValues } from "../../training/train.js";
import { defineBuiltin } from "./contract.js";
import { fileField } from "./references.js";

declare module "./contract.js" {
  interface BuiltinServices {
    tracking?: TrackingService;
  }
}

/** Text tables (CSV) give strings; a column whose every non-empty value is a number is numeric. */
function typedColumn(values: unknown[], categorical: boolean): ColumnValues {
  if (categorical) return values.map((v) => (v === null || v === undefined || v === "" ? null : String(v)));
  let numeric = true;
  for (const v of values) {
    if (v === null || v === undefined || v === "" || typeof v === "number") continue;
    if (typeof v === "bigint" || typeof v === "boolean") continue;
    if (!Number.isFinite(Number(v))) {
      numeric = false;
      break;
    }
  }
  if (!numeric) return values as ColumnValues;
  return values.map((v) => (v === null || v === undefined || v === "" ? null : Number(v)));
}

/**
 * The table file at `path` (a file, or a directory holding one) and its reader. The readers (CSV
 * parsing, profiles) load when a step trains, not with the pipelines service: importing them cost
 * every embedded command that reads runs about 80 ms of CPU at load 20 (issue 18).
 */
async function openTrainingTable(path: string) {
  const [{ openTable }, { tablePath }] = await Promise.all([
    import("../../data/readers/index.js"),
    import("../../registry/scoring.js"),
  ]);
  const file = await tablePath(path);
  return { file, reader: await openTable(file) };
}

export async function readTrainingTable(
  path: string,
  wanted: string[],
  categorical: ReadonlySet<string>,
): Promise<Record<string, ColumnValues>> {
  const { file, reader } = await openTrainingTable(path);
  const cols: Record<string, unknown[]> = Object.fromEntries(wanted.map((c) => [c, []]));
  for await (const chunk of reader.chunks()) {
    for (const c of wanted) {
      const col = chunk.columns[c];
      if (!col)
        throw new Error(`with.data: ${file} has no column ${JSON.stringify(c)} (columns: ${chunk.names.join(", ")})`);
      const out = cols[c]!;
      for (let i = 0; i < chunk.rows; i++) out.push(col[i]);
    }
  }
  return Object.fromEntries(wanted.map((c) => [c, typedColumn(cols[c]!, categorical.has(c))]));
}

export const trainBuiltin = defineBuiltin({
  name: "train",
  description: "Trains a built-in model (logistic regression or gradient-boosted trees) and writes it as ONNX.",
  with: z.strictObject({
    algorithm: z.enum(["logistic_regression", "gradient_boosting"]),
    task: z.enum(["binary_classification", "multiclass_classification", "regression"]),
    /** A table file or a directory holding one: a step output or a dataset input's path. */
    data: z.string().min(1),
    target: z.string().min(1),
    /** Input columns in model order (default: every column but the target). */
    features: z.array(z.string().min(1)).min(1).optional(),
    /** Columns to treat as categories even when they look numeric (e.g. airport ids). */
    categorical: z.array(z.string().min(1)).default([]),
    params: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])).default({}),
    /** Share held out for the reported metrics (default 0.2). */
    test_fraction: z.number().min(0).max(0.9).default(0.2),
    seed: z.number().int().default(42),
    /** The step output to write model.onnx into (default "model"). */
    output: z.string().min(1).default("model"),
  }),
  references: (w) => fileField(w, "data"),
  async run(ctx) {
    const w = ctx.with;
    const out = ctx.outputs[w.output];
    if (!out)
      throw new Error(`with.output: the step declares no output "${w.output}" (add outputs: { ${w.output}: dir })`);
    let features = w.features;
    if (!features) {
      const { reader } = await openTrainingTable(w.data);
      for await (const chunk of reader.chunks()) {
        features = chunk.names.filter((n) => n !== w.target);
        break;
      }
    }
    if (!features?.length) throw new Error(`with.data: ${w.data} has no feature columns`);
    if (features.includes(w.target)) throw new Error(`with.features: lists the target ${w.target}`);
    const started = Date.now();
    const columns = await readTrainingTable(w.data, [...features, w.target], new Set(w.categorical));
    ctx.log(`read ${columns[w.target]!.length} rows × ${features.length} features in ${Date.now() - started} ms`);

    const { tracking } = ctx.services;
    if (tracking && ctx.trackingRunId) {
      const params: Record<string, string> = {
        algorithm: w.algorithm,
        task: w.task,
        target: w.target,
        features: features.join(","),
        test_fraction: String(w.test_fraction),
        seed: String(w.seed),
      };
      for (const [k, v] of Object.entries(w.params)) params[`params.${k}`] = String(v);
      await tracking.logBatch(ctx.actor, ctx.project, ctx.trackingRunId, {
        params: Object.entries(params).map(([key, value]) => ({ key, value })),
      });
    }

    const t0 = Date.now();
    const result = await trainModelInWorker(
      {
        algorithm: w.algorithm,
        task: w.task,
        columns,
        target: w.target,
        features,
        params: w.params,
        testFraction: w.test_fraction,
        seed: w.seed,
      },
      { signal: ctx.signal },
    );
    const seconds = (Date.now() - t0) / 1000;
    await writeFile(join(out, "model.onnx"), result.onnxBytes);
    await writeFile(
      join(out, "metrics.json"),
      `${JSON.stringify({ metrics: result.metrics, evaluated_on: result.evaluatedOn, importances: result.importances }, null, 2)}\n`,
    );
    ctx.log(
      `${w.algorithm} (${w.task}) in ${seconds.toFixed(1)} s, on ${result.evaluatedOn}: ${Object.entries(result.metrics)
        .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toPrecision(4)}`)
        .join(" ")}`,
    );
    ctx.log(
      `importances: ${Object.entries(result.importances)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v.toFixed(3)}`)
        .join(", ")}`,
    );
    const metrics: Record<string, number> = { ...result.metrics, train_seconds: seconds };
    for (const [k, v] of Object.entries(result.importances)) metrics[`importance.${k}`] = v;
    return { metrics };
  },
});
