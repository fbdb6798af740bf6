/**
 * Artifacts on the local filesystem, content-addressed: `<root>/sha256/ab/cdef…`. Writes go to
 * `<root>/tmp`, are fsynced, and only then renamed into place: a kill -9 or a power loss at any
 * moment leaves either the whole blob or none under its name (a half-written one stays a `.part`,
 * swept when a store opens a day later: sweepStaleParts).
 *
 * Names are made durable in a batch: whoever records blobs by name (a dataset version) first calls
 * `makeDurable(shas)`, which fsyncs each directory holding one of them or gaining an entry since the
 * last call: at most the 256 fan-out directories and sha256/, not one fsync per blob. The blobs' own
 * fsyncs run off the hashing workers (putFile), so the disk writes one file while the workers copy
 * the next.
 *
 * `fsync: false` (TANDEM_ARTIFACTS_FSYNC=off) skips both, as DVC's cache does: a kill -9 still cannot
 * leave a partial blob (renames happen after the last write), but a power loss or kernel crash soon
 * after an add can (docs/guides/data.md, Durability).
 */
import { createReadStream } from "node:fs";
import { randomBytes } from "node:crypto";
import { mkdir, open, opendir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { NotFoundError } from "../../core/errors.js";
import { assertSha256 } from "../../core/artifacts/paths.js";
import type { ArtifactStore, BlobInfo } from "../../core/artifacts/ports.js";
import { HashVerifier } from "../../core/artifacts/verify.js";
import { InvalidInputError } from "../../core/errors.js";
import { copyAndHashLocalFile } from "./hash-workers.js";
import { spoolToTempFile, sweepStaleParts } from "./spool.js";

export interface FsArtifactStoreOptions {
  /** Directory holding `sha256/` and `tmp/` (default: `<home>/artifacts`, set by config). */
  root: string;
  /** fsync blobs before they take their names, and their directories in makeDurable (default true). */
  fsync?: boolean;
}

/** Directory fsyncs in flight at once in makeDurable: enough to let the journal group them. */
const DIR_SYNCS_IN_FLIGHT = 16;

/** fsync a file or directory by path (Linux syncs the inode whichever descriptor asks). */
async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class FsArtifactStore implements ArtifactStore {
  /** Directories that gained an entry since the last makeDurable. */
  private readonly unsyncedDirs = new Set<string>();

  private constructor(
    private readonly root: string,
    private readonly fsync: boolean,
  ) {}

  static async create(options: FsArtifactStoreOptions): Promise<FsArtifactStore> {
    await mkdir(join(options.root, "sha256"), { recursive: true });
    await mkdir(join(options.root, "tmp"), { recursive: true });
    await sweepStaleParts(join(options.root, "tmp"));
    return new FsArtifactStore(options.root, options.fsync ?? true);
  }

  /** Where a blob lives on disk; for readers that want the file itself (e.g. to mmap or hardlink). */
  pathOf(sha256: string): string {
    assertSha256(sha256);
    return join(this.root, "sha256", sha256.slice(0, 2), sha256.slice(2));
  }

  async putBlob(data: Readable | Uint8Array | string, options?: { expectedSha256?: string }): Promise<BlobInfo> {
    return this.commit(
      await spoolToTempFile(data, join(this.root, "tmp"), options?.expectedSha256, { fsync: this.fsync }),
    );
  }

  /**
   * A local file (by path) as a blob: copied and hashed on a worker thread (hash-workers.ts), so
   * several files at once use every core; then fsynced on libuv's pool while that worker copies the
   * next file, and renamed into place.
   */
  async putFile(path: string, options?: { expectedSha256?: string }): Promise<BlobInfo> {
    const tempPath = join(this.root, "tmp", `${randomBytes(8).toString("hex")}.part`);
    let hashed: { sha256: string; size: number };
    try {
      hashed = await copyAndHashLocalFile(path, tempPath);
      if (this.fsync) await fsyncPath(tempPath);
    } catch (error) {
      await rm(tempPath, { force: true });
      throw error;
    }
    if (options?.expectedSha256 && options.expectedSha256 !== hashed.sha256) {
      await rm(tempPath, { force: true });
      throw new InvalidInputError(`${path} hashes to ${hashed.sha256}, not the expected ${options.expectedSha256}`);
    }
    return this.commit({ ...hashed, tempPath });
  }

  /**
   * Renames a written (and, with fsync on, fsynced) temp file into place, or drops it when the blob is
   * already stored. A stored blob of the wrong size (cut short by a power loss with fsync off) is
   * replaced: the rename swaps the whole file at once.
   */
  private async commit(spooled: BlobInfo & { tempPath: string }): Promise<BlobInfo> {
    const target = this.pathOf(spooled.sha256);
    const dir = join(this.root, "sha256", spooled.sha256.slice(0, 2));
    try {
      const existing = await stat(target).catch(() => null);
      if (existing?.size === spooled.size) {
        await rm(spooled.tempPath, { force: true });
      } else {
        // A new fan-out directory is itself a new entry of sha256/.
        if (await mkdir(dir, { recursive: true })) this.unsyncedDirs.add(join(this.root, "sha256"));
        await rename(spooled.tempPath, target);
        this.unsyncedDirs.add(dir);
      }
    } catch (error) {
      await rm(spooled.tempPath, { force: true });
      throw error;
    }
    return { sha256: spooled.sha256, size: spooled.size };
  }

  /**
   * Makes the named blobs' names durable: fsyncs each directory holding one (a blob found in place may
   * have been renamed by a process that died before syncing its directory) and each directory that
   * gained an entry since the last call, several at once. On the build machine the 257 directories of
   * a 1000-blob version took 70-220 ms, against 1000 per-blob fsyncs.
   */
  async makeDurable(sha256s: string[]): Promise<void> {
    const base = join(this.root, "sha256");
    const dirs = new Set(this.unsyncedDirs);
    this.unsyncedDirs.clear();
    if (!this.fsync) return;
    for (const sha of sha256s) dirs.add(join(base, sha.slice(0, 2)));
    // The fan-out directories' own names, whoever made them.
    if (sha256s.length > 0) dirs.add(base);
    const list = [...dirs];
    let next = 0;
    // A directory that is not there holds no blob: the caller's own check for missing blobs says so.
    const syncIfThere = (dir: string) =>
      fsyncPath(dir).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "ENOENT") throw error;
      });
    try {
      await Promise.all(
        Array.from({ length: Math.min(DIR_SYNCS_IN_FLIGHT, list.length) }, async () => {
          while (next < list.length) await syncIfThere(list[next++]!);
        }),
      );
    } catch (error) {
      // Not known to be durable: the next call tries them again.
      for (const d of dirs) this.unsyncedDirs.add(d);
      throw error;
    }
  }

  async getBlob(sha256: string): Promise<Readable> {
    const path = this.pathOf(sha256);
    if (!(await stat(path).catch(() => null))) throw new NotFoundError(`blob ${sha256} is not stored`);
    return createReadStream(path).pipe(new HashVerifier(sha256, `blob ${sha256}`));
  }

  async statBlob(sha256: string): Promise<BlobInfo | null> {
    const info = await stat(this.pathOf(sha256)).catch(() => null);
    return info ? { sha256, size: info.size } : null;
  }

  async missingBlobs(sha256s: string[]): Promise<string[]> {
    const missing: string[] = [];
    for (const sha of sha256s) if (!(await this.statBlob(sha))) missing.push(sha);
    return missing;
  }

  async *listBlobs(): AsyncIterable<BlobInfo> {
    const base = join(this.root, "sha256");
    for await (const dir of await opendir(base)) {
      if (!dir.isDirectory()) continue;
      for await (const file of await opendir(join(base, dir.name))) {
        if (!file.isFile()) continue;
        const sha256 = dir.name + file.name;
        const info = await stat(join(base, dir.name, file.name));
        yield { sha256, size: info.size };
      }
    }
  }

  async deleteBlob(sha256: string): Promise<void> {
    await rm(this.pathOf(sha256), { force: true });
  }
}
