/**
 * Small ONNX models made in code for serving tests and the serving benchmark: never downloaded.
 *
 * Every model follows the trainers' layout (src/core/training/signature.ts): one float32 input
 * `features` [N, F]; classifiers answer `label` int64 [N] (an index into the class labels) and
 * `probabilities` float32 [N, K]; regressors answer `value` float32 [N, 1]. The signature is embedded
 * in metadata_props under `tandem.signature`, as the trainers do.
 */
import onnxProto from "onnx-proto";
import {
  buildSignature,
  SIGNATURE_METADATA_KEY,
  type FeatureSpec,
  type ModelSignature,
} from "../../src/core/training/signature.js";

const { onnx } = onnxProto;
const FLOAT = 1;
const INT64 = 7;

type Dim = number | string;

function valueInfo(name: string, elemType: number, dims: Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function floatTensor(name: string, dims: number[], values: number[]): onnxProto.onnx.ITensorProto {
  return { name, dataType: FLOAT, dims, floatData: values };
}

function int64Tensor(name: string, dims: number[], values: number[]): onnxProto.onnx.ITensorProto {
  return { name, dataType: INT64, dims, int64Data: values };
}

function node(
  opType: string,
  inputs: string[],
  outputs: string[],
  attrs: onnxProto.onnx.IAttributeProto[] = [],
  domain = "",
): onnxProto.onnx.INodeProto {
  return { opType, input: inputs, output: outputs, attribute: attrs, domain };
}

const attrInt = (name: string, i: number): onnxProto.onnx.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.INT,
  i,
});
const attrInts = (name: string, ints: number[]): onnxProto.onnx.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.INTS,
  ints,
});
const attrFloats = (name: string, floats: number[]): onnxProto.onnx.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.FLOATS,
  floats,
});
const attrString = (name: string, s: string): onnxProto.onnx.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.STRING,
  s: Buffer.from(s),
});
const attrStrings = (name: string, strings: string[]): onnxProto.onnx.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.STRINGS,
  strings: strings.map((s) => Buffer.from(s)),
});

function encodeModel(graph: onnxProto.onnx.IGraphProto, signature: ModelSignature | null, ml = false): Uint8Array {
  const opsetImport: onnxProto.onnx.IOperatorSetIdProto[] = [{ domain: "", version: 13 }];
  if (ml) opsetImport.push({ domain: "ai.onnx.ml", version: 1 });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: "tandem-tests",
    opsetImport,
    graph,
    metadataProps: signature ? [{ key: SIGNATURE_METADATA_KEY, value: JSON.stringify(signature) }] : [],
  });
  return onnx.ModelProto.encode(model).finish();
}

function numericFeatures(names: string[]): FeatureSpec[] {
  return names.map((name) => ({ name, type: "numeric" as const }));
}

export interface LinearClassifierOptions {
  /** Feature names, or full specs (categorical features are fed as their ordinal code). */
  features: Array<string | FeatureSpec>;
  weights: number[];
  bias: number;
  /** (default [0, 1]) */
  classLabels?: (string | number)[];
  /** Leave the signature out of the metadata (default false). */
  noSignature?: boolean;
}

/**
 * A logistic-regression binary classifier: p = sigmoid(x·w + b); label = p > 0.5; probabilities
 * = [1 − p, p].
 */
export function linearClassifierOnnx(options: LinearClassifierOptions): Uint8Array {
  const features = options.features.map((f) => (typeof f === "string" ? { name: f, type: "numeric" as const } : f));
  const f = features.length;
  if (options.weights.length !== f) throw new Error("one weight per feature");
  const signature = buildSignature({
    task: "binary_classification",
    algorithm: "linear",
    features,
    classLabels: options.classLabels ?? [0, 1],
  });
  const graph: onnxProto.onnx.IGraphProto = {
    name: "linear_classifier",
    input: [valueInfo("features", FLOAT, ["N", f])],
    output: [valueInfo("label", INT64, ["N"]), valueInfo("probabilities", FLOAT, ["N", 2])],
    initializer: [
      floatTensor("W", [f, 1], options.weights),
      floatTensor("B", [1], [options.bias]),
      floatTensor("one", [1], [1]),
      floatTensor("half", [1], [0.5]),
      int64Tensor("flat", [1], [-1]),
    ],
    node: [
      node("MatMul", ["features", "W"], ["xw"]),
      node("Add", ["xw", "B"], ["logit"]),
      node("Sigmoid", ["logit"], ["p1"]),
      node("Sub", ["one", "p1"], ["p0"]),
      node("Concat", ["p0", "p1"], ["probabilities"], [attrInt("axis", 1)]),
      node("Greater", ["p1", "half"], ["is1"]),
      node("Cast", ["is1"], ["label2d"], [attrInt("to", INT64)]),
      node("Reshape", ["label2d", "flat"], ["label"]),
    ],
  };
  return encodeModel(graph, options.noSignature ? null : signature);
}

/** A linear regressor: value = x·w + b, shape [N, 1]. */
export function linearRegressorOnnx(options: { features: string[]; weights: number[]; bias: number }): Uint8Array {
  const f = options.features.length;
  const signature = buildSignature({
    task: "regression",
    algorithm: "linear",
    features: numericFeatures(options.features),
  });
  const graph: onnxProto.onnx.IGraphProto = {
    name: "linear_regressor",
    input: [valueInfo("features", FLOAT, ["N", f])],
    output: [valueInfo("value", FLOAT, ["N", 1])],
    initializer: [floatTensor("W", [f, 1], options.weights), floatTensor("B", [1], [options.bias])],
    node: [node("MatMul", ["features", "W"], ["xw"]), node("Add", ["xw", "B"], ["value"])],
  };
  return encodeModel(graph, signature);
}

/**
 * A classifier with the usual signature whose graph fails at run time for any batch whose size times
 * F is not a multiple of F + 1 (a Reshape to [-1, F + 1]): a one-row request always fails. Used to
 * inject errors into a canary.
 */
export function brokenClassifierOnnx(options: { features: string[] }): Uint8Array {
  const f = options.features.length;
  const signature = buildSignature({
    task: "binary_classification",
    algorithm: "broken",
    features: numericFeatures(options.features),
    classLabels: [0, 1],
  });
  const graph: onnxProto.onnx.IGraphProto = {
    name: "broken_classifier",
    input: [valueInfo("features", FLOAT, ["N", f])],
    output: [valueInfo("label", INT64, ["N"]), valueInfo("probabilities", FLOAT, ["N", 2])],
    initializer: [
      int64Tensor("bad_shape", [2], [-1, f + 1]),
      int64Tensor("flat", [1], [-1]),
      int64Tensor("axis1", [1], [1]),
      floatTensor("zero", [1], [0]),
    ],
    node: [
      node("Reshape", ["features", "bad_shape"], ["reshaped"]),
      node("ReduceSum", ["reshaped", "axis1"], ["sums"], [attrInt("keepdims", 1)]),
      node("Concat", ["sums", "sums"], ["probabilities"], [attrInt("axis", 1)]),
      node("Greater", ["sums", "zero"], ["pos"]),
      node("Cast", ["pos"], ["label2d"], [attrInt("to", INT64)]),
      node("Reshape", ["label2d", "flat"], ["label"]),
    ],
  };
  return encodeModel(graph, signature);
}

/** A seeded PRNG (mulberry32) so the same call makes the same trees. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TreeEnsembleOptions {
  features: number;
  /** (default 100) */
  trees?: number;
  /** (default 4): each tree is complete, 2^depth leaves. */
  depth?: number;
  /** (default 7) */
  seed?: number;
}

/**
 * A gradient-boosted binary classifier as `ai.onnx.ml.TreeEnsembleClassifier` with random complete
 * trees (splits on random features at random thresholds in [-1, 1]); LOGISTIC post-transform, so
 * onnxruntime answers [1 − p, p] as GBDT exports from scikit-learn do.
 */
export function gbdtClassifierOnnx(options: TreeEnsembleOptions): { bytes: Uint8Array; featureNames: string[] } {
  const random = seededRandom(options.seed ?? 7);
  const f = options.features;
  const trees = options.trees ?? 100;
  const depth = options.depth ?? 4;
  const featureNames = Array.from({ length: f }, (_, i) => `f${i}`);
  const a = {
    nodes_treeids: [] as number[],
    nodes_nodeids: [] as number[],
    nodes_featureids: [] as number[],
    nodes_values: [] as number[],
    nodes_modes: [] as string[],
    nodes_truenodeids: [] as number[],
    nodes_falsenodeids: [] as number[],
    class_treeids: [] as number[],
    class_nodeids: [] as number[],
    class_ids: [] as number[],
    class_weights: [] as number[],
  };
  const internal = 2 ** depth - 1;
  const total = 2 ** (depth + 1) - 1;
  for (let t = 0; t < trees; t++) {
    for (let n = 0; n < total; n++) {
      a.nodes_treeids.push(t);
      a.nodes_nodeids.push(n);
      if (n < internal) {
        a.nodes_featureids.push(Math.floor(random() * f));
        a.nodes_values.push(random() * 2 - 1);
        a.nodes_modes.push("BRANCH_LEQ");
        a.nodes_truenodeids.push(2 * n + 1);
        a.nodes_falsenodeids.push(2 * n + 2);
      } else {
        a.nodes_featureids.push(0);
        a.nodes_values.push(0);
        a.nodes_modes.push("LEAF");
        a.nodes_truenodeids.push(0);
        a.nodes_falsenodeids.push(0);
        a.class_treeids.push(t);
        a.class_nodeids.push(n);
        a.class_ids.push(0);
        a.class_weights.push((random() * 2 - 1) * 0.1);
      }
    }
  }
  const signature = buildSignature({
    task: "binary_classification",
    algorithm: "gradient_boosting",
    features: numericFeatures(featureNames),
    classLabels: [0, 1],
  });
  const graph: onnxProto.onnx.IGraphProto = {
    name: "gbdt_classifier",
    input: [valueInfo("features", FLOAT, ["N", f])],
    output: [valueInfo("label", INT64, ["N"]), valueInfo("probabilities", FLOAT, ["N", 2])],
    node: [
      node(
        "TreeEnsembleClassifier",
        ["features"],
        ["label", "probabilities"],
        [
          attrInts("classlabels_int64s", [0, 1]),
          attrInts("nodes_treeids", a.nodes_treeids),
          attrInts("nodes_nodeids", a.nodes_nodeids),
          attrInts("nodes_featureids", a.nodes_featureids),
          attrFloats("nodes_values", a.nodes_values),
          attrStrings("nodes_modes", a.nodes_modes),
          attrInts("nodes_truenodeids", a.nodes_truenodeids),
          attrInts("nodes_falsenodeids", a.nodes_falsenodeids),
          attrInts("class_treeids", a.class_treeids),
          attrInts("class_nodeids", a.class_nodeids),
          attrInts("class_ids", a.class_ids),
          attrFloats("class_weights", a.class_weights),
          attrFloats("base_values", [0]),
          attrString("post_transform", "LOGISTIC"),
        ],
        "ai.onnx.ml",
      ),
    ],
  };
  return { bytes: encodeModel(graph, signature, true), featureNames };
}
