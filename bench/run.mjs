#!/usr/bin/env node
// `npm run bench -- NAME [args]`: runs bench/NAME/run.ts (through tsx) or bench/NAME/run.mjs.
// Each benchmark prints one JSON line per measurement:
// {"bench", "measure", "tandem", "baseline", "unit", "ratio"} (baseline and ratio null where there is none).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const [name, ...args] = process.argv.slice(2);
const available = readdirSync(here, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- NAME\nbenchmarks: ${available.join(", ") || "(none)"}`);
  process.exit(2);
}
const ts = join(here, name, "run.ts");
const mjs = join(here, name, "run.mjs");
const command = existsSync(ts) ? ["npx", ["tsx", ts, ...args]] : ["node", [mjs, ...args]];
const result = spawnSync(command[0], command[1], { stdio: "inherit" });
process.exit(result.status ?? 1);
