/**
 * Exports a linear model as a plain ONNX graph (opset 13):
 *
 *   features ─Cast(double)─ Where(IsNaN, impute, x) ─ MatMul(W) ─ Add(b) ─ logits
 *     regression:   value         = Cast(float, logits)                       float [N, 1]
 *     binary:       probabilities = Cast(float, Concat(1 − Sigmoid, Sigmoid)) float [N, 2]
 *                   label         = Cast(int64, logits > 0), flattened       int64 [N]
 *     multiclass:   probabilities = Cast(float, Softmax(logits))              float [N, K]
 *                   label         = ArgMax(logits)                            int64 [N]
 *
 * The arithmetic runs in double so the graph reproduces the trainer's own (double) predictions up to
 * the final float32 rounding; the weights are the model's float32 values, widened exactly.
 */

import type { LinearModel } from "../linear.js";
import type { ModelSignature } from "../signature.js";
import { INPUT_NAME, LABEL_OUTPUT, PROBABILITIES_OUTPUT, VALUE_OUTPUT } from "../signature.js";
import type { OnnxTypes } from "./proto.js";
import { FLOAT, INT64, attr, encodeModel, int64Tensor, node, onnx, valueInfo } from "./proto.js";

const DOUBLE = onnx.TensorProto.DataType.DOUBLE;

function doubleTensor(name: string, dims: number[], values: ArrayLike<number>): OnnxTypes.ITensorProto {
  return { name, dims, dataType: DOUBLE, doubleData: Array.from(values) };
}

export function exportLinear(model: LinearModel, signature: ModelSignature): Uint8Array {
  const f = model.nFeatures;
  const k = model.nOutputs;
  const initializer: OnnxTypes.ITensorProto[] = [
    doubleTensor("impute", [f], model.imputeValues),
    doubleTensor("weights", [f, k], model.weights),
    doubleTensor("bias", [k], model.bias),
  ];
  const nodes: OnnxTypes.INodeProto[] = [
    node("Cast", [INPUT_NAME], ["x64"], [attr("to", DOUBLE)]),
    node("IsNaN", ["x64"], ["missing"]),
    node("Where", ["missing", "impute", "x64"], ["x_clean"]),
    node("MatMul", ["x_clean", "weights"], ["xw"]),
    node("Add", ["xw", "bias"], ["logits"]),
  ];
  let outputs: OnnxTypes.IValueInfoProto[];
  if (model.loss === "squared_error") {
    nodes.push(node("Cast", ["logits"], [VALUE_OUTPUT], [attr("to", FLOAT)]));
    outputs = [valueInfo(VALUE_OUTPUT, FLOAT, [null, 1])];
  } else if (k === 1) {
    initializer.push(doubleTensor("one", [1], [1]), doubleTensor("zero", [1], [0]), int64Tensor("flat", [1], [-1]));
    nodes.push(
      node("Sigmoid", ["logits"], ["p1"]),
      node("Sub", ["one", "p1"], ["p0"]),
      node("Concat", ["p0", "p1"], ["p64"], [attr("axis", 1)]),
      node("Cast", ["p64"], [PROBABILITIES_OUTPUT], [attr("to", FLOAT)]),
      node("Greater", ["logits", "zero"], ["positive"]),
      node("Cast", ["positive"], ["label_2d"], [attr("to", INT64)]),
      node("Reshape", ["label_2d", "flat"], [LABEL_OUTPUT]),
    );
    outputs = [valueInfo(LABEL_OUTPUT, INT64, [null]), valueInfo(PROBABILITIES_OUTPUT, FLOAT, [null, 2])];
  } else {
    nodes.push(
      node("Softmax", ["logits"], ["p64"], [attr("axis", 1)]),
      node("Cast", ["p64"], [PROBABILITIES_OUTPUT], [attr("to", FLOAT)]),
      node("ArgMax", ["logits"], [LABEL_OUTPUT], [attr("axis", 1), attr("keepdims", 0)]),
    );
    outputs = [valueInfo(LABEL_OUTPUT, INT64, [null]), valueInfo(PROBABILITIES_OUTPUT, FLOAT, [null, k])];
  }
  return encodeModel({
    ml: false,
    signature,
    graph: {
      name: "tandem_linear",
      node: nodes,
      initializer,
      input: [valueInfo(INPUT_NAME, FLOAT, [null, f])],
      output: outputs,
    },
  });
}
