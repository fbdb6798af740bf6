/**
 * Writes prediction log batches from a worker thread, to a SQLite file or a PostgreSQL database.
 * better-sqlite3 is synchronous: on the main thread every flush stopped the event loop while SQLite
 * parsed and inserted the batch — about a seventh of a busy serving process's main-thread time, and
 * a bump in its p99 latency. On both databases, turning a request's columns into rows (feature and
 * output JSON, COPY text) is work the event loop no longer does: in a worker it overlaps with
 * answering requests. A batch crosses packed in a few flat columns (prediction-log-wire.mjs), which
 * the worker unpacks into one small object per request (prediction-log-rows.d.mts).
 *
 * The worker starts on the first batch and stops with close(); if it dies, pending batches fail (the
 * logger keeps them for its next try) and the next batch starts a new one.
 */
import { Worker } from "node:worker_threads";
import type { WireRequest } from "./prediction-log-rows.mjs";
import { packRequests } from "./prediction-log-wire.mjs";
import type { SqliteWriteLock } from "./sqlite-write-lock.js";

/** Where the worker writes: a SQLite file (its own connection) or a PostgreSQL database (its own client). */
export type LogTarget =
  | { kind: "sqlite"; file: string; busyTimeoutMs: number; writeLock?: SqliteWriteLock }
  | { kind: "postgres"; url: string };

interface Pending {
  worker: Worker;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class PredictionLogThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly target: LogTarget) {}

  /** One object per request, and the aggregates as a flat array of 8 values per row (or null). */
  append(requests: WireRequest[] | null, stats: unknown[] | null): Promise<void> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { worker, resolve, reject });
      // Referenced while a batch is in flight, so a process with nothing else to do waits for it.
      worker.ref();
      const packed = requests ? packRequests(requests) : null;
      worker.postMessage({ id, packet: packed?.packet ?? null, stats }, packed?.transfer ?? []);
    });
  }

  private start(): Worker {
    const worker = new Worker(new URL("./prediction-log-worker.mjs", import.meta.url), {
      // The lock crosses as its SharedArrayBuffer: shared memory, not a copy.
      workerData:
        this.target.kind === "sqlite"
          ? { ...this.target, writeLock: this.target.writeLock?.buffer ?? null }
          : this.target,
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
      // A worker stopped mid-insert cannot release the lock itself.
      if (this.target.kind === "sqlite") this.target.writeLock?.releaseIfWorkerHeld();
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
