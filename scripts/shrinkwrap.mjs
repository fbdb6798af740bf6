#!/usr/bin/env node
// Writes npm-shrinkwrap.json (the runtime part of package-lock.json) before `npm pack`/`npm publish`,
// and removes it after (`--remove`). A published package's shrinkwrap is the only lockfile npm
// honours when the package is installed as a dependency or globally, so users get the tree this
// repository tests, including package.json `overrides` (which npm applies to the root project only):
// without it, `npm i tandem` on Node 20 would pull cookie@2 and content-disposition@3 (node >= 22).
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

// npm runs pack scripts in the package's folder.
const root = process.cwd();
const target = join(root, "npm-shrinkwrap.json");
if (process.argv.includes("--remove")) {
  rmSync(target, { force: true });
} else {
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
  const packages = {};
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === "" || !entry.dev) packages[path] = entry;
  }
  writeFileSync(target, `${JSON.stringify({ ...lock, packages }, null, 2)}\n`);
}
