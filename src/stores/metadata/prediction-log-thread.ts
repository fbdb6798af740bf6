/**
 * Writes prediction log batches to a SQLite file from a worker thread. better-sqlite3 is synchronous:
 * on the main thread every flush stopped the event loop while SQLite parsed and inserted the batch —
 * about a seventh of a busy serving process's main-thread time, and a bump in its p99 latency. In a
 * worker the insert overlaps with answering requests. A batch crosses as flat arrays of strings and
 * numbers (cheap to clone; features already JSON text), so the worker only binds and inserts.
 *
 * The worker starts on the first batch and stops with close(); if it dies, pending batches fail (the
 * logger keeps them for its next try) and the next batch starts a new one.
 */
import { Worker } from "node:worker_threads";

interface Pending {
  worker: Worker;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class PredictionLogThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    private readonly file: string,
    private readonly busyTimeoutMs: number,
  ) {}

  /** `predictions` and `stats` are flat arrays of values in the worker's column order, or null. */
  append(predictions: unknown[] | null, stats: unknown[] | null): Promise<void> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { worker, resolve, reject });
      // Referenced while a batch is in flight, so a process with nothing else to do waits for it.
      worker.ref();
      worker.postMessage({ id, predictions, stats });
    });
  }

  private start(): Worker {
    const worker = new Worker(new URL("./prediction-log-worker.mjs", import.meta.url), {
      workerData: { file: this.file, busyTimeoutMs: this.busyTimeoutMs },
    });
    worker.on("message", ({ id, error }: { id: number; error?: string }) => {
      const waiting = this.pending.get(id);
      this.pending.delete(id);
      // An idle writer must not keep a finished command alive; close() ends it explicitly.
      if (![...this.pending.values()].some((p) => p.worker === worker)) worker.unref();
      if (error) waiting?.reject(new Error(`prediction log write failed: ${error}`));
      else waiting?.resolve();
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const [id, waiting] of this.pending) {
        if (waiting.worker !== worker) continue;
        this.pending.delete(id);
        waiting.reject(error);
      }
    };
    worker.on("error", (error) => fail(new Error(`the prediction log writer failed: ${error.message}`)));
    worker.on("exit", (code) => fail(new Error(`the prediction log writer stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}
