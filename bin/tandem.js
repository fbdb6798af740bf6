#!/usr/bin/env node
// Runs the prebuilt dist/ when it is at least as new as every file in src/; otherwise runs the
// TypeScript sources through tsx, so a fresh clone and a working tree being edited both just work.
import { readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function distIsFresh() {
  try {
    return statSync(join(root, "dist", ".built")).mtimeMs >= newestMtime(join(root, "src"));
  } catch {
    return false;
  }
}

let main;
if (distIsFresh() && !process.env.TANDEM_FROM_SOURCE) {
  ({ main } = await import("../dist/cli/index.js"));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("../src/cli/index.ts"));
}
process.exitCode = await main(process.argv);
