/**
 * Tiny ONNX models made by the project's own code, for tests (never downloaded). A linear model
 * over `features` [N, F]: a binary classifier answers `label` (int64 [N]) and `probabilities`
 * (float32 [N, 2], columns = classes 0 and 1) — the trainers' output layout; a regressor answers
 * `value` (float32 [N, 1]). With `signature: true` the trainers' `tandem.signature` metadata is
 * embedded too, so readers can test both paths (metadata and graph-only).
 *
 *   const bytes = tinyOnnx({ features: ["distance", "hour"], weights: [0.5, -1], bias: 0.1 });
 */
import onnxProto from "onnx-proto";
import { SIGNATURE_METADATA_KEY, buildSignature, type ModelTask } from "../../src/core/training/signature.js";

const { onnx } = onnxProto;
const FLOAT = 1;
const INT64 = 7;
const ATTR_INT = 2;

export interface TinyOnnxOptions {
  /** Feature names (their count is F). */
  features: string[];
  /** One weight per feature (default 1 each). */
  weights?: number[];
  /** (default 0) */
  bias?: number;
  /** (default binary_classification) */
  task?: Extract<ModelTask, "binary_classification" | "regression">;
  /** Embed the `tandem.signature` metadata (default true). */
  signature?: boolean;
  /** Extra metadata_props, e.g. a marker that makes two models' bytes differ. */
  metadata?: Record<string, string>;
}

function valueInfo(name: string, elemType: number, dims: Array<number | string>): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === "string" ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

function floatTensor(name: string, dims: number[], values: number[]): onnxProto.onnx.ITensorProto {
  return { name, dims, dataType: FLOAT, floatData: values };
}

export function tinyOnnx(options: TinyOnnxOptions): Uint8Array {
  const f = options.features.length;
  const task = options.task ?? "binary_classification";
  const weights = options.weights ?? options.features.map(() => 1);
  if (weights.length !== f) throw new Error(`tinyOnnx: ${f} features but ${weights.length} weights`);
  const initializer = [floatTensor("W", [f, 1], weights), floatTensor("B", [1], [options.bias ?? 0])];
  const nodes: onnxProto.onnx.INodeProto[] = [
    { opType: "MatMul", input: ["features", "W"], output: ["xw"], name: "matmul" },
    { opType: "Add", input: ["xw", "B"], output: [task === "regression" ? "value" : "z"], name: "add" },
  ];
  let outputs: onnxProto.onnx.IValueInfoProto[];
  if (task === "regression") {
    outputs = [valueInfo("value", FLOAT, ["N", 1])];
  } else {
    initializer.push(floatTensor("ONE", [1], [1]));
    nodes.push(
      { opType: "Sigmoid", input: ["z"], output: ["p1"], name: "sigmoid" },
      { opType: "Sub", input: ["ONE", "p1"], output: ["p0"], name: "complement" },
      {
        opType: "Concat",
        input: ["p0", "p1"],
        output: ["probabilities"],
        name: "concat",
        attribute: [{ name: "axis", type: ATTR_INT, i: 1 }],
      },
      {
        opType: "ArgMax",
        input: ["probabilities"],
        output: ["label"],
        name: "argmax",
        attribute: [
          { name: "axis", type: ATTR_INT, i: 1 },
          { name: "keepdims", type: ATTR_INT, i: 0 },
        ],
      },
    );
    outputs = [valueInfo("label", INT64, ["N"]), valueInfo("probabilities", FLOAT, ["N", 2])];
  }
  const metadataProps: onnxProto.onnx.IStringStringEntryProto[] = Object.entries(options.metadata ?? {}).map(
    ([key, value]) => ({ key, value }),
  );
  if (options.signature ?? true) {
    const signature = buildSignature({
      task,
      algorithm: "tiny_linear",
      features: options.features.map((name) => ({ name, type: "numeric" as const })),
      ...(task === "regression" ? {} : { classLabels: [0, 1] }),
    });
    metadataProps.push({ key: SIGNATURE_METADATA_KEY, value: JSON.stringify(signature) });
  }
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: "tandem-tests",
    opsetImport: [{ domain: "", version: 13 }],
    metadataProps,
    graph: {
      name: "tiny",
      node: nodes,
      initializer,
      input: [valueInfo("features", FLOAT, ["N", f])],
      output: outputs,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
