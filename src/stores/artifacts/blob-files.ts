/**
 * Blobs as local files for readers that need random access (Parquet). The filesystem store hands
 * out the stored file itself (read-only use, nothing copied); any other store (S3) is copied to a
 * verified temp file that `release` removes.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { ArtifactStore } from "../../core/artifacts/ports.js";
import type { BlobFiles } from "../../core/data/ports.js";
import { FsArtifactStore } from "./fs-artifact-store.js";
import { materializeBlob } from "./tree.js";

export class LocalBlobFiles implements BlobFiles {
  constructor(
    private readonly artifacts: ArtifactStore,
    /** Where temp copies go (default: `<home>/tmp`, set by the wiring). */
    private readonly tempDir: string,
  ) {}

  async open(sha256: string): Promise<{ path: string; release(): Promise<void> }> {
    if (this.artifacts instanceof FsArtifactStore)
      return { path: this.artifacts.pathOf(sha256), release: async () => undefined };
    const path = join(this.tempDir, `blob-${randomBytes(6).toString("hex")}`);
    await materializeBlob(this.artifacts, sha256, path);
    return { path, release: () => rm(path, { force: true }) };
  }
}
