#!/usr/bin/env node
// Builds dist/, the JavaScript that the `tandem` binary and `import ... from "tandem"` run:
// - src/**/*.ts transpiled by esbuild (no type check: `tsc --noEmit` does that in `npm run build`);
// - .d.ts files for the package's public entry (src/client), emitted by tsc;
// - non-TypeScript assets that code reads at run time (schemas, migrations, templates);
// - dist/vendor/: dependencies that ship as hundreds of small modules, bundled into one file each,
//   and the imports of them in dist/ pointed there (see VENDORED);
// - dist/cli-bundle/: the CLI's code bundled, split at its lazy imports (what bin/tandem.js runs).
// It runs on `npm ci` and `npm pack` through the `prepare` script, so the published package ships it.
//
// The new tree is built beside dist/ and swapped in by two renames: a `tandem` process (a test, a
// running server) that starts during the build sees the old dist/ or the new one, never half of one.
//
//   node scripts/build-dist.mjs             build
//   node scripts/build-dist.mjs --if-stale  build only when a file in src/ (or the lock file) is newer than dist/
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { filesUnder, isStale } from "./stale.mjs";

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
 *   app counts its requests);
 * - fastify and its dependencies, about 130 files: 151 ms vs 53 ms over Node's start (perf task-clock,
 *   load 6; the embedded CLI builds its app with it), pino with it (the logger);
 * - zod, about 100 files: 110 ms vs 35 ms (every route's and spec's schemas);
 * - commander, 10 files: 85 vs 76 ms with Node's start (perf task-clock, load 20; every command).
 * Only packages that no runtime dependency of ours imports as well, so one copy is loaded, never two.
 * A CommonJS package is bundled as it runs on Node (same code, same warnings) and its named exports,
 * read at build time, are listed for `import { … } from`. The packages stay dependencies: their
 * types, and the sources run through tsx, use them as installed.
 */
const VENDORED = {
  kysely: "esm",
  yaml: "commonjs",
  "prom-client": "commonjs",
  fastify: "commonjs",
  pino: "commonjs",
  zod: "esm",
  commander: "esm",
};

// Test files are not built (entryPoints below), so a newer one leaves dist/ current. The lock file
// and this script count too: dist/vendor/ bundles dependencies.
const sources = () => [
  ...filesUnder(src).filter((f) => !f.endsWith(".test.ts")),
  join(root, "package-lock.json"),
  fileURLToPath(import.meta.url),
];
if (process.argv.includes("--if-stale") && !isStale(join(dist, ".built"), sources)) process.exit(0);

const files = filesUnder(src);
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
// The CLI as one bundle, dist/cli-bundle/, which bin/tandem.js runs: split where the code imports
// lazily (areas' wiring, routes, the server), so a command still loads only the code it reaches, in
// about 50 files where the modules apart were about 330 for an embedded `runs ls` (issue 18: Node
// resolves, reads and links each file on its own). CPU of `tandem runs ls`, A/B alternated in one run
// at load 9: 515 ms with the modules apart, 427 ms bundled (node -e "" 65 ms).
// Module files keep their place in dist/ too: workers, spawned helpers, migrations and the package's
// entry points load them by path. So that code finds its files as in dist/, `import.meta.url` in the
// bundle is each source's own dist/ URL (src/ and dist/ share their layout).
const srcFiles = (f) => f.startsWith(src + sep) && f.endsWith(".ts");
/**
 * CommonJS packages that the bundle loads with require() rather than `import`. Node imports a
 * CommonJS module into an ES module by first scanning its source for the names it exports
 * (cjs-module-lexer, run cold in each process): for ipaddr.js (38 KB, every command: the
 * configuration parses TANDEM_OUTBOUND_ALLOW with it) that scan was most of its cost, about 150 M
 * instructions (callgrind) and 15-30 ms of CPU at load 10, against 17 M instructions with require();
 * better-sqlite3 (every embedded command) 61 M vs 40 M. Only default imports (`import x from "pkg"`),
 * which are the module's `module.exports` either way; a named import of one fails the build.
 */
const REQUIRED = ["better-sqlite3", "ipaddr.js"];
const requiredImport = new RegExp(`^(${REQUIRED.map((n) => n.replace(/[.]/g, "\\.")).join("|")})$`);
const bundled = await build({
  entryPoints: { index: join(src, "cli", "index.ts") },
  outdir: join(next, "cli-bundle"),
  bundle: true,
  splitting: true,
  packages: "external",
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  logLevel: "warning",
  plugins: [
    {
      name: "commonjs-by-require",
      setup(b) {
        b.onResolve({ filter: requiredImport }, (a) => ({ path: a.path, namespace: "required" }));
        b.onLoad({ filter: /.*/, namespace: "required" }, (a) => ({
          contents: `import { createRequire } from "node:module";\nexport default createRequire(import.meta.url)(${JSON.stringify(a.path)});\n`,
          loader: "js",
        }));
      },
    },
    {
      name: "file-urls-as-in-dist",
      setup(b) {
        b.onLoad({ filter: /\.ts$/ }, (a) => {
          if (!srcFiles(a.path)) return undefined;
          const text = readFileSync(a.path, "utf8");
          if (!text.includes("import.meta.url")) return undefined;
          const asBuilt = relative(join(src, "cli-bundle"), a.path).split(sep).join("/").replace(/\.ts$/, ".js");
          return {
            contents: text.replaceAll("import.meta.url", `new URL(${JSON.stringify(asBuilt)}, import.meta.url).href`),
            loader: "ts",
          };
        });
      },
    },
  ],
  metafile: true,
});
// Which sources each file of the bundle holds (src/…), for tests that check what a command loads.
const bundleModules = {};
for (const [out, { inputs }] of Object.entries(bundled.metafile.outputs)) {
  if (!out.endsWith(".js")) continue;
  bundleModules[out.split("/").pop()] = Object.keys(inputs)
    .filter((i) => i.startsWith("src/"))
    .sort();
}
writeFileSync(join(next, "cli-bundle", "modules.json"), `${JSON.stringify(bundleModules, null, 1)}\n`);
const requireHere = createRequire(import.meta.url);
/** The module a vendored bundle starts from: the package's exports, named ones listed for CommonJS. */
function vendorEntry(name) {
  if (VENDORED[name] === "esm") return `export * from "${name}";`;
  const names = Object.keys(requireHere(name)).filter((k) => k !== "default" && /^[A-Za-z_$][\w$]*$/.test(k));
  return `import m from "${name}";\nexport const { ${names.join(", ")} } = m;\nexport default m;\n`;
}
// One build for all of them, split: a package that two vendored ones use (pino, which Fastify logs
// through and logging.ts builds the logger with) goes into a shared chunk, so one copy loads.
await build({
  entryPoints: Object.keys(VENDORED).map((name) => ({ in: `vendor-entry:${name}`, out: name })),
  plugins: [
    {
      name: "vendor-entry",
      setup(b) {
        b.onResolve({ filter: /^vendor-entry:/ }, (a) => ({ path: a.path.slice(13), namespace: "vendor-entry" }));
        b.onLoad({ filter: /.*/, namespace: "vendor-entry" }, (a) => ({
          contents: vendorEntry(a.path),
          resolveDir: root,
          loader: "js",
        }));
      },
    },
  ],
  outdir: join(next, "vendor"),
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  logLevel: "warning",
  // Fastify's default schema compilers: app.ts passes its own (loaded lazily from Fastify's folder),
  // so Fastify never requires these; bundling them would add Ajv (about 0.5 MB) to every start.
  external: ["@fastify/ajv-compiler", "@fastify/fast-json-stringify-compiler"],
  // CommonJS code in an ES module: its require() of Node's own modules needs a real require.
  banner: { js: 'import { createRequire } from "node:module";\nconst require = createRequire(import.meta.url);' },
});
// esbuild writes every import of a package as `from "NAME"` or `import("NAME")`.
const vendoredImport = new RegExp(`(\\bfrom |\\bimport\\()"(${Object.keys(VENDORED).join("|")})"`, "g");
for (const f of filesUnder(next)) {
  if (!f.endsWith(".js") || f.startsWith(join(next, "vendor") + sep)) continue;
  const text = readFileSync(f, "utf8");
  // "./vendor" from dist/ itself: a bare "vendor/…" would name a package.
  const vendorDir = relative(dirname(f), join(next, "vendor"))
    .split(sep)
    .join("/")
    .replace(/^(?!\.)/, "./");
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
// What this build's code is, for the cache keys of built-in steps (src/wiring/tandem-code.ts): the
// same sources give the same digest on every machine, so servers sharing a store share their cache.
const codeDigest = createHash("sha256");
for (const file of sources().sort()) codeDigest.update(`${relative(root, file)}\0`).update(readFileSync(file));
writeFileSync(join(next, "code-digest"), `${codeDigest.digest("hex")}\n`);
const old = `${dist}.old-${process.pid}`;
if (existsSync(dist)) renameSync(dist, old);
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });
console.error(`built ${entryPoints.length} modules into dist/`);
