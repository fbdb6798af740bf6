/**
 * Grows one tree leaf-wise (best-first, as LightGBM and scikit-learn's HistGradientBoosting do) on binned
 * data from per-row gradients and hessians.
 *
 * Histograms hold (sum gradient, sum hessian, count) per (feature, bin). After a split only the smaller
 * child's histogram is built from its rows; the larger child's is the parent's minus the smaller's
 * (the "histogram subtraction trick"), which halves the work per level at least.
 */

import { MISSING_BIN } from "./binning.js";
import { accumulateHistogram } from "./histogram.js";
import type { HistogramWorker } from "./parallel.js";
import type { Tree } from "./tree.js";

const BINS = 256;
/** Below this many rows a node's histogram is built on one thread: the hand-off costs ~0.05 ms. */
const PARALLEL_MIN_ROWS = 10_000;

export interface GrowerParams {
  maxLeafNodes: number;
  /** 0 = unlimited. */
  maxDepth: number;
  minSamplesLeaf: number;
  l2: number;
  learningRate: number;
  /** Smallest hessian sum a child may have (scikit-learn's min_hessian_to_split, 1e-3). */
  minHessian: number;
}

export interface GrowerData {
  bins: Uint8Array;
  rows: number;
  cols: number;
  /** Per feature: number of value bins (thresholds + 1). */
  valueBins: Int32Array;
  thresholds: Float32Array[];
}

interface Split {
  gain: number;
  feature: number;
  bin: number;
  missingLeft: boolean;
  gl: number;
  hl: number;
  cl: number;
}

interface Node {
  id: number;
  start: number;
  end: number;
  g: number;
  h: number;
  depth: number;
  hist: Float64Array | null;
  split: Split | null;
}

/** Reused buffers across trees of one boosting run. */
export class Grower {
  private readonly pool: Float64Array[] = [];
  readonly index: Uint32Array;
  private readonly scratch: Uint32Array;
  private readonly worker: HistogramWorker | null;
  /** Gain each feature contributed, summed over all trees grown so far. */
  readonly gains: Float64Array;

  /**
   * `index` may be passed in (shared memory) when a histogram worker reads it too; `worker` then takes
   * half of every large node's rows.
   */
  constructor(
    private readonly data: GrowerData,
    private readonly params: GrowerParams,
    options: { index?: Uint32Array; worker?: HistogramWorker } = {},
  ) {
    this.index = options.index ?? new Uint32Array(data.rows);
    this.worker = options.worker ?? null;
    this.scratch = new Uint32Array(data.rows);
    this.gains = new Float64Array(data.cols);
  }

  /**
   * Grows a tree; adds each training row's leaf value to `raw`. `hess` null means every hessian is 1
   * (squared error), which saves a load per row per feature.
   */
  grow(grad: Float64Array, hess: Float64Array | null, raw: Float64Array): Tree {
    const p = this.params;
    const idx = this.index;
    const n = this.data.rows;
    for (let i = 0; i < n; i++) idx[i] = i;
    let g = 0;
    let h = 0;
    for (let i = 0; i < n; i++) {
      g += grad[i]!;
      h += hess ? hess[i]! : 1;
    }
    const nodes: {
      feature: number;
      threshold: number;
      bin: number;
      missingLeft: boolean;
      left: number;
      right: number;
      value: number;
    }[] = [];
    const newNode = (): number => {
      nodes.push({ feature: -1, threshold: 0, bin: 0, missingLeft: false, left: -1, right: -1, value: 0 });
      return nodes.length - 1;
    };
    const root: Node = { id: newNode(), start: 0, end: n, g, h, depth: 0, hist: this.alloc(), split: null };
    this.buildHistogram(root.hist!, 0, n, grad, hess);
    const heap: Node[] = [];
    const leaves: Node[] = [];
    const consider = (node: Node): void => {
      const count = node.end - node.start;
      const depthOk = p.maxDepth <= 0 || node.depth < p.maxDepth;
      if (depthOk && count >= 2 * p.minSamplesLeaf) node.split = this.findSplit(node);
      if (node.split) heap.push(node);
      else {
        this.release(node);
        leaves.push(node);
      }
    };
    consider(root);
    let nLeaves = 1;
    while (heap.length > 0 && nLeaves < p.maxLeafNodes) {
      let best = 0;
      for (let k = 1; k < heap.length; k++) if (heap[k]!.split!.gain > heap[best]!.split!.gain) best = k;
      const node = heap[best]!;
      heap[best] = heap[heap.length - 1]!;
      heap.pop();
      const s = node.split!;
      this.gains[s.feature] = this.gains[s.feature]! + s.gain;
      const mid = this.partition(node.start, node.end, s);
      const left: Node = {
        id: newNode(),
        start: node.start,
        end: mid,
        g: s.gl,
        h: s.hl,
        depth: node.depth + 1,
        hist: null,
        split: null,
      };
      const right: Node = {
        id: newNode(),
        start: mid,
        end: node.end,
        g: node.g - s.gl,
        h: node.h - s.hl,
        depth: node.depth + 1,
        hist: null,
        split: null,
      };
      const rec = nodes[node.id]!;
      rec.feature = s.feature;
      rec.bin = s.bin;
      rec.missingLeft = s.missingLeft;
      const t = this.data.thresholds[s.feature]!;
      rec.threshold = s.bin < t.length ? t[s.bin]! : Infinity;
      rec.left = left.id;
      rec.right = right.id;
      const [small, large] = mid - node.start <= node.end - mid ? [left, right] : [right, left];
      small.hist = this.alloc();
      this.buildHistogram(small.hist, small.start, small.end, grad, hess);
      large.hist = node.hist!;
      node.hist = null;
      const ls = large.hist;
      const ss = small.hist;
      for (let k = 0; k < ls.length; k++) ls[k] = ls[k]! - ss[k]!;
      nLeaves++;
      consider(left);
      consider(right);
    }
    for (const node of heap) {
      this.release(node);
      leaves.push(node);
    }
    for (const leaf of leaves) {
      const v = Math.fround((-p.learningRate * leaf.g) / (leaf.h + p.l2));
      nodes[leaf.id]!.value = v;
      for (let k = leaf.start; k < leaf.end; k++) raw[idx[k]!] = raw[idx[k]!]! + v;
    }
    const m = nodes.length;
    const tree: Tree = {
      feature: new Int32Array(m),
      threshold: new Float32Array(m),
      binThreshold: new Uint8Array(m),
      missingLeft: new Uint8Array(m),
      left: new Int32Array(m),
      right: new Int32Array(m),
      value: new Float32Array(m),
    };
    nodes.forEach((nd, i) => {
      tree.feature[i] = nd.feature;
      tree.threshold[i] = nd.threshold;
      tree.binThreshold[i] = nd.bin;
      tree.missingLeft[i] = nd.missingLeft ? 1 : 0;
      tree.left[i] = nd.left;
      tree.right[i] = nd.right;
      tree.value[i] = nd.value;
    });
    return tree;
  }

  private alloc(): Float64Array {
    const h = this.pool.pop();
    if (h) {
      h.fill(0);
      return h;
    }
    return new Float64Array(this.data.cols * BINS * 3);
  }

  private release(node: Node): void {
    if (node.hist) this.pool.push(node.hist);
    node.hist = null;
  }

  private buildHistogram(
    hist: Float64Array,
    start: number,
    end: number,
    grad: Float64Array,
    hess: Float64Array | null,
  ): void {
    const { bins, cols } = this.data;
    const idx = this.index;
    const worker = this.worker;
    if (worker && end - start >= PARALLEL_MIN_ROWS) {
      const mid = start + ((end - start) >> 1);
      worker.start(start, mid, hess !== null);
      accumulateHistogram(bins, cols, idx, mid, end, grad, hess, hist);
      worker.finishInto(hist);
    } else {
      accumulateHistogram(bins, cols, idx, start, end, grad, hess, hist);
    }
    // Hessian sums equal counts when every hessian is 1.
    if (!hess) for (let o = 0; o < hist.length; o += 3) hist[o + 1] = hist[o + 2]!;
  }

  /** Best split of a node over all features and both directions for missing values. */
  private findSplit(node: Node): Split | null {
    const p = this.params;
    const hist = node.hist!;
    const G = node.g;
    const H = node.h;
    const C = node.end - node.start;
    const parentScore = (G * G) / (H + p.l2);
    let best: Split | null = null;
    for (let f = 0; f < this.data.cols; f++) {
      const nb = this.data.valueBins[f]!;
      const mo = (f * BINS + MISSING_BIN) * 3;
      const gm = hist[mo]!;
      const hm = hist[mo + 1]!;
      const cm = hist[mo + 2]!;
      // Missing values go right first (scan left-to-right), then left when there are any.
      for (let dir = 0; dir < (cm > 0 ? 2 : 1); dir++) {
        const missingLeft = dir === 1;
        let gl = missingLeft ? gm : 0;
        let hl = missingLeft ? hm : 0;
        let cl = missingLeft ? cm : 0;
        // With missing values on the right, "all value bins left" is a real split too.
        const lastBin = cm > 0 && !missingLeft ? nb - 1 : nb - 2;
        for (let b = 0; b <= lastBin; b++) {
          const o = (f * BINS + b) * 3;
          gl += hist[o]!;
          hl += hist[o + 1]!;
          cl += hist[o + 2]!;
          const cr = C - cl;
          if (cl < p.minSamplesLeaf) continue;
          if (cr < p.minSamplesLeaf) break;
          const hr = H - hl;
          if (hl < p.minHessian || hr < p.minHessian) continue;
          const gr = G - gl;
          const gain = (gl * gl) / (hl + p.l2) + (gr * gr) / (hr + p.l2) - parentScore;
          if (gain > 1e-12 && (!best || gain > best.gain)) {
            best = { gain, feature: f, bin: b, missingLeft, gl, hl, cl };
          }
        }
      }
    }
    return best;
  }

  /**
   * Stable partition of index[start, end): rows going left first, each side keeping its order. Keeping
   * indices ascending keeps every later pass over a leaf's rows walking memory forwards, which on 2M+
   * rows is worth ~2x over an in-place swap partition (cache misses dominate).
   */
  private partition(start: number, end: number, s: Split): number {
    const { bins, cols } = this.data;
    const idx = this.index;
    const tmp = this.scratch;
    const f = s.feature;
    const t = s.bin;
    const missingLeft = s.missingLeft;
    let w = start;
    let r = 0;
    for (let k = start; k < end; k++) {
      const row = idx[k]!;
      const b = bins[row * cols + f]!;
      if (b === MISSING_BIN ? missingLeft : b <= t) idx[w++] = row;
      else tmp[r++] = row;
    }
    idx.set(tmp.subarray(0, r), w);
    return w;
  }
}
