import { describe, expect, it } from "vitest";
import type { ModelSignature } from "../core/training/signature.js";
import { fromMlflowPredictions, mlflowProtocol, toDataframeSplit } from "./mlflow-protocol.js";

const signature = (task: ModelSignature["task"]): ModelSignature => ({
  schema: "tandem.signature/v1",
  task,
  algorithm: "mlflow/sklearn",
  inputs: [],
  outputs: [],
  features: [
    { name: "a", type: "numeric" },
    { name: "b", type: "numeric" },
  ],
});

describe("MLflow's /invocations format", () => {
  it("sends instances as dataframe_split in signature order, and logs them by name", () => {
    const { body, features } = toDataframeSplit([{ b: 2, a: 1, id: "x" }, [3, 4]], signature("regression"));
    expect(body).toEqual({
      dataframe_split: {
        columns: ["a", "b"],
        data: [
          [1, 2],
          [3, 4],
        ],
      },
    });
    expect(features).toEqual([
      { a: 1, b: 2 },
      { a: 3, b: 4 },
    ]);
    expect(() => toDataframeSplit([{ a: 1 }], signature("regression"))).toThrow(/instances\[0\]: missing feature "b"/);
    // A feature named like an Object.prototype member is missing too (before, Object's function was sent).
    const protoNamed = { ...signature("regression"), features: [{ name: "constructor", type: "numeric" as const }] };
    expect(() => toDataframeSplit([{ a: 1 }], protoNamed)).toThrow(/instances\[0\]: missing feature "constructor"/);
    expect(() => toDataframeSplit([[1]], signature("regression"))).toThrow(/expected 2 values/);
  });

  it("without a signature, takes the object keys in order, or no columns for arrays", () => {
    expect(toDataframeSplit([{ x: 1 }, { y: 2 }], null).body.dataframe_split).toEqual({
      columns: ["x", "y"],
      data: [
        [1, null],
        [null, 2],
      ],
    });
    expect(toDataframeSplit([[1, 2]], null)).toEqual({
      body: { dataframe_split: { data: [[1, 2]] } },
      features: [{ f0: 1, f1: 2 }],
    });
  });

  it("reads every shape of predictions into Tandem's answers", () => {
    expect(fromMlflowPredictions([0, 1], 2, signature("binary_classification"))).toEqual([{ label: 0 }, { label: 1 }]);
    expect(fromMlflowPredictions([0.5], 1, signature("regression"))).toEqual([{ value: 0.5 }]);
    expect(fromMlflowPredictions(["cat", 2.5], 2, null)).toEqual([{ label: "cat" }, { value: 2.5 }]);
    expect(fromMlflowPredictions([{ prediction: 1 }], 1, signature("regression"))).toEqual([{ value: 1 }]);
    expect(fromMlflowPredictions({ p: [1, 2], q: [3, 4] }, 2, null)).toEqual([
      { p: 1, q: 3 },
      { p: 2, q: 4 },
    ]);
    expect(fromMlflowPredictions([[0.1, 0.9]], 1, null)).toEqual([{ value: [0.1, 0.9] }]);
    expect(() => fromMlflowPredictions([1], 2, null)).toThrow(/answered 1 predictions for 2 instances/);
  });

  it("turns MLflow's 400 into the caller's 422 and other failures into the model's", () => {
    const p = mlflowProtocol(null);
    const bad = JSON.stringify({ error_code: "BAD_REQUEST", message: "Model is missing inputs ['b'].\nmore" });
    expect(() => p.response(400, bad, 1)).toThrow(/refused the input: Model is missing inputs \['b'\]\.$/);
    try {
      p.response(400, bad, 1);
    } catch (error) {
      expect((error as { code?: string }).code).toBe("UNPROCESSABLE");
    }
    expect(() => p.response(500, "boom", 1)).toThrow(/HTTP 500: boom/);
    expect(() => p.response(200, "{}", 1)).toThrow(/must answer \{"predictions"/);
  });
});
