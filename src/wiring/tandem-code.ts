/**
 * What Tandem's own code is, for the cache keys of built-in steps: `uses: tandem/validate` runs this
 * code as a `run:` step runs its interpreter, so another build must not reuse results of the last
 * one (Bazel keys an action on its tool's digest; a KFP component on its image). The version alone
 * would miss a rebuilt checkout, so the identity is the version and a digest of the code:
 * dist/code-digest, written by scripts/build-dist.mjs over the sources it built (the same on every
 * machine that builds the same sources, so servers sharing a store share their cache), or, running
 * from the TypeScript sources, a digest of src/ made here once per process.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { listFiles } from "../stores/artifacts/tree.js";

/** The package's root: the first folder above this module with a package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5 && !existsSync(join(dir, "package.json")); i++) dir = dirname(dir);
  return dir;
}

/** sha256 over the relative paths and contents of the source files under `dir`, in path order. */
async function sourceDigest(dir: string): Promise<string> {
  const files = await listFiles(dir, (full) => full.endsWith(".test.ts"));
  const hash = createHash("sha256");
  for (const f of files) hash.update(`/${f}\0`).update(readFileSync(join(dir, f)));
  return hash.digest("hex");
}

async function identity(): Promise<string> {
  const root = packageRoot();
  const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version?: string }).version;
  const fromDist = fileURLToPath(import.meta.url).startsWith(join(root, "dist"));
  const built = join(root, "dist", "code-digest");
  const digest =
    fromDist && existsSync(built)
      ? readFileSync(built, "utf8").trim()
      : await sourceDigest(join(root, fromDist ? "dist" : "src"));
  return `tandem ${version ?? "?"}, code ${digest.slice(0, 12)}`;
}

let known: Promise<string> | undefined;

/** Tandem's version and code digest (`tandem 0.1.0, code 1a2b3c4d5e6f`), worked out on first use. */
export function tandemCodeIdentity(): Promise<string> {
  known ??= identity();
  return known;
}
