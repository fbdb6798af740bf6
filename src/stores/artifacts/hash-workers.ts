/**
 * Hashing local files at disk speed: sha256 runs on the thread that calls `update`, so one Node thread
 * hashes at one core's speed (~0.5 GB/s here) however many files are in flight. A small pool of worker
 * threads reads each file once, hashes it and (optionally) writes the copy in the same pass, one file
 * per worker, so `tandem data add` keeps every core busy (issue 18: 2 GiB in 1000 files took twice
 * sha256sum's time on one core).
 *
 * The worker's code is a plain-JavaScript string (`eval: true`), with only node: imports: it then runs
 * the same from dist/, through tsx and under vitest, none of which can agree on a worker file's path.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

export interface HashedFile {
  sha256: string;
  size: number;
}

interface Job {
  /** The file to read. */
  source: string;
  /** Where to write the copy (created, must not exist; fsynced), or null to hash only. */
  copyTo: string | null;
  resolve: (r: HashedFile) => void;
  reject: (e: Error) => void;
}

const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const buf = Buffer.allocUnsafe(1 << 20);
parentPort.on("message", ({ source, copyTo }) => {
  let input, output;
  try {
    input = fs.openSync(source, "r");
    output = copyTo === null ? undefined : fs.openSync(copyTo, "wx");
    const hash = createHash("sha256");
    let size = 0;
    for (;;) {
      const n = fs.readSync(input, buf, 0, buf.length, null);
      if (n === 0) break;
      const chunk = n === buf.length ? buf : buf.subarray(0, n);
      hash.update(chunk);
      if (output !== undefined) for (let at = 0; at < n; ) at += fs.writeSync(output, chunk, at, n - at);
      size += n;
    }
    if (output !== undefined) fs.fsyncSync(output);
    parentPort.postMessage({ ok: true, sha256: hash.digest("hex"), size });
  } catch (error) {
    parentPort.postMessage({ ok: false, message: error.message, code: error.code });
  } finally {
    if (input !== undefined) fs.closeSync(input);
    if (output !== undefined) fs.closeSync(output);
  }
});
`;

type Reply = { ok: true; sha256: string; size: number } | { ok: false; message: string; code?: string };

/** One worker per core, created on first use; idle workers do not keep the process alive. */
class HashPool {
  private readonly idle: Worker[] = [];
  private readonly queue: Job[] = [];
  private workers = 0;
  constructor(private readonly size: number) {}

  run(source: string, copyTo: string | null): Promise<HashedFile> {
    return new Promise((resolve, reject) => {
      this.queue.push({ source, copyTo, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let worker = this.idle.pop();
      if (!worker && this.workers < this.size) worker = this.spawn();
      if (!worker) return;
      this.start(worker, this.queue.shift()!);
    }
  }

  private spawn(): Worker {
    this.workers++;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    return worker;
  }

  private start(worker: Worker, job: Job): void {
    // Busy workers keep the process alive until their file is done.
    worker.ref();
    const done = (): void => {
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.unref();
    };
    const onMessage = (reply: Reply): void => {
      done();
      this.idle.push(worker);
      if (reply.ok) job.resolve({ sha256: reply.sha256, size: reply.size });
      else job.reject(Object.assign(new Error(reply.message), { code: reply.code }));
      this.dispatch();
    };
    const onError = (error: Error): void => {
      // The worker died (it should not): drop it and let another take the queue.
      done();
      this.workers--;
      job.reject(error);
      this.dispatch();
    };
    worker.on("message", onMessage);
    worker.once("error", onError);
    worker.postMessage({ source: job.source, copyTo: job.copyTo });
  }
}

let shared: HashPool | undefined;
/** Up to 4 workers: beyond that the disk, not the CPU, is the limit. */
const pool = (): HashPool => (shared ??= new HashPool(Math.max(1, Math.min(4, availableParallelism()))));

/** The sha256 and size of a local file, hashed on a worker thread. */
export function hashLocalFile(path: string): Promise<HashedFile> {
  return pool().run(path, null);
}

/** Copies `source` to `copyTo` (a new file, fsynced) and hashes it in the same read, on a worker thread. */
export function copyAndHashLocalFile(source: string, copyTo: string): Promise<HashedFile> {
  return pool().run(source, copyTo);
}
