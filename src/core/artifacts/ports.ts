/**
 * Glossary:
 * - Blob: immutable bytes named by their sha256 (64 hex characters).
 * - Manifest: a directory as a sorted list of `{path, sha256, size}`; stored itself as a blob of
 *   canonical JSON, so a manifest's hash names a whole tree (a dataset version, a step output).
 */
import type { Readable } from "node:stream";

export interface BlobInfo {
  sha256: string;
  size: number;
}

export interface ManifestEntry {
  /** POSIX relative path inside the tree; never absolute, never `..`, never a NUL byte. */
  path: string;
  sha256: string;
  size: number;
}

export interface Manifest {
  entries: ManifestEntry[];
}

export interface ArtifactStore {
  /** Streams bytes in, hashing as they pass; stored atomically, never buffering the whole blob. */
  putBlob(data: Readable | Uint8Array | string, options?: { expectedSha256?: string }): Promise<BlobInfo>;
  /**
   * Stores a file of the local filesystem by its path, reading it once (optional: stores that cannot
   * do better than streaming it through putBlob leave it out).
   */
  putFile?(path: string, options?: { expectedSha256?: string }): Promise<BlobInfo>;
  /**
   * Makes the named blobs durable under their names, before a record names them (optional: stores
   * whose puts are durable when they return leave it out). The filesystem store fsyncs a blob's bytes
   * before it takes its name, and the directories holding the names only here, once per directory.
   */
  makeDurable?(sha256s: string[]): Promise<void>;
  /** Streams a blob out; the stream errors at its end if the bytes do not hash to `sha256`. */
  getBlob(sha256: string): Promise<Readable>;
  statBlob(sha256: string): Promise<BlobInfo | null>;
  /** Of the given hashes, those not stored (what a client must upload). */
  missingBlobs(sha256s: string[]): Promise<string[]>;
  listBlobs(): AsyncIterable<BlobInfo>;
  deleteBlob(sha256: string): Promise<void>;
}
