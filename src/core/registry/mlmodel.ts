/**
 * MLflow model directories, read as they are: the `MLmodel` file at the root names the flavors, the
 * signature and the environment files; nothing is converted. What the registry keeps of it:
 * - the format `mlflow/<flavor>`: the first flavor that is not `python_function` (a plain pyfunc
 *   model is `mlflow/python_function`), so `mlflow/sklearn`, `mlflow/xgboost`, `mlflow/onnx`, …;
 * - the signature (MLflow's column or tensor specs) as Tandem's tensors, plus a serving signature
 *   (features in column order, classifier or regressor from the output type) for the prediction
 *   routes, OIP metadata and the monitors' columns;
 * - which environment files it carries (`requirements.txt`, `conda.yaml`, `python_env.yaml`), whose
 *   digests go into the version's environment digest.
 */
import { parse as parseYaml } from "yaml";
import { InvalidInputError } from "../errors.js";
import type { FeatureSpec, ModelSignature, TensorElementType, TensorSpec } from "../training/signature.js";
import type { TensorInfo } from "./model.js";

/** The environment files MLflow writes beside MLmodel (pip, conda, virtualenv). */
export const REQUIREMENT_FILES = ["requirements.txt", "conda.yaml", "python_env.yaml"] as const;

export interface MlflowModelInfo {
  /** `mlflow/<flavor>`. */
  format: `mlflow/${string}`;
  flavor: string;
  /** Every flavor the model can be loaded as (e.g. `python_function`, `sklearn`). */
  flavors: string[];
  /** The module `mlflow.pyfunc` loads it with (e.g. `mlflow.sklearn`); null without a pyfunc flavor. */
  loaderModule: string | null;
  /** The ONNX file of an `onnx` flavor (relative to the directory); null otherwise. */
  onnxFile: string | null;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** Inference params of the signature (name, type, default), as MLflow wrote them. */
  params: Array<{ name: string; type: string; default?: unknown }>;
  /** The serving signature; null when MLmodel has no signature. */
  serving: ModelSignature | null;
}

interface MlflowSpec {
  type?: string;
  name?: string;
  "tensor-spec"?: { dtype?: string; shape?: number[] };
  default?: unknown;
}

/**
 * MLflow's column types → onnxruntime-style type names (what TensorInfo uses). A Map: the type is
 * the MLmodel's text, and an object literal would turn `toString` into a function.
 */
const COLUMN_TYPES = new Map([
  ["boolean", "bool"],
  ["integer", "int32"],
  ["long", "int64"],
  ["float", "float32"],
  ["double", "float64"],
  ["string", "string"],
  ["binary", "bytes"],
  ["datetime", "datetime"],
]);

/** Tandem's four serving element types; the rest are carried by the nearest one. */
function servingType(type: string): TensorElementType {
  if (type === "float32" || type === "float64" || type === "int64" || type === "string") return type;
  if (/^(int|uint|bool)/.test(type)) return "int64";
  if (/^float/.test(type)) return "float32";
  return "string";
}

const isNumeric = (type: string): boolean => /^(float|int|uint|bool)/.test(type);

function parseSpecs(raw: unknown, where: string): MlflowSpec[] {
  if (raw === null || raw === undefined) return [];
  let value: unknown = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new InvalidInputError(`${where} is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (!Array.isArray(value)) throw new InvalidInputError(`${where}: expected a list of column or tensor specs`);
  return value.map((v, i) => {
    if (!v || typeof v !== "object") throw new InvalidInputError(`${where}[${i}]: expected an object`);
    return v as MlflowSpec;
  });
}

function toTensor(spec: MlflowSpec, index: number, prefix: string): TensorInfo {
  if (spec.type === "tensor") {
    const t = spec["tensor-spec"] ?? {};
    return {
      name: spec.name ?? `${prefix}-${index}`,
      type: t.dtype ?? "unknown",
      shape: (t.shape ?? []).map((d) => (typeof d === "number" && d >= 0 ? d : null)),
    };
  }
  return {
    name: spec.name ?? `${prefix}-${index}`,
    type: COLUMN_TYPES.get(spec.type ?? "") ?? spec.type ?? "unknown",
    shape: [null],
  };
}

/** Features in column order: named columns, else `f0…` over a tensor's second axis. */
function featuresOf(specs: MlflowSpec[], tensors: TensorInfo[]): FeatureSpec[] {
  if (specs.length && specs.every((s) => s.type !== "tensor")) {
    return tensors.map((t) => ({ name: t.name, type: isNumeric(t.type) ? "numeric" : "categorical" }));
  }
  const width = tensors.length === 1 ? tensors[0]!.shape[1] : undefined;
  return typeof width === "number" ? Array.from({ length: width }, (_, i) => ({ name: `f${i}`, type: "numeric" })) : [];
}

function servingSignature(format: string, specs: MlflowSpec[], inputs: TensorInfo[], outputs: TensorInfo[]) {
  const spec = (t: TensorInfo): TensorSpec => ({ name: t.name, type: servingType(t.type), shape: t.shape });
  // A label-typed output (integers, strings, booleans) is a classifier's; a float output a regressor's.
  const outType = outputs[0]?.type ?? "float64";
  const classifier = !/^float/.test(outType);
  const signature: ModelSignature = {
    schema: "tandem.signature/v1",
    task: classifier ? "multiclass_classification" : "regression",
    algorithm: format,
    inputs: inputs.map(spec),
    outputs: outputs.map(spec),
    features: featuresOf(specs, inputs),
  };
  return signature;
}

/** Reads an MLmodel file's text; `label` names it in errors. */
export function readMlmodel(text: string, label: string): MlflowModelInfo {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new InvalidInputError(`${label}/MLmodel is not valid YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc))
    throw new InvalidInputError(`${label}/MLmodel: expected a mapping with "flavors"`);
  const m = doc as {
    flavors?: Record<string, Record<string, unknown> | null>;
    signature?: { inputs?: unknown; outputs?: unknown; params?: unknown } | null;
  };
  const flavors = m.flavors;
  if (!flavors || typeof flavors !== "object" || Object.keys(flavors).length === 0)
    throw new InvalidInputError(`${label}/MLmodel: field "flavors" must name at least one flavor`);
  const names = Object.keys(flavors);
  const flavor = names.find((f) => f !== "python_function") ?? "python_function";
  const format = `mlflow/${flavor}` as const;
  const pyfunc = flavors.python_function ?? null;
  const onnxData = flavor === "onnx" ? flavors.onnx?.data : null;
  if (flavor === "onnx" && typeof onnxData !== "string")
    throw new InvalidInputError(`${label}/MLmodel: the onnx flavor needs "data" (the .onnx file's path)`);
  const inSpecs = parseSpecs(m.signature?.inputs, `${label}/MLmodel signature.inputs`);
  const outSpecs = parseSpecs(m.signature?.outputs, `${label}/MLmodel signature.outputs`);
  const inputs = inSpecs.map((s, i) => toTensor(s, i, "input"));
  const outputs = outSpecs.map((s, i) => toTensor(s, i, "output"));
  const params = parseSpecs(m.signature?.params, `${label}/MLmodel signature.params`).map((p) => ({
    name: p.name ?? "",
    type: p.type ?? "unknown",
    ...(p.default !== undefined ? { default: p.default } : {}),
  }));
  return {
    format,
    flavor,
    flavors: names,
    loaderModule: typeof pyfunc?.loader_module === "string" ? pyfunc.loader_module : null,
    onnxFile: typeof onnxData === "string" ? onnxData : null,
    inputs,
    outputs,
    params,
    serving: inputs.length ? servingSignature(format, inSpecs, inputs, outputs) : null,
  };
}
