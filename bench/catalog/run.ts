/**
 * `npm run bench -- catalog [--repeat 3]`: the portal's two promises, with process start included.
 *
 * - `init_to_deployed`: `tandem init --template classification` then `tandem run train` in it, until
 *   the champion is deployed (no baseline: nothing else scaffolds a project that deploys; the goal is
 *   the quickstart's 60 s).
 * - `catalog_export`: `tandem catalog export --format backstage` on that project (embedded stores),
 *   against `tandem models ls --json` as the baseline — one process start and one list read, so the
 *   ratio is what reading every area's records and building the entities costs on top.
 *
 * Medians of `--repeat` runs (default 3) for the export; say the machine's load with any figure.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { emitterFor, numberFlag } from "../kit.js";

const BIN = resolve(import.meta.dirname, "../../bin/tandem.js");
const emit = emitterFor("catalog");
const repeat = numberFlag("repeat", 3);
const root = mkdtempSync(join(tmpdir(), "tandem-bench-catalog-"));
const env: Record<string, string | undefined> = { ...process.env, TANDEM_HOME: join(root, "home") };
for (const k of Object.keys(env)) if (k.startsWith("TANDEM_") && k !== "TANDEM_HOME") delete env[k];

function timed(args: string[], cwd: string): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env, encoding: "utf8" });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`tandem ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

try {
  const dir = join(root, "churn");
  const deployed = timed(["init", "--template", "classification", "churn"], root) + timed(["run", "train"], dir);
  emit("init_to_deployed", round(deployed / 1000), null, "s", null, { goal: 60 });

  const exportMs: number[] = [];
  const listMs: number[] = [];
  for (let i = 0; i < repeat; i++) {
    exportMs.push(timed(["catalog", "export", "--format", "backstage"], dir));
    listMs.push(timed(["models", "ls", "--json"], dir));
  }
  const e = median(exportMs);
  const l = median(listMs);
  emit("catalog_export", round(e), round(l), "ms", round(e / l));
} finally {
  rmSync(root, { recursive: true, force: true });
}
