import { mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ClientStateStore } from "../core/data/ports.js";
import { collectFiles, StatCache } from "./data-files.js";

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
  const cache = await StatCache.load(state);
  for (const f of (await collectFiles(dir)).files) cache.remember(f, "a".repeat(64));
  await cache.save();
  return StatCache.load(state);
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
    expect((await StatCache.load(state)).lookup(f!)).toBeUndefined();
  });
});
