/**
 * Hashing local files at disk speed: sha256 runs on the thread that calls `update`, so one Node thread
 * hashes at one core's speed (~0.5 GB/s here) however many files are in flight. A small pool of worker
 * threads hashes one file per worker, so `tandem data add` keeps every core busy (issue 18: 2 GiB in
 * 1000 files took twice sha256sum's time on one core).
 *
 * A copy is made by the kernel (`copyFileSync`: copy_file_range on Linux) and then the copy is read
 * and hashed, rather than reading the source once and write(2)-ing it from a user buffer: on the
 * build machine the in-kernel copy cost 1.6-1.9 s of system CPU per 2 GiB against 3.4-3.6 s for
 * write(2) (3 rounds each, alternated, load 10). Hashing the copy, not the source, also means the
 * blob's name is always the hash of the bytes stored, even if the source changes while it is copied.
 * The worker does not fsync: the store does, off the worker (fs-artifact-store.ts), so a worker
 * takes its next file while the disk writes the last one.
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
  /** Where to write the copy (created, must not exist; not fsynced), or null to hash only. */
  copyTo: string | null;
  /** The copy's mode (0o666 less the process's umask, as a file opened for writing gets). */
  mode: number;
  resolve: (r: HashedFile) => void;
  reject: (e: Error) => void;
}

const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const buf = Buffer.allocUnsafe(1 << 20);
parentPort.on("message", ({ source, copyTo, mode }) => {
  let input;
  try {
    if (copyTo !== null) {
      fs.copyFileSync(source, copyTo, fs.constants.COPYFILE_EXCL);
      // copyFile gives the copy the source's mode; a blob gets a new file's mode, whatever the source's.
      fs.chmodSync(copyTo, mode);
    }
    input = fs.openSync(copyTo === null ? source : copyTo, "r");
    const hash = createHash("sha256");
    let size = 0;
    for (;;) {
      const n = fs.readSync(input, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(n === buf.length ? buf : buf.subarray(0, n));
      size += n;
    }
    parentPort.postMessage({ ok: true, sha256: hash.digest("hex"), size });
  } catch (error) {
    parentPort.postMessage({ ok: false, message: error.message, code: error.code });
  } finally {
    if (input !== undefined) fs.closeSync(input);
  }
});
`;

type Reply = { ok: true; sha256: string; size: number } | { ok: false; message: string; code?: string };

/** A worker thread and the jobs posted to it, answered in order. */
interface PoolWorker {
  thread: Worker;
  posted: Job[];
}

/**
 * Jobs posted to one worker ahead of its answer: the next file is already in its queue when it
 * finishes one, instead of waiting for the main thread to hear back and post again (under load the
 * main thread is often not scheduled at that moment, and each worker sat idle ~1.6 s of a 2 GiB add).
 */
const POSTED_PER_WORKER = 2;

/** One worker per core, created on first use; idle workers do not keep the process alive. */
class HashPool {
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Job[] = [];
  constructor(private readonly size: number) {}

  run(source: string, copyTo: string | null): Promise<HashedFile> {
    return new Promise((resolve, reject) => {
      this.queue.push({ source, copyTo, mode: NEW_FILE_MODE, resolve, reject });
      this.dispatch();
    });
  }

  /** Posts queued jobs: first to idle workers, then new ones, then up to POSTED_PER_WORKER each. */
  private dispatch(): void {
    while (this.queue.length > 0) {
      let target = this.workers.find((w) => w.posted.length === 0);
      if (!target && this.workers.length < this.size) target = this.spawn();
      target ??= this.workers.find((w) => w.posted.length < POSTED_PER_WORKER);
      if (!target) return;
      const job = this.queue.shift()!;
      // Busy workers keep the process alive until their files are done.
      if (target.posted.length === 0) target.thread.ref();
      target.posted.push(job);
      target.thread.postMessage({ source: job.source, copyTo: job.copyTo, mode: job.mode });
    }
  }

  private spawn(): PoolWorker {
    const w: PoolWorker = { thread: new Worker(WORKER_SOURCE, { eval: true }), posted: [] };
    w.thread.unref();
    w.thread.on("message", (reply: Reply) => {
      const job = w.posted.shift()!;
      if (w.posted.length === 0) w.thread.unref();
      if (reply.ok) job.resolve({ sha256: reply.sha256, size: reply.size });
      else job.reject(Object.assign(new Error(reply.message), { code: reply.code }));
      this.dispatch();
    });
    w.thread.once("error", (error: Error) => {
      // The worker died (it should not): drop it, fail what it held, and let another take the queue.
      this.workers.splice(this.workers.indexOf(w), 1);
      w.thread.unref();
      for (const job of w.posted.splice(0)) job.reject(error);
      this.dispatch();
    });
    this.workers.push(w);
    return w;
  }
}

/** What open(…, "wx") gives a new file (0o666 less the umask), as blobs had before copyFile. */
const NEW_FILE_MODE = 0o666 & ~process.umask();

let shared: HashPool | undefined;
/** Up to 4 workers: beyond that the disk, not the CPU, is the limit. */
const pool = (): HashPool => (shared ??= new HashPool(Math.max(1, Math.min(4, availableParallelism()))));

/** The sha256 and size of a local file, hashed on a worker thread. */
export function hashLocalFile(path: string): Promise<HashedFile> {
  return pool().run(path, null);
}

/**
 * Copies `source` to `copyTo` (a new file; not fsynced: the caller decides when) and hashes the copy,
 * on a worker thread.
 */
export function copyAndHashLocalFile(source: string, copyTo: string): Promise<HashedFile> {
  return pool().run(source, copyTo);
}
