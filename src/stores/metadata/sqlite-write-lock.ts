/**
 * One SQLite file, two writers in this process: the main thread's connection and the prediction
 * log's worker (prediction-log-worker.mjs). SQLite lets one write at a time, and a connection that
 * finds the lock taken waits in SQLite's busy handler, which *sleeps the thread* (1, 2, 5, 10 … ms).
 * On the main thread that stopped every request: under serving load, a background tick's BEGIN
 * IMMEDIATE (alert delivery claims, the serving controller) waited out the worker's insert for
 * 3–134 ms with the event loop frozen, six times in twelve seconds.
 *
 * This lock, in shared memory, settles it between the two threads before SQLite is asked: the main
 * thread waits for it asynchronously (Atomics.waitAsync: requests keep being answered), the worker
 * blocks on it (Atomics.wait: a worker may block). Other processes on the file still meet SQLite's
 * own lock and busy timeout, as before.
 *
 * States: 0 free, 1 held by the worker, 2 held by the main thread. The worker's side is in
 * prediction-log-worker.mjs (plain JavaScript); both sides notify on release.
 */

const FREE = 0;
const MAIN = 2;

/** Atomics.waitAsync (Node ≥ 16; ES2024, past this project's `lib`). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      array: Int32Array,
      index: number,
      value: number,
      timeoutMs: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

export class SqliteWriteLock {
  readonly shared: Int32Array;

  constructor(shared?: SharedArrayBuffer) {
    this.shared = new Int32Array(shared ?? new SharedArrayBuffer(4));
  }

  get buffer(): SharedArrayBuffer {
    return this.shared.buffer as SharedArrayBuffer;
  }

  /** Takes the lock for the main thread, waiting without blocking the event loop. */
  async acquire(): Promise<void> {
    for (;;) {
      const seen = Atomics.compareExchange(this.shared, 0, FREE, MAIN);
      if (seen === FREE) return;
      // Bounded waits: a worker that died holding the lock must not wedge the main thread (its
      // thread's exit releases it, see PredictionLogThread), and a missed notify costs ≤ 50 ms.
      const waited = waitAsync(this.shared, 0, seen, 50);
      if (waited.async) await waited.value;
    }
  }

  release(): void {
    Atomics.store(this.shared, 0, FREE);
    Atomics.notify(this.shared, 0);
  }

  /** Frees a lock the worker held when it stopped (it cannot release it any more). */
  releaseIfWorkerHeld(): void {
    if (Atomics.compareExchange(this.shared, 0, 1, FREE) === 1) Atomics.notify(this.shared, 0);
  }
}
