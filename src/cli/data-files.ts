/**
 * The client side of `tandem data add` and `pull`: walking a tree, the stat cache, hashing,
 * uploading only what the server lacks, and verified downloads.
 *
 * Stat cache: one document per added path (file or directory), `<home>/data-stat-cache-<hash of the
 * path>.json` through the ClientStateStore port, maps each file's path inside it to [size, mtime,
 * ctime, inode, sha256]. A file whose four facts are unchanged is not read again, so re-adding an
 * unchanged 10 000-file tree costs 10 000 stats and one request. One document per path, holding only
 * the files of the last add: a re-add reads its own tree's entries (a single document for every add
 * grew with each tree ever added, and a 1000-file re-add parsed all of them: 2.1 MB, about 50 ms of
 * CPU, with a 10 000-file tree beside it). The single document of earlier versions
 * (`data-stat-cache.json`, absolute paths) is still read for a path that has no document of its own,
 * so an upgrade hashes nothing again. How a change is still seen when size and mtime stay the same:
 * - a write in the same mtime tick as the stat that was cached: files modified in the last 2 s are
 *   never cached (git's "racy clean" rule), so the next add hashes them again;
 * - an mtime set back on purpose (`touch -d`, `cp -p`/`rsync -t` into the same inode, a tool that
 *   restores it): the ctime, which no user can set, moved (git compares it too; DVC does not). Not
 *   held to the 2 s rule: a file `touch -d`-ed just before an add is cached, or a re-add would
 *   hash it again; what slips through is a rewrite plus an mtime reset within the same clock tick
 *   (a few ms) as the change that the cached ctime records;
 * - a file replaced by another (a rename over it): the inode.
 *
 * Tree summary: beside it, `<home>/data-stat-cache-tree-<hash of the path>.json` (inside the
 * `data-stat-cache*.json` that docs/guides/data.md says to delete to hash everything again) holds one
 * digest of every file's path and four facts, and the manifest those files made; it is written when
 * every file of an add was cached. A re-add whose walk digests the same takes the manifest from that
 * small document, without reading the per-file one (1.3 MB for 10 000 files), looking each file up
 * or building the manifest again: those were about 0.13 s of CPU of a 10 000-file re-add at load 14
 * (issue 18). Any fact of any file that moved, or a file added or gone, changes the digest, and the
 * per-file cache decides as before.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, lstatSync, readdirSync } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, resolve, sep } from "node:path";
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

/** A cached file: [size, mtimeMs, ctimeMs, ino, sha256]. */
type CacheEntry = [number, number, number, number, string];

/** The single document of earlier versions: absolute path → facts (no ctime before it was kept). */
interface LegacyEntry {
  size: number;
  mtimeMs: number;
  ctimeMs?: number;
  ino: number;
  sha256: string;
}

/** One added path's document. */
interface CacheDocument {
  root: string;
  files: Record<string, CacheEntry>;
}

const RACY_MS = 2000;
const LEGACY_NAME = "data-stat-cache.json";

const pathKey = (root: string) => createHash("sha256").update(root).digest("hex").slice(0, 32);

/** The document's name for an added path (a file name, whatever the path). */
export const statCacheName = (root: string): string => `data-stat-cache-${pathKey(root)}.json`;

/** The tree summary's name for an added path. */
export const statTreeName = (root: string): string => `data-stat-cache-tree-${pathKey(root)}.json`;

/** One added path's tree summary: the digest of its files' facts (`treeFacts`) and their manifest. */
interface TreeDocument {
  root: string;
  kind: "file" | "dir";
  facts: string;
  manifest: string;
}

/**
 * sha256 over the files' count, each file's path (NUL-terminated: no path holds a NUL), then each
 * file's size, mtime, ctime and inode as float64 (the numbers lstat gave, exactly), in the walk's
 * order (sorted by path). The count fixes where the paths end, so two different lists never hash the
 * same bytes. Binary rather than decimal text: printing 30 000 doubles was about half of the digest's
 * CPU for 10 000 files (25 -> 14 ms, cold process, load 15).
 */
export function treeFacts(files: LocalFile[]): string {
  const hash = createHash("sha256").update(`${files.length}\n`);
  const numbers = new Float64Array(4 * files.length);
  let paths = "";
  let i = 0;
  for (const f of files) {
    numbers[i++] = f.size;
    numbers[i++] = f.mtimeMs;
    numbers[i++] = f.ctimeMs;
    numbers[i++] = f.ino;
    paths += `${f.path}\0`;
  }
  return hash.update(paths).update(new Uint8Array(numbers.buffer)).digest("hex");
}

/** The tree summary of one added path (see the top of this file). */
export class StatTree {
  private constructor(
    private readonly state: ClientStateStore,
    private readonly root: string,
    private readonly saved: TreeDocument | null,
  ) {}

  static async load(state: ClientStateStore, root: string): Promise<StatTree> {
    const doc = await readDocument<TreeDocument>(state, statTreeName(root));
    return new StatTree(state, root, doc && doc.root === root && typeof doc.manifest === "string" ? doc : null);
  }

  /** The manifest of the last add of this path, when its files and their facts are these (`treeFacts`). */
  manifest(kind: "file" | "dir", facts: string): string | null {
    const doc = this.saved;
    return doc && doc.kind === kind && doc.facts === facts ? doc.manifest : null;
  }

  /** Keeps what an add whose files were all cached (`StatCache.coversAll`) made, when it is new. */
  async save(kind: "file" | "dir", facts: string, manifest: string): Promise<void> {
    if (this.manifest(kind, facts) === manifest) return;
    const doc: TreeDocument = { root: this.root, kind, facts, manifest };
    await this.state.write(statTreeName(this.root), JSON.stringify(doc));
  }
}

/** A damaged or missing document only costs a re-hash. */
async function readDocument<T>(state: ClientStateStore, name: string): Promise<T | null> {
  const text = await state.read(name).catch(() => null);
  try {
    return text ? (JSON.parse(text) as T) : null;
  } catch {
    return null;
  }
}

export class StatCache {
  /** What the next document holds: the files known now, from the cache or hashed in this add. */
  private readonly next: Record<string, CacheEntry> = {};
  private known = 0;
  private hits = 0;
  private remembered = 0;

  private constructor(
    private readonly state: ClientStateStore,
    private readonly root: string,
    private readonly files: Record<string, CacheEntry>,
    private readonly legacy: Record<string, LegacyEntry> | null,
  ) {
    this.known = Object.keys(files).length;
  }

  /** The cache of one added path (collectFiles' `root`). */
  static async load(state: ClientStateStore, root: string): Promise<StatCache> {
    const own = await readDocument<CacheDocument>(state, statCacheName(root));
    if (own && own.root === root && own.files && typeof own.files === "object")
      return new StatCache(state, root, own.files, null);
    const legacy = await readDocument<Record<string, LegacyEntry>>(state, LEGACY_NAME);
    return new StatCache(state, root, {}, legacy && typeof legacy === "object" ? legacy : null);
  }

  /** Whether the next document holds every one of `files` (none was left out as racy). */
  coversAll(files: LocalFile[]): boolean {
    return files.every((f) => this.next[f.path] !== undefined);
  }

  lookup(f: LocalFile): string | undefined {
    const e = this.files[f.path];
    if (e) {
      if (e[0] === f.size && e[1] === f.mtimeMs && e[2] === f.ctimeMs && e[3] === f.ino) {
        this.next[f.path] = e;
        this.hits++;
        return e[4];
      }
      return undefined;
    }
    const old = this.legacy?.[f.abs];
    if (old && old.size === f.size && old.mtimeMs === f.mtimeMs && old.ctimeMs === f.ctimeMs && old.ino === f.ino) {
      this.next[f.path] = [f.size, f.mtimeMs, f.ctimeMs, f.ino, old.sha256];
      this.remembered++;
      return old.sha256;
    }
    return undefined;
  }

  remember(f: LocalFile, sha256: string): void {
    if (Date.now() - f.mtimeMs < RACY_MS) return;
    this.next[f.path] = [f.size, f.mtimeMs, f.ctimeMs, f.ino, sha256];
    this.remembered++;
  }

  /** Writes the document when it changed: a file hashed or taken from the old document, or one gone. */
  async save(): Promise<void> {
    if (this.remembered === 0 && this.hits === this.known) return;
    const doc: CacheDocument = { root: this.root, files: this.next };
    await this.state.write(statCacheName(this.root), JSON.stringify(doc));
  }
}

/** The files to add: one file (kind "file") or every regular file below a directory (symlinks skipped). */
export async function collectFiles(path: string): Promise<{ kind: "file" | "dir"; root: string; files: LocalFile[] }> {
  const root = resolve(path);
  const info = await stat(root).catch(() => null);
  if (!info) throw new UsageError(`${path}: no such file or directory`);
  const toFile = (
    abs: string,
    rel: string,
    s: { size: number; mtimeMs: number; ctimeMs: number; ino: number },
  ): LocalFile => ({ path: rel, abs, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino });
  if (info.isFile()) return { kind: "file", root, files: [toFile(root, basename(root), info)] };
  if (!info.isDirectory()) throw new UsageError(`${path}: not a regular file or directory`);
  const files: LocalFile[] = [];
  // Synchronous on purpose: 10 000 lstat calls cost ~20 ms this way, several times that as promises
  // through the thread pool — and the CLI has nothing else to do meanwhile. Paths are built by
  // concatenation as the walk descends (readdir's names hold no separator): path.join and
  // path.relative per file were a third of the walk's CPU for 10 000 files.
  function walk(dir: string, rel: string): void {
    const prefix = dir.endsWith(sep) ? dir : dir + sep;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const abs = prefix + e.name;
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(abs, path);
      else if (e.isFile()) files.push(toFile(abs, path, lstatSync(abs)));
    }
  }
  walk(root, "");
  if (files.length === 0) throw new UsageError(`${path}: the directory has no files`);
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  return { kind: "dir", root, files };
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
