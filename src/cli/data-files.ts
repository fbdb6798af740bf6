/**
 * The client side of `tandem data add` and `pull`: walking a tree, the stat cache, hashing,
 * uploading only what the server lacks, and verified downloads.
 *
 * Stat cache: `<home>/data-stat-cache.json` (through the ClientStateStore port) maps an absolute path
 * to {size, mtime, ctime, inode, sha256}. A file whose four facts are unchanged is not read again, so
 * re-adding an unchanged 10 000-file tree costs 10 000 stats and one request. How a change is still
 * seen when size and mtime stay the same:
 * - a write in the same mtime tick as the stat that was cached: files modified in the last 2 s are
 *   never cached (git's "racy clean" rule), so the next add hashes them again;
 * - an mtime set back on purpose (`touch -d`, `cp -p`/`rsync -t` into the same inode, a tool that
 *   restores it): the ctime, which no user can set, moved (git compares it too; DVC does not). Not
 *   held to the 2 s rule: a file `touch -d`-ed just before an add is cached, or a re-add would
 *   hash it again; what slips through is a rewrite plus an mtime reset within the same clock tick
 *   (a few ms) as the change that the cached ctime records;
 * - a file replaced by another (a rename over it): the inode.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, lstatSync, readdirSync } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ClientStateStore } from "../core/data/ports.js";
import type { TandemApi } from "./api.js";
import { UsageError, VerdictError } from "./context.js";

export interface LocalFile {
  /** Path inside the version (POSIX). */
  path: string;
  abs: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  sha256?: string;
}

interface CacheEntry {
  size: number;
  mtimeMs: number;
  /** Absent in caches written before it was kept: such an entry never matches (one re-hash). */
  ctimeMs?: number;
  ino: number;
  sha256: string;
}

const RACY_MS = 2000;

export class StatCache {
  private constructor(
    private readonly state: ClientStateStore,
    private readonly entries: Record<string, CacheEntry>,
  ) {}
  private dirty = false;
  private static readonly NAME = "data-stat-cache.json";

  static async load(state: ClientStateStore): Promise<StatCache> {
    const text = await state.read(StatCache.NAME).catch(() => null);
    let entries: Record<string, CacheEntry> = {};
    try {
      if (text) entries = JSON.parse(text) as Record<string, CacheEntry>;
    } catch {
      entries = {}; // a damaged cache only costs a re-hash
    }
    return new StatCache(state, entries);
  }

  lookup(f: LocalFile): string | undefined {
    const e = this.entries[f.abs];
    return e && e.size === f.size && e.mtimeMs === f.mtimeMs && e.ctimeMs === f.ctimeMs && e.ino === f.ino
      ? e.sha256
      : undefined;
  }

  remember(f: LocalFile, sha256: string): void {
    if (Date.now() - f.mtimeMs < RACY_MS) return;
    this.entries[f.abs] = { size: f.size, mtimeMs: f.mtimeMs, ctimeMs: f.ctimeMs, ino: f.ino, sha256 };
    this.dirty = true;
  }

  async save(): Promise<void> {
    if (this.dirty) await this.state.write(StatCache.NAME, JSON.stringify(this.entries));
  }
}

/** The files to add: one file (kind "file") or every regular file below a directory (symlinks skipped). */
export async function collectFiles(path: string): Promise<{ kind: "file" | "dir"; files: LocalFile[] }> {
  const root = resolve(path);
  const info = await stat(root).catch(() => null);
  if (!info) throw new UsageError(`${path}: no such file or directory`);
  const toFile = (
    abs: string,
    rel: string,
    s: { size: number; mtimeMs: number; ctimeMs: number; ino: number },
  ): LocalFile => ({ path: rel, abs, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino });
  if (info.isFile()) return { kind: "file", files: [toFile(root, basename(root), info)] };
  if (!info.isDirectory()) throw new UsageError(`${path}: not a regular file or directory`);
  const files: LocalFile[] = [];
  // Synchronous on purpose: 10 000 lstat calls cost ~20 ms this way, several times that as promises
  // through the thread pool — and the CLI has nothing else to do meanwhile.
  function walk(dir: string): void {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) walk(abs);
      else if (e.isFile()) files.push(toFile(abs, relative(root, abs).split(sep).join("/"), lstatSync(abs)));
    }
  }
  walk(root);
  if (files.length === 0) throw new UsageError(`${path}: the directory has no files`);
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { kind: "dir", files };
}

/** Runs `fn` over items with at most `limit` at a time (both cores busy, the disk kept fed). */
export async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

function counting(onBytes?: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      onBytes?.(chunk.length);
      done(null, chunk);
    },
  });
}

/** Uploads a file; with `sha256` the server verifies it, without it the server hashes and answers. */
export async function uploadFile(
  api: TandemApi,
  base: string,
  f: LocalFile,
  onBytes?: (n: number) => void,
): Promise<string> {
  const stream = createReadStream(f.abs, { highWaterMark: 1 << 20 }).pipe(counting(onBytes));
  const path = f.sha256 ? `${base}/blobs/${f.sha256}` : `${base}/blobs`;
  const res = await api.request<{ sha256: string }>(f.sha256 ? "PUT" : "POST", path, { stream });
  return res.sha256;
}

/** Writes a download to `dest` through a temp file, checking its sha256 before renaming into place. */
export async function writeVerified(
  source: NodeJS.ReadableStream,
  dest: string,
  sha256: string,
  label: string,
): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const temp = `${dest}.tandem-part`;
  const hash = createHash("sha256");
  try {
    await pipeline(
      source,
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          done(null, chunk);
        },
      }),
      createWriteStream(temp),
    );
    const actual = hash.digest("hex");
    if (actual !== sha256)
      throw new VerdictError(`${label}: downloaded bytes hash to ${actual}, the manifest says ${sha256}`);
    await rename(temp, dest);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
