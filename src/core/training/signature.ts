/**
 * The signature a trained model carries: what goes in, what comes out, and what the task is.
 *
 * Glossary
 * - feature: one model input column, in the order of the `features` input tensor's second axis.
 * - class labels: the classifier's classes; the ONNX `label` output is an index into this list and the
 *   columns of `probabilities` follow the same order.
 *
 * The trainers embed this object as JSON in the ONNX file's `metadata_props` under
 * {@link SIGNATURE_METADATA_KEY}, so a registry or a server can read it from the model alone.
 */

export type ModelTask = "binary_classification" | "multiclass_classification" | "regression";

export type TensorElementType = "float32" | "float64" | "int64" | "string";

/** One ONNX graph input or output. `null` in a shape is a dynamic axis (the batch). */
export interface TensorSpec {
  name: string;
  type: TensorElementType;
  shape: (number | null)[];
}

/**
 * One feature column. `numeric` values are fed as they are; `categorical` values are fed as the index of
 * the value in `categories` (ordinal code), and a value not in the list is fed as NaN (treated as missing).
 */
export interface FeatureSpec {
  name: string;
  type: "numeric" | "categorical";
  categories?: string[];
}

export interface ModelSignature {
  /** Version of this object's layout, so readers can refuse what they do not know. */
  schema: "tandem.signature/v1";
  task: ModelTask;
  /** Name of the trainer that produced the model, e.g. "gradient_boosting". */
  algorithm: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  features: FeatureSpec[];
  /** Classifiers only: the classes, in `probabilities` column order. */
  classLabels?: (string | number)[];
  /** Name of the column the model predicts, when known. */
  target?: string;
}

export const SIGNATURE_METADATA_KEY = "tandem.signature";

/** Names of the graph's tensors; serving code relies on these. */
export const INPUT_NAME = "features";
export const LABEL_OUTPUT = "label";
export const PROBABILITIES_OUTPUT = "probabilities";
export const VALUE_OUTPUT = "value";

/** Builds the standard signature for a model over `features` with the trainers' output layout. */
export function buildSignature(options: {
  task: ModelTask;
  algorithm: string;
  features: FeatureSpec[];
  classLabels?: (string | number)[];
  target?: string;
}): ModelSignature {
  const f = options.features.length;
  const inputs: TensorSpec[] = [{ name: INPUT_NAME, type: "float32", shape: [null, f] }];
  let outputs: TensorSpec[];
  if (options.task === "regression") {
    outputs = [{ name: VALUE_OUTPUT, type: "float32", shape: [null, 1] }];
  } else {
    const k = options.classLabels?.length ?? 2;
    outputs = [
      { name: LABEL_OUTPUT, type: "int64", shape: [null] },
      { name: PROBABILITIES_OUTPUT, type: "float32", shape: [null, k] },
    ];
  }
  const signature: ModelSignature = {
    schema: "tandem.signature/v1",
    task: options.task,
    algorithm: options.algorithm,
    inputs,
    outputs,
    features: options.features,
  };
  if (options.classLabels) signature.classLabels = options.classLabels;
  if (options.target !== undefined) signature.target = options.target;
  return signature;
}
