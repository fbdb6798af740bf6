#!/usr/bin/env node
// Transpiles src/ to dist/ with esbuild (no type check: `tsc --noEmit` does that in `npm run build`),
// so the `tandem` binary starts without compiling TypeScript on every run (about 1 s of CPU saved
// per command). Runs on `npm ci` through the `prepare` script; bin/tandem.js falls back to the
// TypeScript sources whenever dist/ is older than any file in src/.
import { build } from "esbuild";
import { cpSync, readdirSync, rmSync, writeFileSync } from "node:fs";
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

const files = walk(src);
const entryPoints = files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.endsWith(".test.ts"));
rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints,
  outdir: dist,
  outbase: src,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  logLevel: "warning",
});
// Non-TypeScript assets that code reads at run time (schemas, templates).
for (const f of files) {
  if (!f.endsWith(".ts")) cpSync(f, join(dist, relative(src, f)));
}
writeFileSync(join(dist, ".built"), new Date().toISOString());
console.error(`built ${entryPoints.length} modules into dist/`);
