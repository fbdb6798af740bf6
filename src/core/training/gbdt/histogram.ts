/**
 * The histogram kernel: adds (gradient, hessian, count) of rows index[start, end) into `hist`, laid out
 * as [feature][bin 0..255][g, h, count]. With `hess` null only g and count are summed (the caller sets
 * h = count afterwards: every hessian is 1 under squared error).
 *
 * It must stay self-contained — no imports, no helpers, no closures — because parallel.ts ships its
 * source text (`Function.prototype.toString`) to a worker thread, so both threads run the same code.
 */
export function accumulateHistogram(
  bins: Uint8Array,
  cols: number,
  idx: Uint32Array,
  start: number,
  end: number,
  grad: Float64Array,
  hess: Float64Array | null,
  hist: Float64Array,
): void {
  if (hess) {
    for (let k = start; k < end; k++) {
      const i = idx[k]!;
      const gi = grad[i]!;
      const hi = hess[i]!;
      const base = i * cols;
      for (let f = 0; f < cols; f++) {
        const o = ((f << 8) + bins[base + f]!) * 3;
        hist[o] = hist[o]! + gi;
        hist[o + 1] = hist[o + 1]! + hi;
        hist[o + 2] = hist[o + 2]! + 1;
      }
    }
  } else {
    for (let k = start; k < end; k++) {
      const i = idx[k]!;
      const gi = grad[i]!;
      const base = i * cols;
      for (let f = 0; f < cols; f++) {
        const o = ((f << 8) + bins[base + f]!) * 3;
        hist[o] = hist[o]! + gi;
        hist[o + 2] = hist[o + 2]! + 1;
      }
    }
  }
}
