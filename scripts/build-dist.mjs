#!/usr/bin/env node
// Builds dist/, the JavaScript that the `tandem` binary and `import ... from "tandem"` run:
// - src/**/*.ts transpiled by esbuild (no type check: `tsc --noEmit` does that in `npm run build`);
// - .d.ts files for the package's public entry (src/client), emitted by tsc;
// - non-TypeScript assets that code reads at run time (schemas, migrations, templates);
// - dist/vendor/: dependencies that ship as hundreds of small modules, bundled into one file each,
//   and the imports of them in dist/ pointed there (see VENDORED).
// It runs on `npm ci` and `npm pack` through the `prepare` script, so the published package ships it.
//
// The new tree is built beside dist/ and swapped in by two renames: a `tandem` process (a test, a
// running server) that starts during the build sees the old dist/ or the new one, never half of one.
//
//   node scripts/build-dist.mjs             build
//   node scripts/build-dist.mjs --if-stale  build only when a file in src/ is newer than dist/
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");
const dist = join(root, "dist");

/**
 * Dependencies bundled into dist/vendor/NAME.js. Node loads each module file on its own (resolve,
 * read, parse, link), so a package of many small files costs start-up time out of proportion to its
 * code. CPU to import, each file apart vs bundled (load 15-19, issue 18):
 * - kysely, 265 ES module files: about 0.3 s vs 35 ms (every embedded command and server opens the
 *   store through it);
 * - yaml, 74 CommonJS files: 75 ms vs 21 ms (every command, `--help` too, reads tandem.yaml);
 * - prom-client with @opentelemetry/api and its other dependencies, 85 files: 77 ms vs 47 ms (every
 *   app counts its requests).
 * Only packages that no runtime dependency of ours imports as well, so one copy is loaded, never two.
 * A CommonJS package is bundled as it runs on Node (same code, same warnings) and its named exports,
 * read at build time, are listed for `import { … } from`. The packages stay dependencies: their
 * types, and the sources run through tsx, use them as installed.
 */
const VENDORED = { kysely: "esm", yaml: "commonjs", "prom-client": "commonjs" };

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
const requireHere = createRequire(import.meta.url);
for (const [name, kind] of Object.entries(VENDORED)) {
  const names = kind === "commonjs" ? Object.keys(requireHere(name)).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k)) : [];
  await build({
    stdin: {
      contents:
        kind === "esm"
          ? `export * from "${name}";`
          : `import m from "${name}";\nexport const { ${names.filter((k) => k !== "default").join(", ")} } = m;\nexport default m;\n`,
      resolveDir: root,
      sourcefile: `vendor-${name}.js`,
    },
    outfile: join(next, "vendor", `${name}.js`),
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "linked",
    logLevel: "warning",
    // CommonJS code in an ES module: its require() of Node's own modules needs a real require.
    banner:
      kind === "commonjs"
        ? { js: 'import { createRequire } from "node:module";\nconst require = createRequire(import.meta.url);' }
        : undefined,
  });
}
// esbuild writes every import of a package as `from "NAME"` or `import("NAME")`.
const vendoredImport = new RegExp(`(\\bfrom |\\bimport\\()"(${Object.keys(VENDORED).join("|")})"`, "g");
for (const f of walk(next)) {
  if (!f.endsWith(".js") || f.startsWith(join(next, "vendor") + sep)) continue;
  const text = readFileSync(f, "utf8");
  const vendorDir = relative(dirname(f), join(next, "vendor")).split(sep).join("/");
  const rewritten = text.replace(vendoredImport, (_m, how, name) => `${how}"${vendorDir}/${name}.js"`);
  if (rewritten !== text) writeFileSync(f, rewritten);
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
