/**
 * The trainers' in-memory data: a dense row-major float32 matrix plus a float64 target.
 *
 * Float32 because that is what the exported ONNX graph takes (`features` float [N, F]); training on the
 * very values the model will see at serving time is what makes trainer/ONNX parity exact for trees.
 */

import { InvalidInputError } from "../errors.js";

export interface Matrix {
  rows: number;
  cols: number;
  /** Row-major values, length rows*cols. NaN means missing. */
  data: Float32Array;
}

export interface LabelledData {
  x: Matrix;
  /** Classification: class index 0..K-1. Regression: the value. */
  y: Float64Array;
}

export function matrixFromColumns(columns: ArrayLike<number>[]): Matrix {
  const cols = columns.length;
  const rows = cols === 0 ? 0 : columns[0]!.length;
  const data = new Float32Array(rows * cols);
  for (let j = 0; j < cols; j++) {
    const c = columns[j]!;
    if (c.length !== rows) throw new InvalidInputError(`column ${j} has ${c.length} rows, expected ${rows}`);
    for (let i = 0; i < rows; i++) data[i * cols + j] = c[i]!;
  }
  return { rows, cols, data };
}

export function takeRows(x: Matrix, indices: ArrayLike<number>): Matrix {
  const out = new Float32Array(indices.length * x.cols);
  for (let k = 0; k < indices.length; k++) {
    const src = indices[k]! * x.cols;
    out.set(x.data.subarray(src, src + x.cols), k * x.cols);
  }
  return { rows: indices.length, cols: x.cols, data: out };
}

export function take(y: Float64Array, indices: ArrayLike<number>): Float64Array {
  const out = new Float64Array(indices.length);
  for (let k = 0; k < indices.length; k++) out[k] = y[indices[k]!]!;
  return out;
}

export function subset(d: LabelledData, indices: ArrayLike<number>): LabelledData {
  return { x: takeRows(d.x, indices), y: take(d.y, indices) };
}

/** Small, seedable PRNG (mulberry32) so splits and samples are reproducible across runs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffledIndices(n: number, seed: number): Uint32Array {
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const r = rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return idx;
}

/**
 * Splits rows into train/validation. Classification splits are stratified by class, like scikit-learn's
 * early-stopping split, so a small validation set keeps the class balance.
 */
export function trainValidationSplit(options: { y: Float64Array; fraction: number; seed: number; stratify: boolean }): {
  train: Uint32Array;
  validation: Uint32Array;
} {
  const n = options.y.length;
  const order = shuffledIndices(n, options.seed);
  if (!options.stratify) {
    const nVal = Math.max(1, Math.floor(n * options.fraction));
    return { train: order.slice(nVal).sort(), validation: order.slice(0, nVal).sort() };
  }
  const byClass = new Map<number, number[]>();
  for (const i of order) {
    const c = options.y[i]!;
    let list = byClass.get(c);
    if (!list) byClass.set(c, (list = []));
    list.push(i);
  }
  const train: number[] = [];
  const validation: number[] = [];
  for (const list of byClass.values()) {
    const nVal = Math.round(list.length * options.fraction);
    for (let k = 0; k < list.length; k++) (k < nVal ? validation : train).push(list[k]!);
  }
  return { train: Uint32Array.from(train).sort(), validation: Uint32Array.from(validation).sort() };
}
