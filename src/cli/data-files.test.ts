import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ClientStateStore } from "../core/data/ports.js";
import { collectFiles, StatCache, statCacheName, StatTree, statTreeName, treeFacts } from "./data-files.js";

/** The cache's document in memory, as the file store would keep it. */
function memoryState(): ClientStateStore & { docs: Map<string, string> } {
  const docs = new Map<string, string>();
  return { docs, read: async (n) => docs.get(n) ?? null, write: async (n, t) => void docs.set(n, t) };
}

const aMinuteAgo = () => new Date(Date.now() - 60_000);

/** A directory with one file `a.bin` of `text`, modified a minute ago (outside the racy window). */
function oldFile(text: string): { dir: string; path: string; mtime: Date } {
  const dir = mkdtempSync(join(tmpdir(), "tandem-stat-cache-"));
  const path = join(dir, "a.bin");
  writeFileSync(path, text);
  const mtime = aMinuteAgo();
  utimesSync(path, mtime, mtime);
  return { dir, path, mtime };
}

async function cachedAfterOneAdd(dir: string, state: ClientStateStore): Promise<StatCache> {
  const { root, files } = await collectFiles(dir);
  const cache = await StatCache.load(state, root);
  for (const f of files) cache.remember(f, "a".repeat(64));
  await cache.save();
  return StatCache.load(state, root);
}

describe("the data add stat cache", () => {
  it("answers an unchanged file from the cache, across processes (the saved document)", async () => {
    const { dir } = oldFile("same bytes");
    const cache = await cachedAfterOneAdd(dir, memoryState());
    const [f] = (await collectFiles(dir)).files;
    expect(cache.lookup(f!)).toBe("a".repeat(64));
  });

  it("sees a same-size rewrite whose mtime was set back to the cached one (the ctime moved)", async () => {
    const { dir, path, mtime } = oldFile("before");
    const cache = await cachedAfterOneAdd(dir, memoryState());
    const cached = statSync(path);
    const cachedCtime = cached.ctimeMs;
    // The kernel stamps ctimes from a coarse clock (a few ms): rewrite until the stamp has moved.
    do {
      writeFileSync(path, "after!");
      utimesSync(path, mtime, mtime);
      if (statSync(path).ctimeMs === cachedCtime) await new Promise((r) => setTimeout(r, 5));
    } while (statSync(path).ctimeMs === cachedCtime);
    const [f] = (await collectFiles(dir)).files;
    expect(readFileSync(path, "utf8")).toBe("after!");
    expect(f!.size).toBe(6);
    expect(f!.mtimeMs).toBe(cached.mtimeMs);
    expect(f!.ino).toBe(cached.ino);
    expect(cache.lookup(f!)).toBeUndefined();
  });

  it("never caches a file modified in the last 2 s: a write in the same mtime tick would go unseen", async () => {
    const { dir, path } = oldFile("x");
    writeFileSync(path, "y");
    const state = memoryState();
    const cache = await cachedAfterOneAdd(dir, state);
    const [f] = (await collectFiles(dir)).files;
    expect(cache.lookup(f!)).toBeUndefined();
    expect(state.docs.size).toBe(0);
  });

  it("treats an entry written before ctimes were kept as unknown (hashed once more)", async () => {
    const { dir } = oldFile("old cache");
    const [f] = (await collectFiles(dir)).files;
    const state = memoryState();
    const legacy = { [f!.abs]: { size: f!.size, mtimeMs: f!.mtimeMs, ino: f!.ino, sha256: "b".repeat(64) } };
    await state.write("data-stat-cache.json", JSON.stringify(legacy));
    expect((await StatCache.load(state, dir)).lookup(f!)).toBeUndefined();
  });

  it("answers from the single document of earlier versions until the path has its own", async () => {
    const { dir } = oldFile("kept from before");
    const { root, files } = await collectFiles(dir);
    const f = files[0]!;
    const state = memoryState();
    const legacy = {
      [f.abs]: { size: f.size, mtimeMs: f.mtimeMs, ctimeMs: f.ctimeMs, ino: f.ino, sha256: "c".repeat(64) },
    };
    await state.write("data-stat-cache.json", JSON.stringify(legacy));
    const cache = await StatCache.load(state, root);
    expect(cache.lookup(f)).toBe("c".repeat(64));
    await cache.save();
    expect(state.docs.has(statCacheName(root))).toBe(true);
    // The path's own document now answers, whatever the old one says.
    await state.write("data-stat-cache.json", "{}");
    expect((await StatCache.load(state, root)).lookup(f)).toBe("c".repeat(64));
  });

  it("rewrites a path's document only when it changed: a re-add of the same files writes nothing, a file gone is dropped", async () => {
    const { dir } = oldFile("one");
    const second = join(dir, "b.bin");
    writeFileSync(second, "two");
    utimesSync(second, aMinuteAgo(), aMinuteAgo());
    const state = memoryState();
    const { root } = await collectFiles(dir);
    await cachedAfterOneAdd(dir, state);
    const written = state.docs.get(statCacheName(root));
    expect(Object.keys((JSON.parse(written!) as { files: object }).files)).toEqual(["a.bin", "b.bin"]);

    state.docs.set(statCacheName(root), written!);
    const again = await StatCache.load(state, root);
    for (const f of (await collectFiles(dir)).files) expect(again.lookup(f)).toBe("a".repeat(64));
    const writes: string[] = [];
    const watched: ClientStateStore = { read: state.read, write: async (n, t) => void writes.push(n, t) };
    const unchanged = await StatCache.load(watched, root);
    for (const f of (await collectFiles(dir)).files) unchanged.lookup(f);
    await unchanged.save();
    expect(writes).toEqual([]);

    rmSync(second);
    const fewer = await StatCache.load(state, root);
    for (const f of (await collectFiles(dir)).files) fewer.lookup(f);
    await fewer.save();
    expect(Object.keys((JSON.parse(state.docs.get(statCacheName(root))!) as { files: object }).files)).toEqual([
      "a.bin",
    ]);
  });
});

describe("the data add tree summary", () => {
  const MANIFEST = "d".repeat(64);

  /** An add of `dir` whose files were all hashed: the caches saved as data add saves them. */
  async function added(dir: string, state: ClientStateStore): Promise<void> {
    const { kind, root, files } = await collectFiles(dir);
    const cache = await StatCache.load(state, root);
    for (const f of files) cache.remember(f, "a".repeat(64));
    await cache.save();
    if (cache.coversAll(files)) await (await StatTree.load(state, root)).save(kind, treeFacts(files), MANIFEST);
  }

  const known = async (dir: string, state: ClientStateStore) => {
    const { kind, root, files } = await collectFiles(dir);
    return (await StatTree.load(state, root)).manifest(kind, treeFacts(files));
  };

  it("knows the manifest of an unchanged tree, and nothing once any file's facts moved, or a file came or went", async () => {
    const { dir, path } = oldFile("one");
    const state = memoryState();
    await added(dir, state);
    expect(await known(dir, state)).toBe(MANIFEST);
    // The mtime alone, size and bytes unchanged.
    utimesSync(path, new Date(Date.now() - 30_000), new Date(Date.now() - 30_000));
    expect(await known(dir, state)).toBeNull();
    await added(dir, state);
    expect(await known(dir, state)).toBe(MANIFEST);
    const second = join(dir, "b.bin");
    writeFileSync(second, "two");
    utimesSync(second, aMinuteAgo(), aMinuteAgo());
    expect(await known(dir, state)).toBeNull();
    await added(dir, state);
    rmSync(second);
    expect(await known(dir, state)).toBeNull();
  });

  it("is not written when a file was too new to cache, and a damaged document knows nothing", async () => {
    const { dir, path } = oldFile("x");
    writeFileSync(path, "y");
    const state = memoryState();
    await added(dir, state);
    expect(state.docs.has(statTreeName(dir))).toBe(false);
    expect(await known(dir, state)).toBeNull();
    const old = oldFile("z");
    await added(old.dir, state);
    state.docs.set(statTreeName(old.dir), "{not json");
    expect(await known(old.dir, state)).toBeNull();
  });

  it("tells apart lists whose texts would run together", () => {
    const file = (path: string, size: number) => ({ path, abs: path, size, mtimeMs: 1, ctimeMs: 2, ino: 3 });
    expect(treeFacts([file("a", 10)])).not.toBe(treeFacts([file("a1", 0)]));
    expect(treeFacts([file("a", 1), file("b", 1)])).not.toBe(treeFacts([file("a", 1)]));
  });
});

describe("collectFiles", () => {
  it("lists every regular file below a directory by its POSIX path inside it, sorted, symlinks skipped", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-collect-"));
    for (const p of ["z.txt", "a/b/c.txt", "a/b.txt", "a b/é.txt", "a.b/x"]) {
      mkdirSync(join(dir, p, ".."), { recursive: true });
      writeFileSync(join(dir, p), p);
    }
    symlinkSync(join(dir, "z.txt"), join(dir, "link.txt"));
    const { kind, root, files } = await collectFiles(`${dir}/./a/..`);
    expect({ kind, root }).toEqual({ kind: "dir", root: dir });
    expect(files.map((f) => [f.path, f.abs])).toEqual(
      ["a b/é.txt", "a.b/x", "a/b.txt", "a/b/c.txt", "z.txt"].map((p) => [p, join(dir, p)]),
    );
    expect(files.map((f) => f.size)).toEqual(files.map((f) => Buffer.byteLength(f.path)));
  });
});
