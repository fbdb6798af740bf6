/**
 * Exports a gradient-boosting model as one `ai.onnx.ml` TreeEnsembleRegressor (regression) or
 * TreeEnsembleClassifier (binary classification) node over the float input `features` [N, F].
 *
 * Classifier: the leaves' weights go to class id 0 with post_transform LOGISTIC; onnxruntime's binary
 * case then yields `probabilities` [N, 2] = [1 - sigmoid(score), sigmoid(score)] and `label` int64 [N]
 * (class index, 1 when the probability of class 1 is above 0.5). Multiclass: tree t scores class
 * t % K, post_transform SOFTMAX, `probabilities` [N, K], `label` the argmax. Regressor: `value` float [N, 1].
 */

import type { GradientBoostingModel } from "../gbdt/gradient-boosting.js";
import type { ModelSignature } from "../signature.js";
import { INPUT_NAME, LABEL_OUTPUT, PROBABILITIES_OUTPUT, VALUE_OUTPUT } from "../signature.js";
import { FLOAT, INT64, attr, encodeModel, node, valueInfo } from "./proto.js";

const ML = "ai.onnx.ml";

export function exportGradientBoosting(model: GradientBoostingModel, signature: ModelSignature): Uint8Array {
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const values: number[] = [];
  const modes: string[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const missingTrue: number[] = [];
  const leafTree: number[] = [];
  const leafNode: number[] = [];
  const leafWeight: number[] = [];
  const leafClass: number[] = [];
  const groups = model.baselines.length;
  model.trees.forEach((tree, t) => {
    for (let i = 0; i < tree.feature.length; i++) {
      const f = tree.feature[i]!;
      treeIds.push(t);
      nodeIds.push(i);
      if (f >= 0) {
        featureIds.push(f);
        values.push(tree.threshold[i]!);
        modes.push("BRANCH_LEQ");
        trueIds.push(tree.left[i]!);
        falseIds.push(tree.right[i]!);
        missingTrue.push(tree.missingLeft[i]!);
      } else {
        featureIds.push(0);
        values.push(0);
        modes.push("LEAF");
        trueIds.push(0);
        falseIds.push(0);
        missingTrue.push(0);
        leafTree.push(t);
        leafNode.push(i);
        leafWeight.push(tree.value[i]!);
        leafClass.push(t % groups);
      }
    }
  });
  const common = [
    attr("nodes_treeids", { ints: treeIds }),
    attr("nodes_nodeids", { ints: nodeIds }),
    attr("nodes_featureids", { ints: featureIds }),
    attr("nodes_values", { floats: values }),
    attr("nodes_modes", modes),
    attr("nodes_truenodeids", { ints: trueIds }),
    attr("nodes_falsenodeids", { ints: falseIds }),
    attr("nodes_missing_value_tracks_true", { ints: missingTrue }),
    attr("base_values", { floats: model.baselines }),
  ];
  const f = model.nFeatures;
  const input = valueInfo(INPUT_NAME, FLOAT, [null, f]);
  if (model.loss === "squared_error") {
    const regressor = node(
      "TreeEnsembleRegressor",
      ["features_f64"],
      [VALUE_OUTPUT],
      [
        ...common,
        attr("n_targets", 1),
        attr("target_treeids", { ints: leafTree }),
        attr("target_nodeids", { ints: leafNode }),
        attr("target_ids", { ints: leafTree.map(() => 0) }),
        attr("target_weights", { floats: leafWeight }),
        attr("aggregate_function", "SUM"),
        attr("post_transform", "NONE"),
      ],
      ML,
    );
    return encodeModel({
      ml: true,
      signature,
      graph: {
        name: "tandem_gradient_boosting",
        node: [node("Cast", [INPUT_NAME], ["features_f64"], [attr("to", 11)]), regressor],
        input: [input],
        output: [valueInfo(VALUE_OUTPUT, FLOAT, [null, 1])],
      },
    });
  }
  const classifier = node(
    "TreeEnsembleClassifier",
    [INPUT_NAME],
    [LABEL_OUTPUT, PROBABILITIES_OUTPUT],
    [
      ...common,
      attr("class_treeids", { ints: leafTree }),
      attr("class_nodeids", { ints: leafNode }),
      attr("class_ids", { ints: leafClass }),
      attr("class_weights", { floats: leafWeight }),
      attr("classlabels_int64s", { ints: Array.from({ length: model.nClasses }, (_, c) => c) }),
      attr("post_transform", groups > 1 ? "SOFTMAX" : "LOGISTIC"),
    ],
    ML,
  );
  return encodeModel({
    ml: true,
    signature,
    graph: {
      name: "tandem_gradient_boosting",
      node: [classifier],
      input: [input],
      output: [valueInfo(LABEL_OUTPUT, INT64, [null]), valueInfo(PROBABILITIES_OUTPUT, FLOAT, [null, model.nClasses])],
    },
  });
}
