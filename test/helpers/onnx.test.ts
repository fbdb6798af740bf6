import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { onnxSignature } from "../../src/core/registry/artifact.js";
import { tinyOnnx } from "./onnx.js";

describe("tinyOnnx test models", () => {
  it("runs in onnxruntime as a binary classifier and carries its signature", async () => {
    const bytes = tinyOnnx({ features: ["a", "b"], weights: [2, -1], bias: 0 });
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({ features: new ort.Tensor("float32", Float32Array.from([1, 0, 0, 3]), [2, 2]) });
    const probs = Array.from(out.probabilities!.data as Float32Array);
    expect(probs[1]).toBeCloseTo(1 / (1 + Math.exp(-2)), 5);
    expect(Array.from(out.label!.data as BigInt64Array)).toEqual([1n, 0n]);
    const sig = onnxSignature(bytes, "tiny.onnx");
    expect(sig.source).toBe("metadata");
    expect(sig.model?.features.map((f) => f.name)).toEqual(["a", "b"]);
    expect(sig.inputs).toEqual([{ name: "features", type: "float32", shape: [null, 2] }]);
  });

  it("reads the graph alone when there is no signature metadata", async () => {
    const bytes = tinyOnnx({ features: ["x"], task: "regression", signature: false });
    const out = await (
      await ort.InferenceSession.create(bytes)
    ).run({ features: new ort.Tensor("float32", Float32Array.from([4]), [1, 1]) });
    expect(out.value!.data[0]).toBeCloseTo(4);
    const sig = onnxSignature(bytes, "r.onnx");
    expect(sig).toEqual({
      source: "graph",
      inputs: [{ name: "features", type: "float32", shape: [null, 1] }],
      outputs: [{ name: "value", type: "float32", shape: [null, 1] }],
    });
  });

  it("refuses bytes that are not ONNX", () => {
    expect(() => onnxSignature(Buffer.from("not a model at all, just text"), "x.onnx")).toThrow(
      /x.onnx is not an ONNX model/,
    );
  });
});
