import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { InvalidInputError } from "../../core/errors.js";
import type { BlobInfo } from "../../core/artifacts/ports.js";

export function toReadable(data: Readable | Uint8Array | string): Readable {
  if (typeof data === "string" || data instanceof Uint8Array) return Readable.from([Buffer.from(data)]);
  return data;
}

/**
 * Streams `data` into a new temp file under `dir` while hashing it; fsyncs it (unless told not to) so
 * a later rename is durable. The caller renames or uploads the file, then removes it. Memory stays
 * flat for any size.
 */
export async function spoolToTempFile(
  data: Readable | Uint8Array | string,
  dir: string,
  expectedSha256?: string,
  /** fsync: whether to fsync the temp file (default true). */
  options: { fsync?: boolean } = {},
): Promise<BlobInfo & { tempPath: string }> {
  await mkdir(dir, { recursive: true });
  const tempPath = join(dir, `${randomBytes(8).toString("hex")}.part`);
  const hash = createHash("sha256");
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(toReadable(data), counter, createWriteStream(tempPath, { flags: "wx" }));
    if (options.fsync ?? true) {
      const handle = await open(tempPath, "r");
      await handle.sync();
      await handle.close();
    }
  } catch (error) {
    await rm(tempPath, { force: true });
    throw error;
  }
  const sha256 = hash.digest("hex");
  if (expectedSha256 && expectedSha256 !== sha256) {
    await rm(tempPath, { force: true });
    throw new InvalidInputError(`uploaded content hashes to ${sha256}, not the expected ${expectedSha256}`);
  }
  return { sha256, size, tempPath };
}

/** A `.part` untouched this long belongs to no live write: every write of a spool moves its mtime. */
export const STALE_PART_AGE_MS = 24 * 60 * 60 * 1000;

/**
 * Removes the `.part` files in `dir` that a killed write left behind (kill -9 mid-add, a dropped
 * upload): garbage, never a stored blob, but they fill the disk over months. Only files older than
 * STALE_PART_AGE_MS go, so a write in progress in another process (server and CLI share a home) is
 * never touched. Returns how many were removed; a missing directory holds none.
 */
export async function sweepStaleParts(dir: string, now = Date.now()): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    if (!name.endsWith(".part")) continue;
    const path = join(dir, name);
    const info = await stat(path).catch(() => null);
    if (!info?.isFile() || now - info.mtimeMs < STALE_PART_AGE_MS) continue;
    await rm(path, { force: true });
    removed++;
  }
  return removed;
}
