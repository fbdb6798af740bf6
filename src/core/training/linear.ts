/**
 * Linear models: logistic regression (binary, or multinomial for 3+ classes) and linear (ridge)
 * regression. Features are standardised (missing values imputed with the training mean), an L2 penalty
 * keeps weights small, L-BFGS minimises the mean loss, and training stops early once the loss on a
 * held-out validation split stops improving (the best weights seen are kept).
 *
 * The fitted model stores weights already mapped back to raw feature units, so prediction — here and in
 * the exported ONNX graph — is one MatMul + Add on the raw inputs.
 */

import { InvalidInputError } from "../errors.js";
import type { LabelledData, Matrix } from "./data.js";
import { subset, trainValidationSplit } from "./data.js";
import { minimizeLbfgs } from "./lbfgs.js";

export type LinearLoss = "log_loss" | "squared_error";

export interface LinearParams {
  /** "log_loss": classification (labels 0..K-1); "squared_error": regression. */
  loss: LinearLoss;
  /** Classes for log_loss (default 2). */
  nClasses?: number;
  /** L2 penalty on standardised weights, added to the mean loss as l2/2·‖w‖² (default 1e-4). */
  l2Regularization?: number;
  /** L-BFGS iterations at most (default 200). */
  maxIter?: number;
  /** "auto" = on when there are more than 10 000 rows (default "auto"). */
  earlyStopping?: boolean | "auto";
  /** Share of rows held out for early stopping (default 0.1). */
  validationFraction?: number;
  /** Stop after this many iterations without a validation improvement above `tol` (default 10). */
  nIterNoChange?: number;
  /** Smallest validation-loss improvement that counts (default 1e-7). */
  tol?: number;
  /** Seed of the validation split (default 0). */
  seed?: number;
}

export interface LinearModel {
  kind: "linear";
  loss: LinearLoss;
  nFeatures: number;
  /** 1 for binary classification and regression, K for K ≥ 3 classes. */
  nOutputs: number;
  /** [F, K] row-major, in raw feature units (float32: what the ONNX graph multiplies by). */
  weights: Float32Array;
  bias: Float32Array;
  /** Value used for a missing (NaN) feature: its training mean. */
  imputeValues: Float32Array;
  /** |standardised weight| per feature, normalised to sum to 1. */
  importances: number[];
  validationLoss: number[];
  iterations: number;
}

export function trainLinear(data: LabelledData, params: LinearParams): LinearModel {
  const l2 = params.l2Regularization ?? 1e-4;
  const classification = params.loss === "log_loss";
  const nClasses = classification ? (params.nClasses ?? 2) : 0;
  const k = classification && nClasses > 2 ? nClasses : 1;
  if (l2 < 0) throw new InvalidInputError("logistic_regression: l2_regularization must be >= 0");
  if (classification) {
    for (const v of data.y) {
      if (!Number.isInteger(v) || v < 0 || v >= nClasses) {
        throw new InvalidInputError(`linear model: labels must be class indices 0..${nClasses - 1}, got ${v}`);
      }
    }
  }
  const early =
    params.earlyStopping === undefined || params.earlyStopping === "auto" ? data.x.rows > 10_000 : params.earlyStopping;
  let train = data;
  let val: LabelledData | null = null;
  if (early) {
    const split = trainValidationSplit({
      y: data.y,
      fraction: params.validationFraction ?? 0.1,
      seed: params.seed ?? 0,
      stratify: classification,
    });
    train = subset(data, split.train);
    val = subset(data, split.validation);
  }
  const f = train.x.cols;
  const n = train.x.rows;
  if (n < 2) throw new InvalidInputError("linear model: needs at least 2 training rows");
  const { mean, std } = columnStats(train.x);
  const xTrain = imputed(train.x, mean);
  const xVal = val ? imputed(val.x, mean) : null;
  // Regression targets are standardised too, so one l2 default suits any target scale.
  let yMean = 0;
  let yStd = 1;
  if (!classification) {
    for (const v of train.y) yMean += v;
    yMean /= n;
    let s = 0;
    for (const v of train.y) s += (v - yMean) ** 2;
    yStd = Math.sqrt(s / n) || 1;
  }
  const scaleY = (y: Float64Array): Float64Array => (classification ? y : y.map((v) => (v - yMean) / yStd));
  const yTrain = scaleY(train.y);
  const yVal = val ? scaleY(val.y) : null;
  const objective = makeObjective({ x: xTrain, y: yTrain, mean, std, k, loss: params.loss, l2 });
  const valObjective =
    xVal && yVal ? makeObjective({ x: xVal, y: yVal, mean, std, k, loss: params.loss, l2: 0 }) : null;
  const theta0 = new Float64Array((f + 1) * k);
  const validationLoss: number[] = [];
  let best = theta0;
  let bestLoss = Infinity;
  let sinceBest = 0;
  const nIterNoChange = params.nIterNoChange ?? 10;
  const tol = params.tol ?? 1e-7;
  const scratch = new Float64Array(theta0.length);
  if (valObjective) validationLoss.push(valObjective(theta0, scratch));
  const result = minimizeLbfgs(objective, theta0, {
    maxIter: params.maxIter ?? 200,
    onIteration: (_it, theta) => {
      if (!valObjective) return false;
      const loss = valObjective(theta, scratch);
      validationLoss.push(loss);
      if (loss < bestLoss - tol) {
        bestLoss = loss;
        best = Float64Array.from(theta);
        sinceBest = 0;
      } else sinceBest++;
      return sinceBest >= nIterNoChange;
    },
  });
  const theta = valObjective ? best : result.theta;
  // Map standardised weights back to raw units: z = Σ (x_j − μ_j)/σ_j · w_j + b.
  const weights = new Float32Array(f * k);
  const bias = new Float32Array(k);
  const importance = new Float64Array(f);
  for (let c = 0; c < k; c++) {
    let b = theta[f * k + c]!;
    for (let j = 0; j < f; j++) {
      const w = theta[j * k + c]!;
      importance[j] = importance[j]! + Math.abs(w);
      weights[j * k + c] = (w / std[j]!) * yStd;
      b -= (w * mean[j]!) / std[j]!;
    }
    bias[c] = b * yStd + yMean;
  }
  const total = importance.reduce((a, b) => a + b, 0);
  return {
    kind: "linear",
    loss: params.loss,
    nFeatures: f,
    nOutputs: k,
    weights,
    bias,
    imputeValues: Float32Array.from(mean),
    importances: Array.from(importance, (v) => (total > 0 ? v / total : 0)),
    validationLoss,
    iterations: result.iterations,
  };
}

function columnStats(x: Matrix): { mean: Float64Array; std: Float64Array } {
  const f = x.cols;
  const mean = new Float64Array(f);
  const count = new Float64Array(f);
  const sq = new Float64Array(f);
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < f; j++) {
      const v = x.data[i * f + j]!;
      if (v === v) {
        mean[j] = mean[j]! + v;
        count[j] = count[j]! + 1;
      }
    }
  }
  for (let j = 0; j < f; j++) mean[j] = count[j]! > 0 ? mean[j]! / count[j]! : 0;
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < f; j++) {
      const v = x.data[i * f + j]!;
      if (v === v) sq[j] = sq[j]! + (v - mean[j]!) ** 2;
    }
  }
  // A constant column gets σ = 1 so its (zero) standardised values stay finite.
  const std = sq.map((s, j) => Math.sqrt(s / Math.max(1, count[j]!)) || 1);
  return { mean, std };
}

/** The matrix with NaN replaced by the column mean (a copy only when there is a NaN). */
function imputed(x: Matrix, mean: Float64Array): Matrix {
  if (!x.data.some((v) => v !== v)) return x;
  const data = x.data.slice();
  for (let i = 0; i < data.length; i++) if (data[i] !== data[i]) data[i] = mean[i % x.cols]!;
  return { rows: x.rows, cols: x.cols, data };
}

/**
 * Mean loss and gradient over standardised features, computed on the raw matrix: standardisation is
 * folded into effective weights so no standardised copy of the data is ever made.
 */
function makeObjective(o: {
  x: Matrix;
  y: Float64Array;
  mean: Float64Array;
  std: Float64Array;
  k: number;
  loss: LinearLoss;
  l2: number;
}) {
  const { x, y, mean, std, k, loss, l2 } = o;
  const f = x.cols;
  const n = x.rows;
  const eff = new Float64Array(f * k);
  const effBias = new Float64Array(k);
  const z = new Float64Array(k);
  const rawGrad = new Float64Array(f * k);
  const residSum = new Float64Array(k);
  return (theta: Float64Array, grad: Float64Array): number => {
    for (let c = 0; c < k; c++) {
      let b = theta[f * k + c]!;
      for (let j = 0; j < f; j++) {
        eff[j * k + c] = theta[j * k + c]! / std[j]!;
        b -= (theta[j * k + c]! * mean[j]!) / std[j]!;
      }
      effBias[c] = b;
    }
    rawGrad.fill(0);
    residSum.fill(0);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const base = i * f;
      for (let c = 0; c < k; c++) {
        let s = effBias[c]!;
        for (let j = 0; j < f; j++) s += x.data[base + j]! * eff[j * k + c]!;
        z[c] = s;
      }
      const yi = y[i]!;
      if (loss === "squared_error") {
        const r = z[0]! - yi;
        total += 0.5 * r * r;
        z[0] = r;
      } else if (k === 1) {
        const zi = z[0]!;
        total += (zi > 0 ? zi + Math.log1p(Math.exp(-zi)) : Math.log1p(Math.exp(zi))) - yi * zi;
        z[0] = (zi >= 0 ? 1 / (1 + Math.exp(-zi)) : Math.exp(zi) / (1 + Math.exp(zi))) - yi;
      } else {
        let max = -Infinity;
        for (let c = 0; c < k; c++) max = Math.max(max, z[c]!);
        let sum = 0;
        for (let c = 0; c < k; c++) sum += Math.exp(z[c]! - max);
        total += max + Math.log(sum) - z[yi]!;
        for (let c = 0; c < k; c++) z[c] = Math.exp(z[c]! - max) / sum - (c === yi ? 1 : 0);
      }
      // z now holds the residuals dLoss/dz.
      for (let c = 0; c < k; c++) {
        const r = z[c]!;
        residSum[c] = residSum[c]! + r;
        for (let j = 0; j < f; j++) rawGrad[j * k + c] = rawGrad[j * k + c]! + r * x.data[base + j]!;
      }
    }
    let penalty = 0;
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < f; j++) {
        const w = theta[j * k + c]!;
        penalty += w * w;
        grad[j * k + c] = (rawGrad[j * k + c]! - mean[j]! * residSum[c]!) / std[j]! / n + l2 * w;
      }
      grad[f * k + c] = residSum[c]! / n;
    }
    return total / n + 0.5 * l2 * penalty;
  };
}

/**
 * Predictions for each row: log_loss → class probabilities [rows, max(2, K)] row-major (binary: [1−p, p]);
 * squared_error → values [rows].
 */
export function predictLinear(model: LinearModel, x: Matrix): Float64Array {
  if (x.cols !== model.nFeatures)
    throw new InvalidInputError(`model expects ${model.nFeatures} features, got ${x.cols}`);
  const f = x.cols;
  const k = model.nOutputs;
  const classification = model.loss === "log_loss";
  const width = classification ? Math.max(2, k) : 1;
  const out = new Float64Array(x.rows * width);
  const z = new Float64Array(k);
  for (let i = 0; i < x.rows; i++) {
    for (let c = 0; c < k; c++) {
      let s = model.bias[c]!;
      for (let j = 0; j < f; j++) {
        let v = x.data[i * f + j]!;
        if (v !== v) v = model.imputeValues[j]!;
        s += v * model.weights[j * k + c]!;
      }
      z[c] = s;
    }
    if (!classification) out[i] = z[0]!;
    else if (k === 1) {
      const p = 1 / (1 + Math.exp(-z[0]!));
      out[i * 2] = 1 - p;
      out[i * 2 + 1] = p;
    } else {
      let max = -Infinity;
      for (let c = 0; c < k; c++) max = Math.max(max, z[c]!);
      let sum = 0;
      for (let c = 0; c < k; c++) sum += Math.exp(z[c]! - max);
      for (let c = 0; c < k; c++) out[i * k + c] = Math.exp(z[c]! - max) / sum;
    }
  }
  return out;
}
