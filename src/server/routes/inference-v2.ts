/**
 * Open Inference Protocol v2 tensors ↔ Tandem instances and predictions.
 *
 * Inputs: either one tensor named as the model's input (e.g. `features`, FP32, shape [N, F], data
 * flat row-major or nested), or one tensor per feature named by the feature (shape [N] or [N, 1]).
 * Outputs: classifiers give `label` (INT64, or BYTES for string classes) [N] and `probabilities`
 * (FP32) [N, K] in class order; regressors give `value` (FP32) [N].
 */
import { UnprocessableError } from "../../core/errors.js";
import type { ModelRunner } from "../../core/serving/runtime.js";
import type { ModelSignature, TensorElementType } from "../../core/training/signature.js";
import { FlatRows, featuresOf } from "../../core/serving/codec.js";

export interface V2Input {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

const V2_TYPES: Record<TensorElementType, string> = {
  float32: "FP32",
  float64: "FP64",
  int64: "INT64",
  string: "BYTES",
};

function flatten(data: unknown[]): unknown[] {
  return data.some(Array.isArray) ? (data as unknown[]).flat(Infinity) : data;
}

export function fromV2Inputs(inputs: V2Input[], signature: ModelSignature): unknown[] | FlatRows {
  const features = featuresOf(signature);
  const width = features.length;
  // One model input holds every feature ([N, F]); a model with an input per column (an MLflow column signature) has none.
  const modelInput = signature.inputs.length === 1 ? signature.inputs[0]?.name : undefined;
  const whole = modelInput === undefined ? undefined : inputs.find((i) => i.name === modelInput);
  if (whole) {
    const data = flatten(whole.data);
    const rows = whole.shape[0] ?? 0;
    if (whole.shape.length !== 2 || whole.shape[1] !== width) {
      throw new UnprocessableError(
        `inputs[${whole.name}]: expected shape [N, ${width}], got [${whole.shape.join(", ")}]`,
      );
    }
    if (data.length !== rows * width)
      throw new UnprocessableError(
        `inputs[${whole.name}]: shape [${whole.shape.join(", ")}] needs ${rows * width} values, got ${data.length}`,
      );
    // No array per row: the codec reads the tensor where it lies (rows that are arrays would be
    // encoded by the very same rules).
    return new FlatRows(data, rows, width);
  }
  const byName = new Map(inputs.map((i) => [i.name, i]));
  const first = inputs[0]!;
  const rows = first.shape[0] ?? 0;
  const columns = features.map((f) => {
    const t = byName.get(f.name);
    if (!t)
      throw new UnprocessableError(
        `inputs: missing feature ${JSON.stringify(f.name)} (send one tensor per feature${modelInput === undefined ? "" : `, or one tensor ${JSON.stringify(modelInput)} of shape [N, ${width}]`})`,
      );
    const data = flatten(t.data);
    if (data.length !== rows)
      throw new UnprocessableError(`inputs[${f.name}]: expected ${rows} values (shape [${rows}]), got ${data.length}`);
    return data;
  });
  return Array.from({ length: rows }, (_, r) => Object.fromEntries(features.map((f, c) => [f.name, columns[c]![r]])));
}

/**
 * Each row's class probabilities in class order, flat ([N, K] row-major), in one preallocated array:
 * a flatMap made an array per row, ~2% of the event loop's time on 64-row v2 requests.
 */
function probabilityData(rows: Array<{ probabilities?: Record<string, number> }>, classes: string[]): number[] {
  const k = classes.length;
  const data = new Array<number>(rows.length * k);
  for (let r = 0; r < rows.length; r++) {
    const probabilities = rows[r]!.probabilities;
    for (let c = 0; c < k; c++) data[r * k + c] = probabilities?.[classes[c]!] ?? 0;
  }
  return data;
}

export function toV2Outputs(predictions: unknown[], signature: ModelSignature, wanted?: string[]) {
  const n = predictions.length;
  const outputs: Array<{ name: string; datatype: string; shape: number[]; data: unknown[] }> = [];
  if (signature.task === "regression") {
    outputs.push({
      name: "value",
      datatype: "FP32",
      shape: [n],
      data: predictions.map((p) => (p as { value: number }).value),
    });
  } else {
    const rows = predictions as Array<{ label: string | number; probabilities?: Record<string, number> }>;
    const labels = rows.map((p) => p.label);
    outputs.push({
      name: "label",
      datatype: labels.some((l) => typeof l === "string") ? "BYTES" : "INT64",
      shape: [n],
      data: labels,
    });
    const classes = signature.classLabels?.map(String) ?? Object.keys(rows[0]?.probabilities ?? {});
    if (rows[0]?.probabilities) {
      outputs.push({
        name: "probabilities",
        datatype: "FP32",
        shape: [n, classes.length],
        data: probabilityData(rows, classes),
      });
    }
  }
  return wanted?.length ? outputs.filter((o) => wanted.includes(o.name)) : outputs;
}

/** OIP's `platform`: what runs the model (an MLflow flavor other than onnx runs in MLflow's scoring server). */
function platformOf(format: string | undefined): string {
  if (format === "command") return "tandem_command";
  if (format?.startsWith("mlflow/") && format !== "mlflow/onnx") return `mlflow_${format.slice("mlflow/".length)}`;
  return "onnxruntime_onnx";
}

/**
 * Model metadata: `runners` are the versions the answer describes (every version an endpoint serves,
 * or the one a `/versions/{v}` URL names); tensors come from the first of them.
 */
export function v2Metadata(name: string, model: string, runners: ModelRunner[]) {
  const first = runners[0];
  const signature = first?.signature ?? null;
  const tensor = (t: { name: string; type: TensorElementType; shape: (number | null)[] }) => ({
    name: t.name,
    datatype: V2_TYPES[t.type],
    shape: t.shape.map((d) => d ?? -1),
  });
  return {
    name,
    versions: [...new Set(runners.map((r) => String(r.model.version)))],
    platform: platformOf(first?.model.format),
    inputs: signature ? signature.inputs.map(tensor) : [],
    outputs: signature ? signature.outputs.map(tensor) : [],
    parameters: {
      model,
      features: signature
        ? featuresOf(signature)
            .map((f) => f.name)
            .join(",")
        : "",
      task: signature?.task ?? "unknown",
    },
  };
}
