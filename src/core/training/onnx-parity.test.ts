import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import type { LabelledData, Matrix } from "./data.js";
import { rng } from "./data.js";
import { predictGradientBoosting, trainGradientBoosting } from "./gbdt/gradient-boosting.js";
import { predictLinear, trainLinear } from "./linear.js";
import { exportLinear } from "./onnx/linear.js";
import { readSignature } from "./onnx/proto.js";
import { exportGradientBoosting } from "./onnx/trees.js";
import type { ModelTask } from "./signature.js";
import { buildSignature } from "./signature.js";

/** Synthetic rows: 4 features (one with 5% NaN, one categorical-like), labels from a known rule. */
function synthetic(rows: number, task: "binary" | "multiclass" | "regression", seed = 1): LabelledData {
  const r = rng(seed);
  const f = 4;
  const data = new Float32Array(rows * f);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const a = r() * 10 - 5;
    const b = r() < 0.05 ? NaN : r() * 3;
    const c = Math.floor(r() * 6);
    const d = r();
    data.set([a, b, c, d], i * f);
    const signal = 0.8 * a + (Number.isNaN(b) ? 1 : b) - (c === 3 ? 2 : 0) + Math.sin(d * 6) + (r() - 0.5) * 2;
    if (task === "regression") y[i] = 10 * signal + 50;
    else if (task === "binary") y[i] = signal > 1 ? 1 : 0;
    else y[i] = signal < -1 ? 0 : signal < 2 ? 1 : 2;
  }
  return { x: { rows, cols: f, data }, y };
}

const features = ["a", "b", "c", "d"].map((name) => ({ name, type: "numeric" as const }));

async function runOnnx(bytes: Uint8Array, x: Matrix): Promise<ort.InferenceSession.OnnxValueMapType> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await session.run({ features: new ort.Tensor("float32", x.data, [x.rows, x.cols]) });
  } finally {
    await session.release();
  }
}

/** Largest |onnx − trainer| relative to max(1, |trainer|): float32 outputs cannot do better than that. */
function maxRelDiff(onnx: ArrayLike<number>, mine: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < mine.length; i++)
    m = Math.max(m, Math.abs(onnx[i]! - mine[i]!) / Math.max(1, Math.abs(mine[i]!)));
  return m;
}

/** Labels must agree except where the probability is within float rounding of the 0.5 boundary. */
function labelMismatches(labels: BigInt64Array, probs: Float64Array, k: number): number {
  let bad = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = Array.from(probs.subarray(i * k, (i + 1) * k));
    const argmax = row.indexOf(Math.max(...row));
    const sorted = [...row].sort((a, b) => b - a);
    if (Number(labels[i]) !== argmax && sorted[0]! - sorted[1]! > 1e-5) bad++;
  }
  return bad;
}

function signatureFor(task: ModelTask, algorithm: string, k = 2) {
  return buildSignature({
    task,
    algorithm,
    features,
    ...(task === "regression" ? {} : { classLabels: Array.from({ length: k }, (_, i) => i) }),
  });
}

describe("ONNX export parity with onnxruntime", () => {
  it("gradient boosting, binary: probabilities within 1e-5, same labels", async () => {
    const train = synthetic(5000, "binary");
    const test = synthetic(2000, "binary", 2);
    const model = trainGradientBoosting(train, { loss: "log_loss", maxIter: 60 });
    const signature = signatureFor("binary_classification", "gradient_boosting");
    const bytes = exportGradientBoosting(model, signature);
    expect(readSignature(bytes)).toEqual(signature);
    const out = await runOnnx(bytes, test.x);
    expect(out.probabilities!.dims).toEqual([2000, 2]);
    expect(out.label!.dims).toEqual([2000]);
    const p1 = predictGradientBoosting(model, test.x);
    const mine = new Float64Array(4000);
    p1.forEach((p, i) => mine.set([1 - p, p], i * 2));
    expect(maxRelDiff(out.probabilities!.data as Float32Array, mine)).toBeLessThan(1e-5);
    expect(labelMismatches(out.label!.data as BigInt64Array, mine, 2)).toBe(0);
  });

  it("gradient boosting, multiclass: softmax probabilities within 1e-5, same labels", async () => {
    const train = synthetic(5000, "multiclass");
    const test = synthetic(2000, "multiclass", 2);
    const model = trainGradientBoosting(train, { loss: "log_loss", nClasses: 3, maxIter: 40 });
    expect(model.trees.length % 3).toBe(0);
    const out = await runOnnx(
      exportGradientBoosting(model, signatureFor("multiclass_classification", "gradient_boosting", 3)),
      test.x,
    );
    expect(out.probabilities!.dims).toEqual([2000, 3]);
    const mine = predictGradientBoosting(model, test.x);
    expect(maxRelDiff(out.probabilities!.data as Float32Array, mine)).toBeLessThan(1e-5);
    expect(labelMismatches(out.label!.data as BigInt64Array, mine, 3)).toBe(0);
    let correct = 0;
    for (let i = 0; i < 2000; i++) {
      const row = Array.from(mine.subarray(i * 3, i * 3 + 3));
      if (row.indexOf(Math.max(...row)) === test.y[i]) correct++;
    }
    expect(correct / 2000).toBeGreaterThan(0.7);
  });

  it("gradient boosting, regression: values within 1e-5 (relative to max(1,|v|))", async () => {
    const train = synthetic(5000, "regression");
    const test = synthetic(2000, "regression", 2);
    const model = trainGradientBoosting(train, { loss: "squared_error", maxIter: 80, maxLeafNodes: 15 });
    const out = await runOnnx(exportGradientBoosting(model, signatureFor("regression", "gradient_boosting")), test.x);
    expect(out.value!.dims).toEqual([2000, 1]);
    expect(maxRelDiff(out.value!.data as Float32Array, predictGradientBoosting(model, test.x))).toBeLessThan(1e-5);
  });

  it("logistic regression, binary and multiclass", async () => {
    for (const [task, k] of [
      ["binary", 2],
      ["multiclass", 3],
    ] as const) {
      const train = synthetic(5000, task);
      const test = synthetic(2000, task, 2);
      const model = trainLinear(train, { loss: "log_loss", nClasses: k });
      const sigTask = k === 2 ? "binary_classification" : "multiclass_classification";
      const out = await runOnnx(exportLinear(model, signatureFor(sigTask, "logistic_regression", k)), test.x);
      expect(out.probabilities!.dims).toEqual([2000, k]);
      const mine = predictLinear(model, test.x);
      expect(maxRelDiff(out.probabilities!.data as Float32Array, mine)).toBeLessThan(1e-5);
      expect(labelMismatches(out.label!.data as BigInt64Array, mine, k)).toBe(0);
    }
  });

  it("linear regression", async () => {
    const train = synthetic(5000, "regression");
    const test = synthetic(2000, "regression", 2);
    const model = trainLinear(train, { loss: "squared_error" });
    const out = await runOnnx(exportLinear(model, signatureFor("regression", "logistic_regression")), test.x);
    expect(out.value!.dims).toEqual([2000, 1]);
    expect(maxRelDiff(out.value!.data as Float32Array, predictLinear(model, test.x))).toBeLessThan(1e-5);
  });
});
