/**
 * Orchestration overhead: a 200-step DAG in layers of fan-out and fan-in (20 blocks of 9 parallel
 * steps joined by one), run by Tandem's engine with an empty cache and by GNU make -j2 with the same
 * commands and dependencies, in the same process run, on the same machine.
 *
 *   npm run bench -- pipeline-overhead            # both workloads
 *   npm run bench -- pipeline-overhead --quick    # 50 steps, for a smoke test
 *
 * Tandem is measured from "start run" to "run finished" inside one process (what `tandem run`
 * does after its own start-up), with every step recorded as it is in production: step state in
 * SQLite, a tracking run per step (audited), logs captured, outputs and cache entries stored.
 * Target (issue 3): with `sleep 0.1` steps Tandem's wall time ≤ 1.15 × make's.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config.js";
import { createServices } from "../../src/main.js";

const quick = process.argv.includes("--quick");
const BLOCKS = quick ? 5 : 20;
const FAN = 9;
const CONCURRENCY = 2;

interface Step {
  name: string;
  needs: string[];
}

/** join0 ← a0_1..a0_9 ← join1 … : each block fans out from the previous join and fans back in. */
function dag(): Step[] {
  const steps: Step[] = [];
  let prev: string | null = null;
  for (let b = 0; b < BLOCKS; b++) {
    const fan: string[] = [];
    for (let i = 0; i < FAN; i++) {
      const name = `s${b}_${i}`;
      steps.push({ name, needs: prev ? [prev] : [] });
      fan.push(name);
    }
    const join = `j${b}`;
    steps.push({ name: join, needs: fan });
    prev = join;
  }
  return steps;
}

function specFor(steps: Step[], command: string): string {
  const lines = ["pipelines:", "  bench:", "    steps:"];
  for (const s of steps) {
    lines.push(`      ${s.name}:`);
    if (s.needs.length) lines.push(`        needs: [${s.needs.join(", ")}]`);
    lines.push(`        run: "${command}"`);
  }
  return `${lines.join("\n")}\n`;
}

function makefileFor(steps: Step[], command: string): string {
  const all = steps.map((s) => s.name);
  const lines = [`.PHONY: all ${all.join(" ")}`, `all: ${all.join(" ")}`];
  for (const s of steps) lines.push(`${s.name}: ${s.needs.join(" ")}`, `\t@${command}`);
  return `${lines.join("\n")}\n`;
}

async function timeTandem(steps: Step[], command: string): Promise<number> {
  const root = mkdtempSync(join(tmpdir(), "tandem-bench-"));
  const workspace = join(root, "project");
  mkdirSync(workspace);
  const source = specFor(steps, command);
  writeFileSync(join(workspace, "tandem.yaml"), source);
  const opened = await createServices(
    loadConfig({ TANDEM_HOME: join(root, "home"), TANDEM_CONCURRENCY: String(CONCURRENCY) }),
  );
  try {
    const p = opened.services.pipelines;
    await p.apply("admin", "default", { source, workspace, role: "admin" });
    const started = performance.now();
    const run = await p.startRun("admin", "default", { pipeline: "bench", noCache: true });
    await p.settled(run!.id);
    const took = performance.now() - started;
    const done = await p.getRun("default", run!.id);
    if (done.status !== "succeeded") throw new Error(`tandem run ${done.status}: ${done.error}`);
    return took / 1000;
  } finally {
    await opened.close();
    rmSync(root, { recursive: true, force: true });
  }
}

function timeMake(steps: Step[], command: string): number {
  const dir = mkdtempSync(join(tmpdir(), "make-bench-"));
  writeFileSync(join(dir, "Makefile"), makefileFor(steps, command));
  const started = performance.now();
  const res = spawnSync("make", ["-j2", "-C", dir, "all"], { stdio: ["ignore", "ignore", "inherit"] });
  const took = performance.now() - started;
  rmSync(dir, { recursive: true, force: true });
  if (res.status !== 0) throw new Error("make failed");
  return took / 1000;
}

function emit(measure: string, tandem: number, baseline: number | null, unit: string): void {
  const ratio = baseline ? Number((tandem / baseline).toFixed(3)) : null;
  console.log(
    JSON.stringify({
      bench: "pipeline-overhead",
      measure,
      tandem: Number(tandem.toFixed(3)),
      baseline: baseline === null ? null : Number(baseline.toFixed(3)),
      unit,
      ratio,
    }),
  );
}

const steps = dag();
// Both tools share the machine; on a loaded one (other jobs) Tandem's per-step work suffers more
// than make's sleeps, so say how loaded it was.
process.stderr.write(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} on ${cpus().length} cores\n`,
);
for (const [label, command] of [
  ["sleep 0.1", "sleep 0.1"],
  ["true", "true"],
] as const) {
  const make = timeMake(steps, command);
  const tandem = await timeTandem(steps, command);
  emit(`${steps.length} steps of \`${label}\`, wall time, -j${CONCURRENCY}`, tandem, make, "s");
  if (label === "true")
    emit(
      `orchestration overhead per step over make (\`true\` steps)`,
      ((tandem - make) * 1000) / steps.length,
      null,
      "ms",
    );
}
