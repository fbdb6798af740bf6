/**
 * `tandem data add` killed with SIGKILL at several moments (a real CLI process on the embedded store):
 * as the first blob takes its name, half way through the copies, and once every blob is in place.
 * Whatever the moment, every blob under its name is whole, every recorded version names only whole
 * blobs (a pull verifies each one), and adding again completes with the same bytes.
 *
 * A kill -9 keeps the page cache, so this is the crash a test can stage; a power loss cannot be. For
 * that, the order is what counts (fs-artifact-store.ts): a blob is fsynced before it takes its name,
 * and the directories holding the names before the version is recorded.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const BIN = join(process.cwd(), "bin", "tandem.js");
const FILES = 64;
const SIZE = 256 * 1024;

interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], home: string): { child: ChildProcess; done: Promise<Done> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, TANDEM_URL: "", TANDEM_TOKEN: "", TANDEM_PROJECT: "", TANDEM_HOME: home },
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Done>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

const tandem = (args: string[], home: string) => start(args, home).done;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** FILES distinct files of SIZE bytes, written "a minute ago" (as files normally are). */
function sourceTree(): { dir: string; contents: Map<string, Buffer> } {
  const dir = mkdtempSync(join(tmpdir(), "tandem-crash-src-"));
  mkdirSync(join(dir, "parts"));
  const contents = new Map<string, Buffer>();
  const aMinuteAgo = new Date(Date.now() - 60_000);
  for (let i = 0; i < FILES; i++) {
    const path = `parts/p${String(i).padStart(3, "0")}.bin`;
    const bytes = randomBytes(SIZE);
    writeFileSync(join(dir, path), bytes);
    utimesSync(join(dir, path), aMinuteAgo, aMinuteAgo);
    contents.set(path, bytes);
  }
  return { dir, contents };
}

/** The blobs under their names: [sha256 from the path, file]. */
function storedBlobs(home: string): Array<[string, string]> {
  const base = join(home, "artifacts", "sha256");
  if (!existsSync(base)) return [];
  return readdirSync(base).flatMap((fan) =>
    readdirSync(join(base, fan)).map((rest): [string, string] => [fan + rest, join(base, fan, rest)]),
  );
}

/** Every blob whole, and every recorded version pulls byte for byte (the pull verifies each blob). */
async function expectConsistent(home: string, contents: Map<string, Buffer>): Promise<number> {
  for (const [name, file] of storedBlobs(home)) expect(sha(readFileSync(file)), `blob ${name}`).toBe(name);
  const tmpLeft = readdirSync(join(home, "artifacts", "tmp"));
  for (const f of tmpLeft) expect(f).toMatch(/\.part$/);
  const ls = await tandem(["data", "ls", "crash", "--json"], home);
  // A dataset with no version recorded yet is not found (exit 4).
  if (ls.code === 4) return 0;
  expect(ls.code, ls.stderr).toBe(0);
  const versions = JSON.parse(ls.stdout) as Array<{ version: number; file_count: number }>;
  for (const v of versions) {
    expect(v.file_count).toBe(FILES);
    const dest = mkdtempSync(join(tmpdir(), "tandem-crash-pull-"));
    const pulled = await tandem(["data", "pull", `crash@${v.version}`, dest], home);
    expect(pulled.code, pulled.stderr).toBe(0);
    for (const [path, bytes] of contents) expect(readFileSync(join(dest, path)).equals(bytes), path).toBe(true);
  }
  return versions.length;
}

// Each case spawns 4-6 CLI processes and copies 16 MiB (seconds each on a loaded machine).
describe("tandem data add killed with SIGKILL", { timeout: 300_000 }, () => {
  const { dir, contents } = sourceTree();
  const moments = [
    { when: "as the first blob takes its name", blobs: 1, mustKill: true },
    { when: "half way through the copies", blobs: FILES / 2, mustKill: true },
    // Between the last blob and the version's record, or just after it: the add may win the race.
    { when: "once every blob is in place", blobs: FILES, mustKill: false },
  ];

  it.each(moments)("$when: the store stays whole and a re-add completes", async ({ blobs, mustKill }) => {
    const home = mkdtempSync(join(tmpdir(), "tandem-crash-home-"));
    const add = start(["data", "add", dir, "--name", "crash", "--json"], home);
    const watch = setInterval(() => {
      if (storedBlobs(home).length >= blobs) add.child.kill("SIGKILL");
    }, 5);
    const killed = await add.done.finally(() => clearInterval(watch));
    if (mustKill) expect(killed.signal, `the add finished first: ${killed.stdout}`).toBe("SIGKILL");
    else expect(killed.signal === "SIGKILL" || killed.code === 0, killed.stderr).toBe(true);

    const before = await expectConsistent(home, contents);
    const again = await tandem(["data", "add", dir, "--name", "crash", "--json"], home);
    expect(again.code, again.stderr).toBe(0);
    const res = JSON.parse(again.stdout) as { created: boolean; version: { version: number } };
    // A version recorded before the kill is the same content: the re-add answers with it.
    expect(res.created).toBe(before === 0);
    expect(res.version.version).toBe(1);
    expect(await expectConsistent(home, contents)).toBe(1);
  });
});
