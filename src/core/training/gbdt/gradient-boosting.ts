/**
 * Histogram-based gradient-boosted trees (like scikit-learn's HistGradientBoosting and LightGBM):
 * binary log-loss or squared error, leaf-wise trees, early stopping on a held-out validation split.
 * Parameter names and defaults follow scikit-learn's so results can be compared side by side.
 */

import { availableParallelism } from "node:os";
import { InvalidInputError } from "../../errors.js";
import type { LabelledData, Matrix } from "../data.js";
import { subset, trainValidationSplit } from "../data.js";
import { sigmoid } from "../metrics.js";
import { applyBins, fitBins } from "./binning.js";
import { Grower } from "./grower.js";
import { HistogramWorker, sharedFloat64, sharedUint32 } from "./parallel.js";
import type { Tree } from "./tree.js";
import { addTreePredictions, addTreePredictionsBinned } from "./tree.js";

export type BoostingLoss = "log_loss" | "squared_error";

export interface GradientBoostingParams {
  /** "log_loss" for classification (labels 0..K-1), "squared_error" for regression. */
  loss: BoostingLoss;
  /** Classes for log_loss; above 2 the model grows one tree per class per iteration (default 2). */
  nClasses?: number;
  /** Boosting iterations (trees) at most (default 100). */
  maxIter?: number;
  /** Shrinkage applied to every leaf value (default 0.1). */
  learningRate?: number;
  /** Leaves per tree at most (default 31). */
  maxLeafNodes?: number;
  /** Depth limit, 0 = none (default 0). */
  maxDepth?: number;
  /** Rows per leaf at least (default 20). */
  minSamplesLeaf?: number;
  /** L2 penalty on leaf values (default 0). */
  l2Regularization?: number;
  /** Value bins per feature, at most 255 (default 255). */
  maxBins?: number;
  /** "auto" = on when there are more than 10 000 rows (default "auto"). */
  earlyStopping?: boolean | "auto";
  /** Share of rows held out for early stopping (default 0.1). */
  validationFraction?: number;
  /** Stop after this many iterations without improving the validation loss by `tol` (default 10). */
  nIterNoChange?: number;
  /** Smallest improvement that counts (default 1e-7). */
  tol?: number;
  /** Seed for the validation split and the binning sample (default 0). */
  seed?: number;
  /** Threads for histogram building, 1 or 2; used from 100 000 training rows (default 2 if 2+ cores). */
  threads?: number;
}

export interface GradientBoostingModel {
  kind: "gradient_boosting";
  loss: BoostingLoss;
  nFeatures: number;
  /** Classes (log_loss), 1 for regression. */
  nClasses: number;
  /**
   * Starting raw score per tree group: one value, or one per class when nClasses > 2 (float32 so the
   * trainer adds exactly the ONNX graph's base values).
   */
  baselines: number[];
  /** Iteration-major; with nClasses > 2, tree t belongs to class t % nClasses. */
  trees: Tree[];
  /** Gain per feature, normalised to sum to 1. */
  importances: number[];
  /** Validation loss per iteration when early stopping ran (index 0 = baseline only). */
  validationLoss: number[];
}

type Resolved = Required<Omit<GradientBoostingParams, "earlyStopping">> & { earlyStopping: boolean };

/** Under this many rows a second thread costs more (start-up, hand-offs) than it saves. */
const PARALLEL_MIN_TRAIN_ROWS = 100_000;

export function resolveParams(p: GradientBoostingParams, rows: number): Resolved {
  const r: Resolved = {
    loss: p.loss,
    nClasses: p.loss === "log_loss" ? (p.nClasses ?? 2) : 1,
    maxIter: p.maxIter ?? 100,
    learningRate: p.learningRate ?? 0.1,
    maxLeafNodes: p.maxLeafNodes ?? 31,
    maxDepth: p.maxDepth ?? 0,
    minSamplesLeaf: p.minSamplesLeaf ?? 20,
    l2Regularization: p.l2Regularization ?? 0,
    maxBins: p.maxBins ?? 255,
    earlyStopping: p.earlyStopping === undefined || p.earlyStopping === "auto" ? rows > 10_000 : p.earlyStopping,
    validationFraction: p.validationFraction ?? 0.1,
    nIterNoChange: p.nIterNoChange ?? 10,
    tol: p.tol ?? 1e-7,
    seed: p.seed ?? 0,
    threads: p.threads ?? Math.min(2, availableParallelism()),
  };
  const check = (ok: boolean, field: string, rule: string): void => {
    if (!ok) throw new InvalidInputError(`gradient_boosting: ${field} ${rule}`);
  };
  check(
    Number.isInteger(r.nClasses) && (r.loss !== "log_loss" || r.nClasses >= 2),
    "n_classes",
    "must be an integer >= 2",
  );
  check(Number.isInteger(r.maxIter) && r.maxIter >= 1, "max_iter", "must be an integer >= 1");
  check(r.learningRate > 0, "learning_rate", "must be > 0");
  check(Number.isInteger(r.maxLeafNodes) && r.maxLeafNodes >= 2, "max_leaf_nodes", "must be an integer >= 2");
  check(Number.isInteger(r.minSamplesLeaf) && r.minSamplesLeaf >= 1, "min_samples_leaf", "must be an integer >= 1");
  check(r.l2Regularization >= 0, "l2_regularization", "must be >= 0");
  check(Number.isInteger(r.maxBins) && r.maxBins >= 2 && r.maxBins <= 255, "max_bins", "must be an integer in 2..255");
  check(r.validationFraction > 0 && r.validationFraction < 1, "validation_fraction", "must be in (0, 1)");
  check(Number.isInteger(r.nIterNoChange) && r.nIterNoChange >= 1, "n_iter_no_change", "must be an integer >= 1");
  return r;
}

export function trainGradientBoosting(data: LabelledData, params: GradientBoostingParams): GradientBoostingModel {
  const p = resolveParams(params, data.x.rows);
  const classification = p.loss === "log_loss";
  // Tree groups per iteration: one per class for multinomial, else one.
  const k = classification && p.nClasses > 2 ? p.nClasses : 1;
  if (classification) {
    for (const v of data.y) {
      if (!Number.isInteger(v) || v < 0 || v >= Math.max(2, p.nClasses)) {
        throw new InvalidInputError(
          `gradient_boosting: log_loss needs class indices 0..${Math.max(2, p.nClasses) - 1}, got ${v}`,
        );
      }
    }
  }
  let train = data;
  let val: LabelledData | null = null;
  if (p.earlyStopping) {
    const split = trainValidationSplit({
      y: data.y,
      fraction: p.validationFraction,
      seed: p.seed,
      stratify: classification,
    });
    train = subset(data, split.train);
    val = subset(data, split.validation);
  }
  const n = train.x.rows;
  if (n < 2) throw new InvalidInputError("gradient_boosting: needs at least 2 training rows");
  const baselines = initialScores(p.loss, k, train.y);
  const mapper = fitBins(train.x, { maxBins: p.maxBins, seed: p.seed });
  const parallel = p.threads >= 2 && n >= PARALLEL_MIN_TRAIN_ROWS;
  const bins = applyBins(train.x, mapper, parallel);
  const valBins = val ? applyBins(val.x, mapper) : null;
  const grad = parallel ? sharedFloat64(n) : new Float64Array(n);
  const hess = classification ? (parallel ? sharedFloat64(n) : new Float64Array(n)) : null;
  const index = parallel ? sharedUint32(n) : new Uint32Array(n);
  const worker = parallel ? new HistogramWorker({ bins, cols: train.x.cols, idx: index, grad, hess }) : undefined;
  const grower = new Grower(
    {
      bins,
      rows: n,
      cols: train.x.cols,
      valueBins: Int32Array.from(mapper.thresholds, (t) => t.length + 1),
      thresholds: mapper.thresholds,
    },
    {
      maxLeafNodes: p.maxLeafNodes,
      maxDepth: p.maxDepth,
      minSamplesLeaf: p.minSamplesLeaf,
      l2: p.l2Regularization,
      learningRate: p.learningRate,
      minHessian: 1e-3,
    },
    { index, ...(worker ? { worker } : {}) },
  );
  const raw = baselines.map((b) => new Float64Array(n).fill(b));
  const valRaw = val ? baselines.map((b) => new Float64Array(val.x.rows).fill(b)) : null;
  const proba = k > 1 ? new Float64Array(n * k) : null;
  const trees: Tree[] = [];
  const validationLoss: number[] = [];
  if (val && valRaw) validationLoss.push(lossOf(p.loss, val.y, valRaw));
  try {
    for (let it = 0; it < p.maxIter; it++) {
      if (proba) softmaxRows(raw, proba);
      let allStumps = true;
      for (let c = 0; c < k; c++) {
        if (proba) classGradients(proba, k, c, train.y, grad, hess!);
        else computeGradients(p.loss, train.y, raw[0]!, grad, hess);
        const tree = grower.grow(grad, hess, raw[c]!);
        trees.push(tree);
        if (tree.feature.length > 1) allStumps = false;
        if (valRaw && valBins) addTreePredictionsBinned(tree, valBins, val!.x.cols, valRaw[c]!);
      }
      if (val && valRaw) {
        validationLoss.push(lossOf(p.loss, val.y, valRaw));
        if (shouldStop(validationLoss, p.nIterNoChange, p.tol)) break;
      }
      // Single-leaf trees mean no split helps any more.
      if (allStumps) break;
    }
  } finally {
    worker?.close();
  }
  let total = 0;
  for (const g of grower.gains) total += g;
  const importances = Array.from(grower.gains, (g) => (total > 0 ? g / total : 0));
  return {
    kind: "gradient_boosting",
    loss: p.loss,
    nFeatures: data.x.cols,
    nClasses: classification ? Math.max(2, p.nClasses) : 1,
    baselines,
    trees,
    importances,
    validationLoss,
  };
}

/** Mean for squared error, log-odds for binary, log class priors for multinomial (float32). */
function initialScores(loss: BoostingLoss, k: number, y: Float64Array): number[] {
  const n = y.length;
  if (loss === "squared_error") return [Math.fround(y.reduce((a, b) => a + b, 0) / n)];
  const counts = new Float64Array(Math.max(2, k));
  for (const v of y) counts[v] = counts[v]! + 1;
  if (k === 1) {
    const mean = counts[1]! / n;
    if (mean === 0 || mean === 1) throw new InvalidInputError("gradient_boosting: training labels hold a single class");
    return [Math.fround(Math.log(mean / (1 - mean)))];
  }
  // A class absent from training gets a tiny prior rather than log(0) = -Infinity.
  return Array.from(counts, (c) => Math.fround(Math.log(Math.max(c, 1e-3) / n)));
}

function softmaxRows(raw: Float64Array[], out: Float64Array): void {
  const k = raw.length;
  const n = raw[0]!.length;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, raw[c]![i]!);
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const e = Math.exp(raw[c]![i]! - max);
      out[i * k + c] = e;
      sum += e;
    }
    for (let c = 0; c < k; c++) out[i * k + c] = out[i * k + c]! / sum;
  }
}

function classGradients(
  proba: Float64Array,
  k: number,
  c: number,
  y: Float64Array,
  grad: Float64Array,
  hess: Float64Array,
): void {
  for (let i = 0; i < y.length; i++) {
    const p = proba[i * k + c]!;
    grad[i] = p - (y[i] === c ? 1 : 0);
    hess[i] = p * (1 - p);
  }
}

/** scikit-learn's rule: stop when none of the last n losses beats the one n+1 back by more than tol. */
function shouldStop(losses: number[], n: number, tol: number): boolean {
  if (losses.length <= n) return false;
  const reference = losses[losses.length - n - 1]!;
  for (let k = losses.length - n; k < losses.length; k++) if (losses[k]! < reference - tol) return false;
  return true;
}

function computeGradients(
  loss: BoostingLoss,
  y: Float64Array,
  raw: Float64Array,
  grad: Float64Array,
  hess: Float64Array | null,
): void {
  if (loss === "squared_error") {
    for (let i = 0; i < y.length; i++) grad[i] = raw[i]! - y[i]!;
    return;
  }
  for (let i = 0; i < y.length; i++) {
    // One exp per row, stable for either sign (this loop runs rows × iterations times).
    const z = raw[i]!;
    const e = Math.exp(-Math.abs(z));
    const pr = z >= 0 ? 1 / (1 + e) : e / (1 + e);
    grad[i] = pr - y[i]!;
    hess![i] = pr * (1 - pr);
  }
}

function lossOf(loss: BoostingLoss, y: Float64Array, raws: Float64Array[]): number {
  let s = 0;
  const raw = raws[0]!;
  if (loss === "squared_error") {
    for (let i = 0; i < y.length; i++) s += (raw[i]! - y[i]!) ** 2;
    return s / y.length;
  }
  if (raws.length === 1) {
    // log(1 + e^z) - y z, computed stably.
    for (let i = 0; i < y.length; i++) {
      const z = raw[i]!;
      s += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - y[i]! * z;
    }
    return s / y.length;
  }
  // Cross-entropy: logsumexp(z) - z_y.
  for (let i = 0; i < y.length; i++) {
    let max = -Infinity;
    for (const r of raws) max = Math.max(max, r[i]!);
    let sum = 0;
    for (const r of raws) sum += Math.exp(r[i]! - max);
    s += max + Math.log(sum) - raws[y[i]!]![i]!;
  }
  return s / y.length;
}

/** Raw scores per tree group (log-odds for binary, per-class scores for multinomial, values for regression). */
export function predictRaw(model: GradientBoostingModel, x: Matrix): Float64Array[] {
  if (x.cols !== model.nFeatures) {
    throw new InvalidInputError(`model expects ${model.nFeatures} features, got ${x.cols}`);
  }
  const k = model.baselines.length;
  const out = model.baselines.map((b) => new Float64Array(x.rows).fill(b));
  model.trees.forEach((t, i) => addTreePredictions(t, x.data, x.cols, out[i % k]!));
  return out;
}

/**
 * Regression: the value per row. Binary: the probability of class 1 per row. Multiclass: class
 * probabilities [rows, K] row-major.
 */
export function predictGradientBoosting(model: GradientBoostingModel, x: Matrix): Float64Array {
  const raws = predictRaw(model, x);
  if (model.loss === "squared_error") return raws[0]!;
  if (raws.length === 1) return raws[0]!.map(sigmoid);
  const out = new Float64Array(x.rows * raws.length);
  softmaxRows(raws, out);
  return out;
}
