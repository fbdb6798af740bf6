import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../errors.js";
import type { LabelledData } from "./data.js";
import { rng } from "./data.js";
import { applyBins, fitBins } from "./gbdt/binning.js";
import { predictGradientBoosting, trainGradientBoosting } from "./gbdt/gradient-boosting.js";
import { predictLinear, trainLinear } from "./linear.js";
import { rocAuc } from "./metrics.js";
import { readSignature } from "./onnx/proto.js";
import { trainModel } from "./train.js";

/** y = 1 when a noisy non-linear score is positive; feature 2 is pure noise. */
function data(rows: number, seed: number): LabelledData {
  const r = rng(seed);
  const x = new Float32Array(rows * 3);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const a = r() * 4 - 2;
    const b = r() * 4 - 2;
    x.set([a, b, r()], i * 3);
    y[i] = a * a - 1 + b + (r() - 0.5) > 0 ? 1 : 0;
  }
  return { x: { rows, cols: 3, data: x }, y };
}

describe("binning", () => {
  it("uses midpoints for few distinct values and at most max_bins bins otherwise", () => {
    const few = { rows: 6, cols: 1, data: Float32Array.from([1, 2, 2, 3, NaN, 1]) };
    const mapper = fitBins(few, { maxBins: 255, seed: 0 });
    expect(Array.from(mapper.thresholds[0]!)).toEqual([1.5, 2.5]);
    expect(Array.from(applyBins(few, mapper))).toEqual([0, 1, 1, 2, 255, 0]);
    const many = data(5000, 1);
    const m2 = fitBins(many.x, { maxBins: 32, seed: 0 });
    for (const t of m2.thresholds) expect(t.length).toBeLessThanOrEqual(31);
  });
});

describe("gradient boosting", () => {
  it("learns a non-linear rule, ranks the noise feature last, and stops early on a plateau", () => {
    const train = data(20_000, 1);
    const test = data(5000, 2);
    const model = trainGradientBoosting(train, { loss: "log_loss", maxIter: 300 });
    expect(rocAuc(test.y, predictGradientBoosting(model, test.x))).toBeGreaterThan(0.95);
    expect(model.importances.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(model.importances[2]!).toBeLessThan(Math.min(model.importances[0]!, model.importances[1]!));
    expect(model.trees.length).toBeLessThan(300);
  });

  it("builds the same trees with a histogram worker thread as without", () => {
    const train = data(110_000, 3);
    const one = trainGradientBoosting(train, { loss: "log_loss", maxIter: 3, threads: 1, earlyStopping: false });
    const two = trainGradientBoosting(train, { loss: "log_loss", maxIter: 3, threads: 2, earlyStopping: false });
    expect(two.trees).toEqual(one.trees);
  });

  it("refuses bad parameters with the parameter's name", () => {
    const train = data(100, 1);
    expect(() => trainGradientBoosting(train, { loss: "log_loss", maxLeafNodes: 1 })).toThrow(/max_leaf_nodes/);
    expect(() => trainGradientBoosting({ ...train, y: train.y.map(() => 2) }, { loss: "log_loss" })).toThrow(
      InvalidInputError,
    );
  });
});

describe("linear models", () => {
  it("fits a logistic regression with early stopping and keeps the best validation weights", () => {
    const train = data(20_000, 1);
    const model = trainLinear(train, { loss: "log_loss" });
    const p = predictLinear(model, data(5000, 2).x).filter((_, j) => j % 2 === 1);
    expect(rocAuc(data(5000, 2).y, p)).toBeGreaterThan(0.7);
    expect(model.validationLoss.length).toBeGreaterThan(1);
  });
});

describe("trainModel", () => {
  it("encodes string features as categories, maps class labels, and returns a loadable ONNX model", async () => {
    const r = rng(5);
    const n = 3000;
    const city: string[] = [];
    const hour: number[] = [];
    const outcome: string[] = [];
    for (let i = 0; i < n; i++) {
      const c = ["oslo", "rome", "lima"][Math.floor(r() * 3)]!;
      const h = Math.floor(r() * 24);
      city.push(c);
      hour.push(h);
      outcome.push((c === "rome" ? 0.7 : 0.2) + (h > 16 ? 0.3 : 0) > r() + 0.2 ? "late" : "on_time");
    }
    for (const algorithm of ["gradient_boosting", "logistic_regression"] as const) {
      const result = trainModel({
        algorithm,
        task: "binary_classification",
        columns: { city, hour, outcome },
        target: "outcome",
      });
      expect(result.signature.features).toEqual([
        { name: "city", type: "categorical", categories: ["lima", "oslo", "rome"] },
        { name: "hour", type: "numeric" },
      ]);
      expect(result.signature.classLabels).toEqual(["late", "on_time"]);
      expect(readSignature(result.onnxBytes)).toEqual(result.signature);
      expect(result.metrics.roc_auc).toBeGreaterThan(0.6);
      expect(result.metrics.n_train! + result.metrics.n_test!).toBe(n);
      expect(Object.keys(result.importances)).toEqual(["city", "hour"]);
      const session = await ort.InferenceSession.create(result.onnxBytes);
      const out = await session.run({ features: new ort.Tensor("float32", Float32Array.from([2, 20, 0, 3]), [2, 2]) });
      expect(out.probabilities!.dims).toEqual([2, 2]);
      await session.release();
    }
  });

  it("names the offending field in its errors", () => {
    const columns = { a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], y: [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2] };
    expect(() =>
      trainModel({
        algorithm: "gradient_boosting",
        task: "regression",
        columns,
        target: "y",
        params: { learning_rat: 0.1 },
      }),
    ).toThrow(/unknown param "learning_rat"/);
    const multiTrees = trainModel({
      algorithm: "gradient_boosting",
      task: "multiclass_classification",
      columns,
      target: "y",
      testFraction: 0,
      params: { min_samples_leaf: 1, max_iter: 5 },
    });
    expect(multiTrees.signature.outputs[1]!.shape).toEqual([null, 3]);
    expect(() => trainModel({ algorithm: "logistic_regression", task: "regression", columns, target: "nope" })).toThrow(
      /target column "nope"/,
    );
    const multi = trainModel({
      algorithm: "logistic_regression",
      task: "multiclass_classification",
      columns,
      target: "y",
      testFraction: 0,
    });
    expect(multi.signature.outputs[1]!.shape).toEqual([null, 3]);
  });
});

describe("trainModelInWorker", () => {
  it("trains off the main thread and keeps input errors typed", async () => {
    const { trainModelInWorker } = await import("./train-async.js");
    const columns = {
      a: Array.from({ length: 200 }, (_, i) => i % 17),
      y: Array.from({ length: 200 }, (_, i) => (i % 17) * 2 + (i % 3)),
    };
    const result = await trainModelInWorker({
      algorithm: "gradient_boosting",
      task: "regression",
      columns,
      target: "y",
    });
    expect(result.onnxBytes).toBeInstanceOf(Uint8Array);
    expect(result.metrics.rmse).toBeLessThan(2);
    await expect(
      trainModelInWorker({ algorithm: "gradient_boosting", task: "regression", columns, target: "zz" }),
    ).rejects.toThrow(InvalidInputError);
  });
});
