/**
 * The project folder's files as a `run:` step's cache key sees them (WorkspaceAccess.checkoutDigest):
 * each file's path and git blob id, so a file keys the same whether git read it from its index
 * (committed, unchanged) or we hashed it here (edited, untracked, or no git at all), and committing
 * an edit keeps the key it had while uncommitted.
 *
 * In git, one `ls-files` lists what git tracks and what it would (untracked files that no ignore rule
 * covers): ignored files are builds, caches and data, not code. Tracked files unchanged since they
 * were staged are taken at their index blob id; changed and untracked ones are read. Outside git,
 * every file below the folder is read but for folders no project commits (NOT_CODE). Tandem's own files are left out (isTandemBookkeeping, `_tandem/`,
 * and the top tandem.yaml, whose steps are keyed by their own definitions), and so are the server's
 * own files when the folder holds them.
 */
import { createHash } from "node:crypto";
import { lstat, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { listFiles } from "../../stores/artifacts/tree.js";
import { isTandemBookkeeping } from "./git.js";

/** `git ls-files -t -s -m -o -d --exclude-standard -z` of a folder, or null outside git. */
export type GitFileLister = (dir: string) => Promise<string | null>;

const SPEC_FILES = new Set(["tandem.yaml", "tandem.yml"]);

/**
 * Outside git, the folders no project commits (git's own, Tandem's, installed packages and Python's
 * caches and virtual environments, which the lockfiles key): what an ignore file would leave out.
 */
const NOT_CODE = new Set([".git", ".tandem", "_tandem", "node_modules", "__pycache__", ".venv", "venv"]);

function leftOut(path: string): boolean {
  return isTandemBookkeeping(path) || SPEC_FILES.has(path) || path.split("/").includes("_tandem");
}

/** Git's blob id of a file as it is now (a link: its target's text), with its git mode; null when it is gone. */
async function blobOf(full: string): Promise<string | null> {
  const info = await lstat(full).catch(() => null);
  if (!info) return null;
  let content: Buffer;
  let mode: string;
  if (info.isSymbolicLink()) {
    content = Buffer.from(await readlink(full));
    mode = "120000";
  } else if (info.isFile()) {
    content = await readFile(full);
    mode = info.mode & 0o111 ? "100755" : "100644";
  } else return null; // a folder where git had a file (a submodule's worktree): its commit is in the index
  const id = createHash("sha1").update(`blob ${content.length}\0`).update(content).digest("hex");
  return `${mode} ${id}`;
}

/**
 * Path → `mode blob` from `ls-files -t -s -m -o -d`: `H`/`S`/`M`… lines are index entries, `C`
 * (changed) and `R` (removed) mark paths to read again, `?` untracked ones.
 */
function parseListing(listing: string): { indexed: Map<string, string>; reread: Set<string> } {
  const indexed = new Map<string, string>();
  const reread = new Set<string>();
  for (const line of listing.split("\0")) {
    if (line.length < 3) continue;
    const tag = line[0]!;
    const rest = line.slice(2);
    if (tag === "?") {
      reread.add(rest);
      continue;
    }
    const tab = rest.indexOf("\t");
    if (tab < 0) continue;
    const path = rest.slice(tab + 1);
    if (tag === "C" || tag === "R") reread.add(path);
    else {
      const [mode, blob] = rest.slice(0, tab).split(" ");
      // An unmerged path has several stages: all of them key it.
      indexed.set(path, indexed.has(path) ? `${indexed.get(path)} ${mode} ${blob}` : `${mode} ${blob}`);
    }
  }
  return { indexed, reread };
}

export async function checkoutDigest(
  workspace: string,
  options: { git?: GitFileLister; skip?: (fullPath: string) => boolean },
): Promise<{ digest: string; value: string }> {
  const listing = options.git ? await options.git(workspace).catch(() => null) : null;
  const blobs = new Map<string, string | null>();
  let uncommitted = 0;
  if (listing !== null) {
    const { indexed, reread } = parseListing(listing);
    for (const [path, blob] of indexed) if (!reread.has(path)) blobs.set(path, blob);
    for (const path of reread) {
      blobs.set(path, await blobOf(join(workspace, path)));
      uncommitted++;
    }
  } else {
    const skip = (full: string) => options.skip?.(full) === true || NOT_CODE.has(full.slice(full.lastIndexOf("/") + 1));
    for (const path of await listFiles(workspace, skip)) blobs.set(path, await blobOf(join(workspace, path)));
  }
  const hash = createHash("sha256");
  let files = 0;
  for (const path of [...blobs.keys()].sort()) {
    if (leftOut(path)) continue;
    const blob = blobs.get(path)!;
    if (blob !== null) files++;
    hash.update(`${path}\0${blob ?? "deleted"}\n`);
  }
  const count = `${files} file${files === 1 ? "" : "s"}`;
  return {
    digest: hash.digest("hex"),
    value: listing === null ? count : `git: ${count}${uncommitted ? `, ${uncommitted} not committed` : ""}`,
  };
}
