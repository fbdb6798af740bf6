// `npm run build:web`: type-checks the UI (Vite only strips types), then builds it into web/dist with
// Vite's JavaScript API (no global vite CLI needed).
// `--if-stale` (the `prepare` script) builds only when web/dist/index.html is missing or older than
// a source of it: the first `npx tandem` in a clone installs the package into npx's cache, which runs
// `prepare` again right after `npm ci` did, and rebuilding cost about 9 s of the quickstart's first run.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { build } from "vite";
import { filesUnder, isStale } from "../scripts/stale.mjs";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const sources = () => [
  ...filesUnder(here("./src")),
  ...["./index.html", "./vite.config.ts", "./tsconfig.json", "./build.mjs", "../package-lock.json"].map(here),
];
if (process.argv.includes("--if-stale") && !isStale(here("./dist/index.html"), sources)) process.exit(0);

const tsconfig = fileURLToPath(new URL("./tsconfig.json", import.meta.url));
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
try {
  execFileSync(process.execPath, [tsc, "--noEmit", "-p", tsconfig], { stdio: "inherit" });
} catch {
  console.error("web: type errors (above); not building");
  process.exit(1);
}
const configFile = fileURLToPath(new URL("./vite.config.ts", import.meta.url));
await build({ configFile, logLevel: process.env.CI ? "warn" : "info" });
