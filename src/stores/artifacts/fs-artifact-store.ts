/**
 * Artifacts on the local filesystem, content-addressed: `<root>/sha256/ab/cdef…`. Writes go to
 * `<root>/tmp` and are renamed into place, so a crash leaves either the whole blob or none.
 */
import { createReadStream } from "node:fs";
import { randomBytes } from "node:crypto";
import { mkdir, opendir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { NotFoundError } from "../../core/errors.js";
import { assertSha256 } from "../../core/artifacts/paths.js";
import type { ArtifactStore, BlobInfo } from "../../core/artifacts/ports.js";
import { HashVerifier } from "../../core/artifacts/verify.js";
import { InvalidInputError } from "../../core/errors.js";
import { copyAndHashLocalFile } from "./hash-workers.js";
import { spoolToTempFile } from "./spool.js";

export interface FsArtifactStoreOptions {
  /** Directory holding `sha256/` and `tmp/` (default: `<home>/artifacts`, set by config). */
  root: string;
}

export class FsArtifactStore implements ArtifactStore {
  private constructor(private readonly root: string) {}

  static async create(options: FsArtifactStoreOptions): Promise<FsArtifactStore> {
    await mkdir(join(options.root, "sha256"), { recursive: true });
    await mkdir(join(options.root, "tmp"), { recursive: true });
    return new FsArtifactStore(options.root);
  }

  /** Where a blob lives on disk; for readers that want the file itself (e.g. to mmap or hardlink). */
  pathOf(sha256: string): string {
    assertSha256(sha256);
    return join(this.root, "sha256", sha256.slice(0, 2), sha256.slice(2));
  }

  async putBlob(data: Readable | Uint8Array | string, options?: { expectedSha256?: string }): Promise<BlobInfo> {
    return this.commit(await spoolToTempFile(data, join(this.root, "tmp"), options?.expectedSha256));
  }

  /**
   * A local file (by path) as a blob: read once on a worker thread, hashed and copied in the same pass
   * (hash-workers.ts), so several files at once use every core.
   */
  async putFile(path: string, options?: { expectedSha256?: string }): Promise<BlobInfo> {
    const tempPath = join(this.root, "tmp", `${randomBytes(8).toString("hex")}.part`);
    let hashed: { sha256: string; size: number };
    try {
      hashed = await copyAndHashLocalFile(path, tempPath);
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

  /** Renames a spooled temp file into place, or drops it when the blob is already stored. */
  private async commit(spooled: BlobInfo & { tempPath: string }): Promise<BlobInfo> {
    const target = this.pathOf(spooled.sha256);
    try {
      const existing = await stat(target).catch(() => null);
      if (existing) {
        await rm(spooled.tempPath, { force: true });
      } else {
        await mkdir(join(this.root, "sha256", spooled.sha256.slice(0, 2)), { recursive: true });
        await rename(spooled.tempPath, target);
      }
    } catch (error) {
      await rm(spooled.tempPath, { force: true });
      throw error;
    }
    return { sha256: spooled.sha256, size: spooled.size };
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
