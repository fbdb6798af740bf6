/**
 * Scores a registered ONNX version on a table (CSV, TSV, JSON Lines or Parquet) for the
 * `tandem/evaluate` and `tandem/fairness` steps: feeds the signature's features as the trainers
 * encode them (numeric as is, categorical as the index in `categories`, unknown → NaN) through
 * onnxruntime, and returns predictions next to the true labels and any extra columns asked for.
 */
import { createHash } from "node:crypto";
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ArtifactStore } from "../artifacts/ports.js";
import { openTable, tabularFormatOf } from "../data/readers/index.js";
import { InvalidInputError } from "../errors.js";
import type { FeatureSpec } from "../training/signature.js";
import { onnxSignature } from "./artifact.js";
import type { ModelVersion, VersionSignature } from "./model.js";

export interface Scored {
  rows: number;
  task: "classification" | "regression";
  /** Classification: labels as strings; regression: numbers. */
  yTrue: Array<string | number>;
  yPred: Array<string | number>;
  /** Binary classification: probability of `posLabel`. */
  probability: number[] | null;
  posLabel: string | null;
  /** The extra columns asked for, as strings (e.g. a sensitive attribute). */
  extra: Record<string, string[]>;
}

const BATCH_ROWS = 8192;

/** A directory output holding exactly one table stands for that table. */
export async function tablePath(path: string): Promise<string> {
  const s = await stat(path).catch(() => null);
  if (!s) throw new InvalidInputError(`data: ${path} does not exist`);
  if (s.isFile()) return path;
  const tables = (await readdir(path)).filter((f) => tabularFormatOf(f) !== null);
  if (tables.length !== 1)
    throw new InvalidInputError(
      `data: ${path} is a directory with ${tables.length} tables (.csv, .tsv, .jsonl, .parquet); expected one`,
    );
  return join(path, tables[0]!);
}

/** Numbers written as text ("1", "1.0") compare equal to the class label 1. */
function labelText(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "1" : "0";
  const s = String(value ?? "").trim();
  return s !== "" && Number.isFinite(Number(s)) ? String(Number(s)) : s;
}

/**
 * How one feature's values become model inputs: numeric as is, categorical as the index of its first
 * equal category, missing or unknown as NaN. Categories are looked up in a Map: indexOf scanned the
 * flights model's ~230 airports for every value, 2 x 20 000 values per scoring (issue 18).
 */
function encoderOf(feature: FeatureSpec): (value: unknown) => number {
  const missing = (value: unknown) => value === null || value === undefined || value === "";
  if (feature.type === "categorical") {
    const index = new Map<string, number>();
    (feature.categories ?? []).forEach((c, i) => {
      if (!index.has(c)) index.set(c, i);
    });
    return (value) => (missing(value) ? Number.NaN : (index.get(String(value)) ?? Number.NaN));
  }
  return (value) => {
    if (missing(value)) return Number.NaN;
    const n = typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : Number(String(value));
    return Number.isFinite(n) ? n : Number.NaN;
  };
}

/** An ONNX model to score: a registered version's bytes, or a file a step produced. */
export interface ScorableModel {
  /** How errors name it, e.g. `flights-delay@3` or a path. */
  label: string;
  bytes: Uint8Array;
  signature: VersionSignature;
}

/** Reads a registered ONNX version's bytes (verified by the store as they stream). */
export async function loadVersion(store: ArtifactStore, v: ModelVersion): Promise<ScorableModel> {
  const label = `${v.modelName}@${v.version}`;
  if (v.artifact.format !== "onnx")
    throw new InvalidInputError(`${label} is a command-served model; only ONNX versions can be evaluated in-process`);
  const chunks: Buffer[] = [];
  for await (const chunk of await store.getBlob(v.artifact.sha256)) chunks.push(chunk as Buffer);
  return { label, bytes: Buffer.concat(chunks), signature: v.signature };
}

/** A model file (or a directory holding exactly one .onnx file) a step produced; with its sha256. */
export async function loadModelFile(path: string): Promise<ScorableModel & { sha256: string }> {
  const s = await stat(path).catch(() => null);
  if (!s) throw new InvalidInputError(`model: ${path} does not exist`);
  let file = path;
  if (s.isDirectory()) {
    const onnx = (await readdir(path)).filter((f) => f.toLowerCase().endsWith(".onnx"));
    const pick = onnx.length === 1 ? onnx[0] : onnx.find((f) => f === "model.onnx");
    if (!pick)
      throw new InvalidInputError(`model: ${path} holds ${onnx.length} .onnx files; expected one (or model.onnx)`);
    file = join(path, pick);
  }
  const bytes = await readFile(file);
  return {
    label: file,
    bytes,
    signature: onnxSignature(bytes, file),
    sha256: createHash("sha256").update(bytes).digest("hex"),
  };
}

export async function scoreModel(input: {
  model: ScorableModel;
  data: string;
  target: string;
  /** Feature names when the model carries no trainer signature (all numeric). */
  features?: string[];
  extraColumns?: string[];
}): Promise<Scored> {
  const label = input.model.label;
  const sig = input.model.signature.model;
  const features: FeatureSpec[] =
    sig?.features ?? (input.features ?? []).map((name) => ({ name, type: "numeric" as const }));
  if (features.length === 0)
    throw new InvalidInputError(`${label} has no trainer signature: list its input columns in with.features`);
  const task = sig?.task === "regression" ? "regression" : "classification";
  const file = await tablePath(input.data);
  const reader = await openTable(file);
  const wanted = [...features.map((f) => f.name), input.target, ...(input.extraColumns ?? [])];
  const cols: Record<string, unknown[]> = Object.fromEntries(wanted.map((c) => [c, []]));
  for await (const chunk of reader.chunks()) {
    for (const c of wanted) {
      const col = chunk.columns[c];
      if (!col)
        throw new InvalidInputError(`${file}: no column ${JSON.stringify(c)} (columns: ${chunk.names.join(", ")})`);
      for (let i = 0; i < chunk.rows; i++) cols[c]!.push(col[i]);
    }
  }
  const rows = cols[input.target]!.length;
  if (rows === 0) throw new InvalidInputError(`${file}: no rows to evaluate`);
  // Loaded here: onnxruntime and its native library are for scoring, not for loading this module.
  const ort = await import("onnxruntime-node");
  const session = await ort.InferenceSession.create(input.model.bytes);
  const inputName = session.inputNames[0]!;
  const yPred: Array<string | number> = [];
  const probability: number[] = [];
  const classes = (sig?.classLabels ?? [0, 1]).map(labelText);
  const encoders = features.map(encoderOf);
  try {
    for (let start = 0; start < rows; start += BATCH_ROWS) {
      const n = Math.min(BATCH_ROWS, rows - start);
      const x = new Float32Array(n * features.length);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < features.length; j++)
          x[i * features.length + j] = encoders[j]!(cols[features[j]!.name]![start + i]);
      const out = await session.run({ [inputName]: new ort.Tensor("float32", x, [n, features.length]) });
      if (task === "regression") {
        const values = (out.value ?? out[session.outputNames[0]!])!.data as Float32Array;
        for (let i = 0; i < n; i++) yPred.push(values[i]!);
      } else {
        const labels = out.label?.data as BigInt64Array | undefined;
        const probs = out.probabilities?.data as Float32Array | undefined;
        if (!labels) throw new InvalidInputError(`${label}: a classifier must answer a "label" output`);
        const k = probs ? probs.length / n : 0;
        for (let i = 0; i < n; i++) {
          yPred.push(classes[Number(labels[i]!)] ?? String(labels[i]));
          if (probs && k === 2) probability.push(probs[i * 2 + 1]!);
        }
      }
    }
  } finally {
    await session.release();
  }
  const extra = Object.fromEntries((input.extraColumns ?? []).map((c) => [c, cols[c]!.map((x) => String(x ?? ""))]));
  if (task === "regression") {
    const yTrue = cols[input.target]!.map((x) => Number(x));
    return { rows, task, yTrue, yPred, probability: null, posLabel: null, extra };
  }
  const binary = classes.length === 2;
  return {
    rows,
    task,
    yTrue: cols[input.target]!.map(labelText),
    yPred,
    probability: binary && probability.length === rows ? probability : null,
    posLabel: binary ? classes[1]! : null,
    extra,
  };
}
