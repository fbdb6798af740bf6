/**
 * JSON instances ↔ model tensors, by the model's signature. Pure: no onnxruntime here, so the rules
 * are unit-tested on their own.
 *
 * Rules (DESIGN.md "Serving"):
 * - An instance is an object keyed by feature name, or an array of values in signature order.
 * - A numeric feature takes a finite number; `null` is fed as NaN (missing). A boolean is 0/1. A
 *   string, object or a missing key is a 422 naming the instance and the feature.
 * - A categorical feature takes one of its categories (string or number, compared as text); a value
 *   not in the list is fed as NaN, as the trainers treat an unseen category; `null` likewise.
 * - Extra keys are ignored (clients often send ids along); they are not logged as features.
 */
import { UnprocessableError } from "../errors.js";
import type { FeatureSpec, ModelSignature } from "../training/signature.js";
import type { FeatureColumns } from "./model.js";
import { predictionRows, putClass, type OutputColumns } from "./output-rows.mjs";
import { TypedSlab } from "./typed-slab.js";

/** Where encoded batches' arrays come from (views of shared slabs: see typed-slab.ts). */
const modelInputs = new TypedSlab(Float32Array);
const loggedValues = new TypedSlab(Float64Array);
const outputNumbers = new TypedSlab(Float64Array);

export interface EncodedBatch {
  /** Row-major [rows, features]. */
  data: Float32Array;
  rows: number;
  /** The instances' values as they are logged (as sent, in full precision), in columns. */
  logged: FeatureColumns;
}

/**
 * Instances as one flat row-major array of `rows × width` values, as an OIP v2 tensor [N, F] sends
 * them: encoded as `rows` arrays in signature order would be, without an array per row.
 */
export class FlatRows {
  constructor(
    readonly data: readonly unknown[],
    readonly rows: number,
    readonly width: number,
  ) {}

  /** One array per row, for runners that take instances as rows. */
  toRows(): unknown[][] {
    return Array.from({ length: this.rows }, (_, r) => this.data.slice(r * this.width, (r + 1) * this.width));
  }
}

export interface Codec {
  features: FeatureSpec[];
  encode(instances: unknown[] | FlatRows): EncodedBatch;
  /** Turns raw output columns for `rows` rows into one prediction per row. */
  decode(outputs: RawOutputs, rows: number): unknown[];
  /**
   * The same predictions, and the numbers they were made from (output-rows.mjs), which the log takes
   * instead of the predictions' text; null where the outputs are not numbers (string labels).
   */
  decodeColumns(outputs: RawOutputs, rows: number): { predictions: unknown[]; columns: OutputColumns | null };
}

/** Output tensors by name: label (int64 or string), probabilities [rows, k], value [rows, 1]. */
export type RawOutputs = Record<string, { data: ArrayLike<number | bigint | string>; dims: readonly number[] }>;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string"
    ? `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
    : `a ${typeof value}`;
}

/** `row` names the instance in errors (the message is only built when there is one: this runs per value). */
function encodeValue(feature: FeatureSpec, value: unknown, row: number): number {
  const where = () => `instances[${row}]`;
  if (feature.type === "categorical") {
    if (value === null) return Number.NaN;
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      throw new UnprocessableError(
        `${where()}: feature ${JSON.stringify(feature.name)} is categorical: expected a string or number, got ${describe(value)}`,
      );
    }
    const index = (feature.categories ?? []).indexOf(String(value));
    return index < 0 ? Number.NaN : index;
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value))
      throw new UnprocessableError(`${where()}: feature ${JSON.stringify(feature.name)} must be a finite number`);
    return value;
  }
  if (value === null) return Number.NaN;
  if (typeof value === "boolean") return value ? 1 : 0;
  throw new UnprocessableError(
    `${where()}: feature ${JSON.stringify(feature.name)} is numeric: expected a number, got ${describe(value)}`,
  );
}

export function featuresOf(signature: ModelSignature): FeatureSpec[] {
  if (signature.features.length) return signature.features;
  const width = signature.inputs[0]?.shape[1];
  if (typeof width !== "number")
    throw new UnprocessableError("the model's signature lists no features and its input has no fixed width");
  return Array.from({ length: width }, (_, i) => ({ name: `f${i}`, type: "numeric" as const }));
}

export function buildCodec(signature: ModelSignature): Codec {
  const features = featuresOf(signature);
  const width = features.length;
  const labels = signature.classLabels;
  const isClassifier = signature.task !== "regression";

  const names = features.map((f) => f.name);

  // Every feature numeric (the common case): a plain finite number goes straight in, one check per
  // value; anything else takes the general rules below.
  const allNumeric = features.every((f) => f.type === "numeric");

  function encode(instances: unknown[] | FlatRows): EncodedBatch {
    const flat = instances instanceof FlatRows ? instances : null;
    if (flat && flat.width !== width)
      throw new UnprocessableError(`expected ${width} values per instance, got ${flat.width}`);
    const rows = flat ? flat.rows : (instances as unknown[]).length;
    const data = modelInputs.take(rows * width);
    // The log's copy: plain numbers here, anything else (null, booleans, strings) marked NaN and kept
    // aside. No object per instance: this is the serving hot path, once per feature per row.
    const values = loggedValues.take(rows * width);
    let others: unknown[] | null = null;
    /** One row's values, `source[start…start + width)`, in signature order. */
    const encodeRow = (source: ArrayLike<unknown>, start: number, row: number) => {
      const offset = row * width;
      for (let col = 0; col < width; col++) {
        const value: unknown = source[start + col];
        if (allNumeric && typeof value === "number" && Number.isFinite(value)) {
          data[offset + col] = value;
          values[offset + col] = value;
          continue;
        }
        data[offset + col] = encodeValue(features[col]!, value, row);
        if (typeof value === "number") values[offset + col] = value;
        else {
          values[offset + col] = Number.NaN;
          (others ??= []).push(offset + col, value);
        }
      }
    };
    if (flat) {
      for (let row = 0; row < rows; row++) encodeRow(flat.data, row * width, row);
      return { data, rows, logged: { names, values, others } };
    }
    const list = instances as unknown[];
    for (let row = 0; row < rows; row++) {
      const instance = list[row];
      if (Array.isArray(instance)) {
        if (instance.length !== width) {
          throw new UnprocessableError(
            `instances[${row}]: expected ${width} values in signature order (${features.map((f) => f.name).join(", ")}), got ${instance.length}`,
          );
        }
        encodeRow(instance, 0, row);
      } else if (instance !== null && typeof instance === "object") {
        const obj = instance as Record<string, unknown>;
        const offset = row * width;
        for (let col = 0; col < width; col++) {
          const f = features[col]!;
          const value = obj[f.name];
          if (allNumeric && typeof value === "number" && Number.isFinite(value)) {
            data[offset + col] = value;
            values[offset + col] = value;
            continue;
          }
          // Own keys only: a feature named constructor is missing, not Object's function. (A number
          // is always own, Object.prototype has none, so the hot path above needs no check.)
          if (!Object.hasOwn(obj, f.name))
            throw new UnprocessableError(`instances[${row}]: missing feature ${JSON.stringify(f.name)}`, {
              instance: row,
              feature: f.name,
            });
          data[offset + col] = encodeValue(f, value, row);
          if (typeof value === "number") values[offset + col] = value;
          else {
            values[offset + col] = Number.NaN;
            (others ??= []).push(offset + col, value);
          }
        }
      } else {
        throw new UnprocessableError(
          `instances[${row}]: expected an object keyed by feature name or an array of ${width} values, got ${describe(instance)}`,
        );
      }
    }
    return { data, rows, logged: { names, values, others } };
  }

  function labelOf(raw: number | bigint | string): string | number {
    if (typeof raw === "string") return raw;
    const index = Number(raw);
    return labels && index >= 0 && index < labels.length ? labels[index]! : index;
  }

  /** The outputs' numbers as the rules below read them (`Number(x)`), or null for non-numeric tensors. */
  function columnsOf(outputs: RawOutputs, rows: number): OutputColumns | null {
    if (!isClassifier) {
      const value = outputs.value ?? Object.values(outputs)[0];
      if (!value || !ArrayBuffer.isView(value.data)) return null;
      const per = rows ? value.data.length / rows : 1;
      const values = outputNumbers.take(rows);
      for (let r = 0; r < rows; r++) values[r] = Number(value.data[r * per]);
      return { kind: "values", rows, values };
    }
    const label = outputs.label;
    const probabilities = outputs.probabilities;
    if ((label && !ArrayBuffer.isView(label.data)) || (probabilities && !ArrayBuffer.isView(probabilities.data)))
      return null;
    const k = probabilities ? (probabilities.dims[1] ?? probabilities.data.length / Math.max(rows, 1)) : 0;
    let p: Float64Array | null = null;
    if (probabilities) {
      const n = rows * k;
      // k could be fractional for a malformed output: such a model answers through decode's own loop.
      if (!Number.isInteger(n)) return null;
      p = outputNumbers.take(n);
      for (let i = 0; i < n; i++) p[i] = Number(probabilities.data[i]);
    }
    let given: Float64Array | null = null;
    if (label) {
      given = outputNumbers.take(rows);
      for (let r = 0; r < rows; r++) given[r] = Number(label.data[r]);
    }
    return { kind: "classes", rows, classLabels: labels ?? null, k, labels: given, probabilities: p };
  }

  function decodeColumns(outputs: RawOutputs, rows: number) {
    const columns = columnsOf(outputs, rows);
    return { predictions: columns ? predictionRows(columns) : decode(outputs, rows), columns };
  }

  function decode(outputs: RawOutputs, rows: number): unknown[] {
    const result: unknown[] = [];
    if (!isClassifier) {
      const value = outputs.value ?? Object.values(outputs)[0];
      if (!value) throw new Error("the model returned no output");
      const per = rows ? value.data.length / rows : 1;
      for (let r = 0; r < rows; r++) result.push({ value: Number(value.data[r * per]) });
      return result;
    }
    const label = outputs.label;
    const probabilities = outputs.probabilities;
    const k = probabilities ? (probabilities.dims[1] ?? probabilities.data.length / Math.max(rows, 1)) : 0;
    for (let r = 0; r < rows; r++) {
      const answer: { label: string | number | null; probabilities?: Record<string, number> } = { label: null };
      if (probabilities) {
        const map: Record<string, number> = {};
        let best = 0;
        for (let c = 0; c < k; c++) {
          const p = Number(probabilities.data[r * k + c]);
          putClass(map, String(labels?.[c] ?? c), p);
          if (p > Number(probabilities.data[r * k + best])) best = c;
        }
        answer.probabilities = map;
        answer.label = labels?.[best] ?? best;
      }
      if (label) answer.label = labelOf(label.data[r]!);
      result.push(answer);
    }
    return result;
  }

  return { features, encode, decode, decodeColumns };
}

/**
 * A signature for an ONNX model that carries none: one float input of fixed width `width`, features
 * `f0…`, task guessed from the outputs (`label`/`probabilities` → classifier, else regression).
 */
export function fallbackSignature(inputName: string, width: number, outputNames: string[]): ModelSignature {
  const classifier = outputNames.includes("probabilities") || outputNames.includes("label");
  return {
    schema: "tandem.signature/v1",
    task: classifier ? "binary_classification" : "regression",
    algorithm: "unknown",
    inputs: [{ name: inputName, type: "float32", shape: [null, width] }],
    outputs: outputNames.map((name) => ({ name, type: "float32", shape: [null] })),
    features: Array.from({ length: width }, (_, i) => ({ name: `f${i}`, type: "numeric" as const })),
  };
}
