/**
 * Docs are tests: every guide in docs/guides runs as written (guide-runner.ts), one test per guide,
 * and its shown outputs must be what it prints. The blocks a guide marks as not runnable here are
 * listed at the end with their reasons. Markers: docs/README.md, "Guides are tests".
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mlflowPython } from "../helpers/mlflow.js";
import { slurmCluster } from "../helpers/slurm.js";
import { parseGuide, type Guide } from "./guide-blocks.js";
import { runGuide, type BlockOutcome, type Needs } from "./guide-runner.js";

const ROOT = resolve(import.meta.dirname, "../..");
const GUIDES = join(ROOT, "docs", "guides");
const guides = new Map<string, Guide>(
  readdirSync(GUIDES)
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => [f, parseGuide(`docs/guides/${f}`, readFileSync(join(GUIDES, f), "utf8"))]),
);

const needs: Needs = {
  mlflow: () => {
    const found = mlflowPython();
    return "reason" in found ? found : { env: { ...found.env, TANDEM_PYTHON: found.python } };
  },
  kubectl: () => {
    const found = spawnSync("kubectl", ["version", "--client"], { stdio: "ignore" });
    return found.status === 0 ? { env: {} } : { reason: "no kubectl on PATH (Debian: apt-get install kubectl)" };
  },
  slurm: () => {
    const why = slurmCluster();
    return why ? { reason: why } : { env: { SLURM_CONF: process.env.SLURM_CONF! } };
  },
};

/** The guides `name` continues (oldest first), then `name` itself. */
function chain(name: string, seen: string[] = []): Guide[] {
  const guide = guides.get(name);
  if (!guide) throw new Error(`docs/guides/${seen.at(-1)} continues ${name}, which does not exist`);
  if (seen.includes(name)) throw new Error(`docs/guides: ${[...seen, name].join(" → ")} continue each other`);
  return guide.continues ? [...chain(guide.continues, [...seen, name]), guide] : [guide];
}

// Two guides at a time: they spend most of their time starting `tandem` processes, and CI has 2 cores.
let running = 0;
const waiting: (() => void)[] = [];
async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= 2) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** The guides run the built package, as a user would: a stale dist/ would test old code. */
function newestUnder(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestUnder(full));
    else if (!entry.name.endsWith(".test.ts")) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}
beforeAll(() => {
  const built = join(ROOT, "dist", ".built");
  if (!existsSync(built) || statSync(built).mtimeMs < newestUnder(join(ROOT, "src")))
    throw new Error("dist/ is older than src/: the guides run the built package (npm run build:dist)");
});

const skipped: BlockOutcome[] = [];
afterAll(() => {
  if (skipped.length === 0) return;
  console.log(`Guide blocks not run here:\n${skipped.map((s) => `  ${s.file}:${s.line}: ${s.why}`).join("\n")}`);
});

describe.concurrent("docs/guides run as written", () => {
  for (const name of guides.keys())
    it(
      name,
      async () => {
        const outcomes = await slot(() => runGuide(chain(name), needs));
        skipped.push(...outcomes.filter((o) => o.status === "skipped"));
        const failures = outcomes
          .filter((o) => o.status === "failed")
          .map((o) => (o.line ? `${o.file}:${o.line}: ${o.why}` : o.why));
        expect(failures.join("\n\n")).toBe("");
      },
      600_000,
    );
});
