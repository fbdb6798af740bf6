/**
 * Feature binning for histogram-based boosting: each feature's values are mapped to at most 255 bins by
 * quantile thresholds (exact midpoints when a feature has few distinct values), as scikit-learn's
 * HistGradientBoosting and LightGBM do. Bin 255 is reserved for missing values (NaN).
 *
 * A value x falls in bin b = the first b with x <= thresholds[b] (or the last bin). A split "bin <= b" is
 * therefore exactly "x <= thresholds[b]", which is the test ONNX's BRANCH_LEQ node performs on the raw
 * float32 input — so the exported trees decide exactly as the trainer did.
 */

import type { Matrix } from "../data.js";
import { rng } from "../data.js";

export const MISSING_BIN = 255;
/** 200 000 rows are enough for stable quantiles (scikit-learn's subsample default). */
const BINNING_SAMPLE = 200_000;

export interface BinMapper {
  /** Per feature: increasing float32 thresholds; feature f has thresholds[f].length + 1 value bins. */
  thresholds: Float32Array[];
}

export function fitBins(x: Matrix, options: { maxBins: number; seed: number }): BinMapper {
  const maxBins = Math.min(255, Math.max(2, options.maxBins));
  const n = x.rows;
  let sample: Uint32Array | null = null;
  if (n > BINNING_SAMPLE) {
    const r = rng(options.seed);
    sample = new Uint32Array(BINNING_SAMPLE);
    for (let k = 0; k < BINNING_SAMPLE; k++) sample[k] = Math.floor(r() * n);
  }
  const m = sample ? sample.length : n;
  const values = new Float64Array(m);
  const thresholds: Float32Array[] = [];
  for (let f = 0; f < x.cols; f++) {
    let count = 0;
    for (let k = 0; k < m; k++) {
      const v = x.data[(sample ? sample[k]! : k) * x.cols + f]!;
      if (!Number.isNaN(v)) values[count++] = v;
    }
    thresholds.push(featureThresholds(values.subarray(0, count).sort(), maxBins));
  }
  return { thresholds };
}

function featureThresholds(sorted: Float64Array, maxBins: number): Float32Array {
  const distinct: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]!);
  }
  const out: number[] = [];
  if (distinct.length <= maxBins) {
    for (let i = 0; i + 1 < distinct.length; i++) out.push(between(distinct[i]!, distinct[i + 1]!));
    return Float32Array.from(out);
  }
  // Quantile cut points at 1/maxBins … (maxBins-1)/maxBins, each moved to a midpoint between two
  // distinct data values so no observed value sits on a threshold.
  let prev = -Infinity;
  for (let q = 1; q < maxBins; q++) {
    const pos = (q / maxBins) * (sorted.length - 1);
    const v = sorted[Math.floor(pos)]!;
    // The next distinct value above v.
    let lo = 0;
    let hi = distinct.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (distinct[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    if (distinct[lo]! <= v) continue;
    const t = between(distinct[lo - 1]!, distinct[lo]!);
    if (t > prev) {
      out.push(t);
      prev = t;
    }
  }
  return Float32Array.from(out);
}

/** A float32 t with a <= t < b (a, b float32 values): the midpoint when representable. */
function between(a: number, b: number): number {
  const t = Math.fround(a + (b - a) / 2);
  return t >= b || t < a ? a : t;
}

/** Maps the matrix to row-major bin codes (Uint8, one byte per cell), in shared memory if asked. */
export function applyBins(x: Matrix, mapper: BinMapper, shared = false): Uint8Array {
  const size = x.rows * x.cols;
  const out = shared ? new Uint8Array(new SharedArrayBuffer(size)) : new Uint8Array(size);
  const f = x.cols;
  for (let j = 0; j < f; j++) {
    const t = mapper.thresholds[j]!;
    const nt = t.length;
    for (let i = 0; i < x.rows; i++) {
      const v = x.data[i * f + j]!;
      let bin: number;
      if (Number.isNaN(v)) bin = MISSING_BIN;
      else {
        let lo = 0;
        let hi = nt;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (v <= t[mid]!) hi = mid;
          else lo = mid + 1;
        }
        bin = lo;
      }
      out[i * f + j] = bin;
    }
  }
  return out;
}
