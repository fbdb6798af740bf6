/**
 * A fitted regression tree in flat arrays (node 0 is the root). Internal nodes send a row left when
 * `x[feature] <= threshold`, or when x is NaN and `missingLeft` is set; leaves carry a float32 value
 * (already multiplied by the learning rate) so the trainer adds exactly what the ONNX graph adds.
 */

export interface Tree {
  /** -1 for a leaf. */
  feature: Int32Array;
  threshold: Float32Array;
  /** The same split as a bin index: left when bin <= binThreshold (used on binned data). */
  binThreshold: Uint8Array;
  missingLeft: Uint8Array;
  left: Int32Array;
  right: Int32Array;
  value: Float32Array;
}

export function nodeCount(tree: Tree): number {
  return tree.feature.length;
}

/** Adds the tree's leaf value for each row of a row-major float32 matrix to `out`. */
export function addTreePredictions(tree: Tree, data: Float32Array, cols: number, out: Float64Array): void {
  const { feature, threshold, missingLeft, left, right, value } = tree;
  const rows = out.length;
  for (let i = 0; i < rows; i++) {
    let node = 0;
    const base = i * cols;
    let f = feature[0]!;
    while (f >= 0) {
      const v = data[base + f]!;
      const goLeft = v <= threshold[node]! || (v !== v && missingLeft[node] === 1);
      node = goLeft ? left[node]! : right[node]!;
      f = feature[node]!;
    }
    out[i] = out[i]! + value[node]!;
  }
}

/** Same as {@link addTreePredictions} on bin codes (MISSING_BIN = 255 for NaN). */
export function addTreePredictionsBinned(tree: Tree, bins: Uint8Array, cols: number, out: Float64Array): void {
  const { feature, binThreshold, missingLeft, left, right, value } = tree;
  const rows = out.length;
  for (let i = 0; i < rows; i++) {
    let node = 0;
    const base = i * cols;
    let f = feature[0]!;
    while (f >= 0) {
      const b = bins[base + f]!;
      const goLeft = b === 255 ? missingLeft[node] === 1 : b <= binThreshold[node]!;
      node = goLeft ? left[node]! : right[node]!;
      f = feature[node]!;
    }
    out[i] = out[i]! + value[node]!;
  }
}
