/**
 * `trainModel`: the one entry point the pipelines' built-in `tandem/train` step calls. It takes a table
 * (columns as arrays), an algorithm, a task and params (snake_case, as written in a pipeline file), and
 * returns the ONNX bytes with the signature embedded, test metrics and feature importances.
 */

import { InvalidInputError } from "../errors.js";
import type { LabelledData } from "./data.js";
import { matrixFromColumns, subset, trainValidationSplit } from "./data.js";
import type { GradientBoostingParams } from "./gbdt/gradient-boosting.js";
import { predictGradientBoosting, trainGradientBoosting } from "./gbdt/gradient-boosting.js";
import type { LinearParams } from "./linear.js";
import { predictLinear, trainLinear } from "./linear.js";
import { accuracy, logLoss, mae, r2, rmse, rocAuc } from "./metrics.js";
import { exportLinear } from "./onnx/linear.js";
import { exportGradientBoosting } from "./onnx/trees.js";
import type { FeatureSpec, ModelSignature, ModelTask } from "./signature.js";
import { buildSignature } from "./signature.js";

export type Algorithm = "logistic_regression" | "gradient_boosting";
export const ALGORITHMS: readonly Algorithm[] = ["logistic_regression", "gradient_boosting"];

export type ColumnValues = ArrayLike<number | string | bigint | boolean | null | undefined>;

export interface TrainModelOptions {
  /** "logistic_regression" (linear regression for the regression task) or "gradient_boosting". */
  algorithm: Algorithm;
  task: ModelTask;
  /** The table: equal-length columns by name. Strings are categorical; null/undefined/NaN are missing. */
  columns: Record<string, ColumnValues>;
  /** Column to predict. Rows where it is missing are dropped. */
  target: string;
  /** Feature columns in model input order (default: every column except the target). */
  features?: string[];
  /** Hyper-parameters, snake_case as in a pipeline file, e.g. { learning_rate: 0.05 } (default {}). */
  params?: Record<string, unknown>;
  /** Share of rows held out to compute the returned metrics; 0 = report training metrics (default 0.2). */
  testFraction?: number;
  /** Seed for the test split and the trainer's own randomness (default 42). */
  seed?: number;
}

export interface TrainModelResult {
  onnxBytes: Uint8Array;
  signature: ModelSignature;
  /**
   * Classification: roc_auc (binary), log_loss (binary), accuracy. Regression: rmse, mae, r2.
   * Always: n_train, n_test, iterations (trees, or optimiser iterations).
   */
  metrics: Record<string, number>;
  /** Where the metrics were measured. */
  evaluatedOn: "test" | "train";
  /** Per feature name, summing to 1: split gain (trees) or |standardised weight| (linear). */
  importances: Record<string, number>;
}

// Maps: a param is the user's name (tandem.yaml `with.params`), and `constructor` or `toString` must
// be unknown, not Object.prototype's member (before, they were accepted and did nothing).
const GBDT_PARAMS = new Map<string, keyof GradientBoostingParams>([
  ["max_iter", "maxIter"],
  ["learning_rate", "learningRate"],
  ["max_leaf_nodes", "maxLeafNodes"],
  ["max_depth", "maxDepth"],
  ["min_samples_leaf", "minSamplesLeaf"],
  ["l2_regularization", "l2Regularization"],
  ["max_bins", "maxBins"],
  ["early_stopping", "earlyStopping"],
  ["validation_fraction", "validationFraction"],
  ["n_iter_no_change", "nIterNoChange"],
  ["tol", "tol"],
]);
const LINEAR_PARAMS = new Map<string, keyof LinearParams>([
  ["l2_regularization", "l2Regularization"],
  ["max_iter", "maxIter"],
  ["early_stopping", "earlyStopping"],
  ["validation_fraction", "validationFraction"],
  ["n_iter_no_change", "nIterNoChange"],
  ["tol", "tol"],
]);

function mapParams(algorithm: Algorithm, params: Record<string, unknown>): Record<string, unknown> {
  const table = algorithm === "gradient_boosting" ? GBDT_PARAMS : LINEAR_PARAMS;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    const name = table.get(key);
    if (!name) {
      throw new InvalidInputError(`${algorithm}: unknown param "${key}" (known: ${[...table.keys()].join(", ")})`, {
        field: `params.${key}`,
      });
    }
    const ok =
      key === "early_stopping"
        ? typeof value === "boolean" || value === "auto"
        : typeof value === "number" && Number.isFinite(value);
    if (!ok)
      throw new InvalidInputError(
        `${algorithm}: param "${key}" must be ${key === "early_stopping" ? 'true, false or "auto"' : "a number"}`,
        { field: `params.${key}` },
      );
    out[name] = value;
  }
  return out;
}

/** Encodes the feature columns; strings become ordinal codes over their sorted distinct values. */
function encodeFeatures(
  columns: Record<string, ColumnValues>,
  names: string[],
): { specs: FeatureSpec[]; values: Float64Array[] } {
  const specs: FeatureSpec[] = [];
  const values: Float64Array[] = [];
  for (const name of names) {
    const col = columns[name];
    if (!col) throw new InvalidInputError(`feature column "${name}" is not in the table`, { field: "features" });
    const out = new Float64Array(col.length);
    let categorical = false;
    for (let i = 0; i < col.length; i++) if (typeof col[i] === "string") categorical = true;
    if (categorical) {
      const categories = [
        ...new Set(
          Array.from(col, (v) => (v === null || v === undefined ? null : String(v))).filter(
            (v): v is string => v !== null,
          ),
        ),
      ].sort();
      const code = new Map(categories.map((c, i) => [c, i]));
      for (let i = 0; i < col.length; i++) {
        const v = col[i];
        out[i] = v === null || v === undefined ? NaN : (code.get(String(v)) ?? NaN);
      }
      specs.push({ name, type: "categorical", categories });
    } else {
      for (let i = 0; i < col.length; i++) {
        const v = col[i];
        out[i] = v === null || v === undefined ? NaN : Number(v);
      }
      specs.push({ name, type: "numeric" });
    }
    values.push(out);
  }
  return { specs, values };
}

export function trainModel(options: TrainModelOptions): TrainModelResult {
  const { algorithm, task } = options;
  if (!ALGORITHMS.includes(algorithm)) {
    throw new InvalidInputError(`unknown algorithm "${String(algorithm)}" (known: ${ALGORITHMS.join(", ")})`, {
      field: "algorithm",
    });
  }
  const targetCol = options.columns[options.target];
  if (!targetCol)
    throw new InvalidInputError(`target column "${options.target}" is not in the table`, { field: "target" });
  const names = options.features ?? Object.keys(options.columns).filter((c) => c !== options.target);
  if (names.length === 0) throw new InvalidInputError("no feature columns", { field: "features" });
  const seed = options.seed ?? 42;
  const { specs, values } = encodeFeatures(options.columns, names);

  // Target: class indices for classifiers, numbers for regression; rows with a missing target dropped.
  const keep: number[] = [];
  let classLabels: (string | number)[] | undefined;
  const yAll = new Float64Array(targetCol.length);
  if (task === "regression") {
    for (let i = 0; i < targetCol.length; i++) {
      const v = targetCol[i];
      const num = v === null || v === undefined ? NaN : Number(v);
      if (!Number.isNaN(num)) {
        yAll[i] = num;
        keep.push(i);
      }
    }
  } else {
    const present = Array.from(targetCol).filter(
      (v) => v !== null && v !== undefined && !(typeof v === "number" && Number.isNaN(v)),
    );
    const numeric = present.every((v) => typeof v === "number" || typeof v === "boolean" || typeof v === "bigint");
    const distinct = [...new Set(present.map((v) => (numeric ? Number(v) : String(v))))];
    classLabels = numeric ? (distinct as number[]).sort((a, b) => a - b) : (distinct as string[]).sort();
    const index = new Map<string | number, number>(classLabels.map((c, i) => [c, i]));
    if (classLabels.length < 2)
      throw new InvalidInputError(`target "${options.target}" has fewer than 2 classes`, { field: "target" });
    if (task === "binary_classification" && classLabels.length !== 2) {
      throw new InvalidInputError(
        `binary_classification needs exactly 2 classes in "${options.target}", found ${classLabels.length}`,
        { field: "target" },
      );
    }
    for (let i = 0; i < targetCol.length; i++) {
      const v = targetCol[i];
      if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) continue;
      yAll[i] = index.get(numeric ? Number(v) : String(v))!;
      keep.push(i);
    }
  }
  if (keep.length < 10)
    throw new InvalidInputError(`only ${keep.length} rows with a target; need at least 10`, { field: "target" });
  const all: LabelledData = subset({ x: matrixFromColumns(values), y: yAll }, keep);

  const testFraction = options.testFraction ?? 0.2;
  if (!(testFraction >= 0 && testFraction < 1))
    throw new InvalidInputError("testFraction must be in [0, 1)", { field: "testFraction" });
  let train = all;
  let test = all;
  if (testFraction > 0) {
    const split = trainValidationSplit({ y: all.y, fraction: testFraction, seed, stratify: task !== "regression" });
    train = subset(all, split.train);
    test = subset(all, split.validation);
  }

  const params = mapParams(algorithm, options.params ?? {});
  const signature = buildSignature({
    task,
    algorithm,
    features: specs,
    target: options.target,
    ...(classLabels ? { classLabels } : {}),
  });
  const metrics: Record<string, number> = { n_train: train.x.rows, n_test: testFraction > 0 ? test.x.rows : 0 };
  let onnxBytes: Uint8Array;
  let importanceList: number[];
  let scores: Float64Array;
  let width: number;
  if (algorithm === "gradient_boosting") {
    const model = trainGradientBoosting(train, {
      ...(params as Partial<GradientBoostingParams>),
      loss: task === "regression" ? "squared_error" : "log_loss",
      ...(classLabels ? { nClasses: classLabels.length } : {}),
      seed,
    });
    onnxBytes = exportGradientBoosting(model, signature);
    importanceList = model.importances;
    metrics.iterations = model.trees.length / model.baselines.length;
    const p = predictGradientBoosting(model, test.x);
    width = task === "regression" ? 1 : model.nClasses;
    // Binary predictions are P(class 1) per row; widen them to [1 − p, p] like the other classifiers.
    scores =
      task === "regression" || model.nClasses > 2
        ? p
        : new Float64Array(p.length * 2).map((_, j) => (j % 2 === 1 ? p[j >> 1]! : 1 - p[j >> 1]!));
  } else {
    const model = trainLinear(train, {
      ...(params as Partial<LinearParams>),
      loss: task === "regression" ? "squared_error" : "log_loss",
      ...(classLabels ? { nClasses: classLabels.length } : {}),
      seed,
    });
    onnxBytes = exportLinear(model, signature);
    importanceList = model.importances;
    metrics.iterations = model.iterations;
    scores = predictLinear(model, test.x);
    width = task === "regression" ? 1 : Math.max(2, model.nOutputs);
  }
  Object.assign(metrics, evaluate(task, test.y, scores, width));
  return {
    onnxBytes,
    signature,
    metrics,
    evaluatedOn: testFraction > 0 ? "test" : "train",
    importances: Object.fromEntries(names.map((n, j) => [n, importanceList[j] ?? 0])),
  };
}

function evaluate(task: ModelTask, y: Float64Array, scores: Float64Array, width: number): Record<string, number> {
  if (task === "regression") return { rmse: rmse(y, scores), mae: mae(y, scores), r2: r2(y, scores) };
  const labels = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    let best = 0;
    for (let c = 1; c < width; c++) if (scores[i * width + c]! > scores[i * width + best]!) best = c;
    labels[i] = best;
  }
  const out: Record<string, number> = { accuracy: accuracy(y, labels) };
  if (width === 2) {
    const p1 = new Float64Array(y.length).map((_, i) => scores[i * 2 + 1]!);
    out.roc_auc = rocAuc(y, p1);
    out.log_loss = logLoss(y, p1);
  }
  return out;
}
