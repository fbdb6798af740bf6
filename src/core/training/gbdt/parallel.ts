/**
 * A second thread for histogram building, the bulk of boosting's work. The machine has 2 cores, so one
 * helper worker takes half of a node's rows while the calling thread does the other half; both read the
 * same bins, gradients and row index from SharedArrayBuffers, and the worker writes its partial histogram
 * into a shared buffer the caller adds to its own.
 *
 * The trainer API stays synchronous: the caller blocks in Atomics.wait until the worker flags completion
 * (allowed on Node's main thread). The worker runs the exact kernel source of histogram.ts.
 */

import { Worker } from "node:worker_threads";
import { accumulateHistogram } from "./histogram.js";

/**
 * Control words (Int32, shared): [0] done flag, [1] task sequence number, [2] start, [3] end (-1 = exit),
 * [4] has hessians. Tasks are handed over with Atomics rather than postMessage: a message costs ~0.5 ms
 * (clone + event-loop wake-up) and a tree needs ~30 hand-offs.
 */
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const accumulate = (${accumulateHistogram.toString()});
const { bins, cols, idx, grad, hess, hist, ctrl } = workerData;
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, 1, seen, 1000);
  const seq = Atomics.load(ctrl, 1);
  if (seq === seen) continue;
  seen = seq;
  const start = Atomics.load(ctrl, 2);
  const end = Atomics.load(ctrl, 3);
  if (end < 0) break;
  hist.fill(0);
  accumulate(bins, cols, idx, start, end, grad, Atomics.load(ctrl, 4) === 1 ? hess : null, hist);
  Atomics.store(ctrl, 0, 1);
  Atomics.notify(ctrl, 0);
}
`;

export function sharedFloat64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(n * 8));
}

export function sharedUint32(n: number): Uint32Array {
  return new Uint32Array(new SharedArrayBuffer(n * 4));
}

export function sharedUint8(n: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(n));
}

export class HistogramWorker {
  private readonly worker: Worker;
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(5 * 4));
  private readonly hist: Float64Array;
  private pending = false;

  constructor(shared: {
    bins: Uint8Array;
    cols: number;
    idx: Uint32Array;
    grad: Float64Array;
    hess: Float64Array | null;
  }) {
    this.hist = sharedFloat64(shared.cols * 256 * 3);
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { ...shared, hess: shared.hess ?? new Float64Array(0), hist: this.hist, ctrl: this.ctrl },
    });
    // Never keep the process alive for an idle helper.
    this.worker.unref();
  }

  /** Starts accumulating rows index[start, end) in the worker. */
  start(start: number, end: number, hasHess: boolean): void {
    this.post(start, end, hasHess);
    this.pending = true;
  }

  private post(start: number, end: number, hasHess: boolean): void {
    const c = this.ctrl;
    Atomics.store(c, 0, 0);
    Atomics.store(c, 2, start);
    Atomics.store(c, 3, end);
    Atomics.store(c, 4, hasHess ? 1 : 0);
    Atomics.add(c, 1, 1);
    Atomics.notify(c, 1);
  }

  /** Blocks until the worker is done, then adds its partial histogram into `into`. */
  finishInto(into: Float64Array): void {
    if (!this.pending) return;
    // Bounded waits so a worker that died cannot hang training forever.
    let waited = 0;
    while (Atomics.load(this.ctrl, 0) === 0) {
      if (Atomics.wait(this.ctrl, 0, 0, 1000) === "timed-out" && ++waited >= 120) {
        throw new Error("histogram worker did not answer within 120 s");
      }
    }
    this.pending = false;
    const h = this.hist;
    for (let k = 0; k < h.length; k++) into[k] = into[k]! + h[k]!;
  }

  close(): void {
    // Ask the loop to exit (it polls at least every second), and terminate as a backstop.
    this.post(0, -1, false);
    void this.worker.terminate();
  }
}
