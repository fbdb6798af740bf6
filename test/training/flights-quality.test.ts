/**
 * Issue 9's CI bar for the built-in trainers: on 50 000 rows of the real flights data, each algorithm on
 * classification (delayed > 15 min) and regression (delay minutes) scores no worse than scikit-learn on
 * the same split — ROC AUC ≥ sklearn − 0.01; RMSE ≤ sklearn × 1.01 (RMSE is in minutes, so the margin is
 * relative) — and the exported ONNX model reproduces the trainer's predictions in onnxruntime to 1e-5.
 * scikit-learn's figures were measured once by `npm run bench -- train --reference <fixture>`.
 */
import { readFileSync } from "node:fs";
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import type { FlightsTable, FlightsTask } from "../../src/core/training/flights.js";
import { flightsParquetPath, readFlights, splitFlights } from "../../src/core/training/flights.js";
import { predictGradientBoosting, trainGradientBoosting } from "../../src/core/training/gbdt/gradient-boosting.js";
import { predictLinear, trainLinear } from "../../src/core/training/linear.js";
import { rmse, rocAuc } from "../../src/core/training/metrics.js";
import { exportLinear } from "../../src/core/training/onnx/linear.js";
import { exportGradientBoosting } from "../../src/core/training/onnx/trees.js";
import { buildSignature } from "../../src/core/training/signature.js";

interface Reference {
  task: { sampleRows: number; seed: number; testFraction: number };
  gradient_boosting_params: Record<string, number | boolean>;
  linear_params: { l2_regularization: number };
  results: Record<string, Record<FlightsTask, { roc_auc?: number; rmse?: number }>>;
}
const reference = JSON.parse(
  readFileSync(new URL("../fixtures/training/sklearn-reference.json", import.meta.url), "utf8"),
) as Reference;

let table: FlightsTable;
// Reading all 3M rows (so the 50 000 are sampled across January–June) takes ~4 s on an idle machine.
beforeAll(async () => {
  table = await readFlights({ file: flightsParquetPath() });
}, 120_000);

async function onnxOutputs(
  bytes: Uint8Array,
  x: { rows: number; cols: number; data: Float32Array },
): Promise<ort.InferenceSession.OnnxValueMapType> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await session.run({ features: new ort.Tensor("float32", x.data, [x.rows, x.cols]) });
  } finally {
    await session.release();
  }
}

function maxRelDiff(onnx: ArrayLike<number>, mine: ArrayLike<number>, stride = 1, offset = 0): number {
  let m = 0;
  for (let i = 0; i < mine.length; i++) {
    const v = mine[i]!;
    m = Math.max(m, Math.abs(onnx[i * stride + offset]! - v) / Math.max(1, Math.abs(v)));
  }
  return m;
}

describe("built-in trainers on 50 000 flights vs scikit-learn", () => {
  const g = reference.gradient_boosting_params;
  for (const task of ["classification", "regression"] as const) {
    it(`gradient_boosting, ${task}`, async () => {
      const split = splitFlights({ table, task, ...reference.task });
      expect(split.train.x.rows + split.test.x.rows).toBe(reference.task.sampleRows);
      const model = trainGradientBoosting(split.train, {
        loss: task === "classification" ? "log_loss" : "squared_error",
        maxIter: g.max_iter as number,
        learningRate: g.learning_rate as number,
        maxLeafNodes: g.max_leaf_nodes as number,
        minSamplesLeaf: g.min_samples_leaf as number,
        l2Regularization: g.l2_regularization as number,
        maxBins: g.max_bins as number,
        earlyStopping: g.early_stopping as boolean,
        validationFraction: g.validation_fraction as number,
        nIterNoChange: g.n_iter_no_change as number,
        tol: g.tol as number,
        seed: g.seed as number,
      });
      const pred = predictGradientBoosting(model, split.test.x);
      const ref = reference.results.gradient_boosting![task];
      if (task === "classification") expect(rocAuc(split.test.y, pred)).toBeGreaterThanOrEqual(ref.roc_auc! - 0.01);
      else expect(rmse(split.test.y, pred)).toBeLessThanOrEqual(ref.rmse! * 1.01);

      const features = split.featureNames.map((name) => ({ name, type: "numeric" as const }));
      const signature = buildSignature({
        task: task === "classification" ? "binary_classification" : "regression",
        algorithm: "gradient_boosting",
        features,
        ...(task === "classification" ? { classLabels: [0, 1] } : {}),
      });
      const out = await onnxOutputs(exportGradientBoosting(model, signature), split.test.x);
      if (task === "classification")
        expect(maxRelDiff(out.probabilities!.data as Float32Array, pred, 2, 1)).toBeLessThan(1e-5);
      else expect(maxRelDiff(out.value!.data as Float32Array, pred)).toBeLessThan(1e-5);
    });

    it(`logistic_regression, ${task}`, async () => {
      const split = splitFlights({ table, task, ...reference.task });
      const model = trainLinear(split.train, {
        loss: task === "classification" ? "log_loss" : "squared_error",
        l2Regularization: reference.linear_params.l2_regularization,
      });
      const scores = predictLinear(model, split.test.x);
      const ref = reference.results.logistic_regression![task];
      const features = split.featureNames.map((name) => ({ name, type: "numeric" as const }));
      const signature = buildSignature({
        task: task === "classification" ? "binary_classification" : "regression",
        algorithm: "logistic_regression",
        features,
        ...(task === "classification" ? { classLabels: [0, 1] } : {}),
      });
      const out = await onnxOutputs(exportLinear(model, signature), split.test.x);
      if (task === "classification") {
        const p1 = scores.filter((_, j) => j % 2 === 1);
        expect(rocAuc(split.test.y, p1)).toBeGreaterThanOrEqual(ref.roc_auc! - 0.01);
        expect(maxRelDiff(out.probabilities!.data as Float32Array, scores)).toBeLessThan(1e-5);
      } else {
        expect(rmse(split.test.y, scores)).toBeLessThanOrEqual(ref.rmse! * 1.01);
        expect(maxRelDiff(out.value!.data as Float32Array, scores)).toBeLessThan(1e-5);
      }
    });
  }
});
