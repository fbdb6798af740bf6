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

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const accumulate = (${accumulateHistogram.toString()});
const { bins, cols, idx, grad, hess, hist, ctrl } = workerData;
parentPort.on("message", (m) => {
  hist.fill(0);
  accumulate(bins, cols, idx, m.start, m.end, grad, m.hasHess ? hess : null, hist);
  Atomics.store(ctrl, 0, 1);
  Atomics.notify(ctrl, 0);
});
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
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(4));
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
    Atomics.store(this.ctrl, 0, 0);
    this.pending = true;
    this.worker.postMessage({ start, end, hasHess });
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
    void this.worker.terminate();
  }
}
