#!/usr/bin/env node
// Builds dist/, the JavaScript that the `tandem` binary and `import ... from "tandem"` run:
// - src/**/*.ts transpiled by esbuild (no type check: `tsc --noEmit` does that in `npm run build`);
// - .d.ts files for the package's public entry (src/client), emitted by tsc;
// - non-TypeScript assets that code reads at run time (schemas, migrations, templates).
// It runs on `npm ci` and `npm pack` through the `prepare` script, so the published package ships it.
//
// The new tree is built beside dist/ and swapped in by two renames: a `tandem` process (a test, a
// running server) that starts during the build sees the old dist/ or the new one, never half of one.
//
//   node scripts/build-dist.mjs             build
//   node scripts/build-dist.mjs --if-stale  build only when a file in src/ is newer than dist/
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");
const dist = join(root, "dist");

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    return e.isDirectory() ? walk(full) : [full];
  });
}

function isStale() {
  try {
    const built = statSync(join(dist, ".built")).mtimeMs;
    // Test files are not built (entryPoints below), so a newer one leaves dist/ current.
    return walk(src).some((f) => !f.endsWith(".test.ts") && statSync(f).mtimeMs > built);
  } catch {
    return true;
  }
}

if (process.argv.includes("--if-stale") && !isStale()) process.exit(0);

const files = walk(src);
const entryPoints = files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.endsWith(".test.ts"));
const next = `${dist}.next-${process.pid}`;
rmSync(next, { recursive: true, force: true });
await build({
  entryPoints,
  outdir: next,
  outbase: src,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  logLevel: "warning",
});
for (const f of files) {
  if (!f.endsWith(".ts")) cpSync(f, join(next, relative(src, f)));
}
// Type declarations of the package's entry points (what `exports` names), from the same sources.
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
execFileSync(
  process.execPath,
  [
    tsc,
    "src/client/index.ts",
    "src/client/training.ts",
    "src/client/data.ts",
    "--declaration",
    "--emitDeclarationOnly",
    "--rootDir",
    "src",
    "--outDir",
    next,
    "--target",
    "ES2022",
    "--module",
    "NodeNext",
    "--moduleResolution",
    "NodeNext",
    "--strict",
    "--skipLibCheck",
    "--types",
    "node",
  ],
  { cwd: root, stdio: "inherit" },
);
writeFileSync(join(next, ".built"), new Date().toISOString());
const old = `${dist}.old-${process.pid}`;
if (existsSync(dist)) renameSync(dist, old);
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });
console.error(`built ${entryPoints.length} modules into dist/`);
