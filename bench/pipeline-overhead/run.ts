/**
 * Orchestration overhead as a user meets it: `tandem run` of a 200-step DAG in layers of fan-out and
 * fan-in (20 blocks of 9 parallel steps joined by one), as its own process (start-up, spec apply,
 * store writes, a tracking run per step, logs, lock file: all of it), against GNU make -j2 running the
 * same commands with the same dependencies, in the same run, on the same machine.
 *
 *   npm run bench -- pipeline-overhead            # both workloads
 *   npm run bench -- pipeline-overhead --quick    # 50 steps, for a smoke test
 *   npm run bench -- pipeline-overhead --only true --rounds 5   # one workload, medians of 5 rounds
 *
 * `--only sleep|true` runs one workload; `--rounds N` (default 1) runs make and Tandem N times in
 * turn (make, tandem, tandem without sandbox, make, …) and reports the medians, each round's
 * figures in `rounds`: on a shared machine one round says little.
 *
 * Goals (issue 18): with `sleep 0.1` steps Tandem's wall time ≤ 1.15 × make's; with `true` steps at
 * most 5 ms per step over make's, process start included. Each goal is its own field. Wall time
 * moves with the load on a shared machine; CPU time (user + system of the command and its children,
 * the steps included) and the load average are printed beside it. A third line runs the `true` DAG
 * with TANDEM_STEP_SANDBOX=none, to show what starting each step in bubblewrap costs.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emitterFor } from "../kit.js";
import { timedRun, type TimedRun } from "../process-time.js";

const quick = process.argv.includes("--quick");
const flag = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const only = flag("--only");
if (only !== undefined && only !== "sleep" && only !== "true") throw new Error("--only takes sleep or true");
const ROUNDS = Number(flag("--rounds") ?? 1);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error("--rounds takes a whole number of at least 1");
const BLOCKS = quick ? 5 : 20;
const FAN = 9;
const CONCURRENCY = 2;
const BIN = join(import.meta.dirname, "../../bin/tandem.js");
const emit = emitterFor("pipeline-overhead");

interface Step {
  name: string;
  needs: string[];
}

/** join0 ← s0_1..s0_9 ← j0 … : each block fans out from the previous join and fans back in. */
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
  const lines = ["project: bench", "pipelines:", "  bench:", "    steps:"];
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

/** `tandem run bench --no-cache --concurrency 2` in a project folder, the store already made. */
function timeTandem(steps: Step[], command: string, env: Record<string, string> = {}): TimedRun {
  const root = mkdtempSync(join(tmpdir(), "tandem-bench-"));
  const workspace = join(root, "project");
  mkdirSync(workspace);
  writeFileSync(join(workspace, "tandem.yaml"), specFor(steps, command));
  const options = {
    cwd: workspace,
    env: { ...process.env, TANDEM_HOME: join(root, "home"), TANDEM_URL: "", TANDEM_DATABASE_URL: "", ...env },
  };
  try {
    // Creating and migrating the store is a first use's cost, not a run's.
    const applied = timedRun(process.execPath, [BIN, "apply"], options);
    if (applied.status !== 0) throw new Error(`tandem apply failed: ${applied.stderr}`);
    const run = timedRun(
      process.execPath,
      [BIN, "run", "bench", "--no-cache", "--concurrency", String(CONCURRENCY)],
      options,
    );
    if (run.status !== 0) throw new Error(`tandem run failed: ${run.stderr}`);
    return run;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function timeMake(steps: Step[], command: string): TimedRun {
  const dir = mkdtempSync(join(tmpdir(), "make-bench-"));
  try {
    writeFileSync(join(dir, "Makefile"), makefileFor(steps, command));
    const run = timedRun("make", [`-j${CONCURRENCY}`, "-s", "-C", dir, "all"]);
    if (run.status !== 0) throw new Error(`make failed: ${run.stderr}`);
    return run;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const round3 = (x: number | null): number | null => (x === null ? null : Number(x.toFixed(3)));

function times(tandem: TimedRun, make: TimedRun) {
  return {
    tandem_cpu_s: round3(tandem.cpu),
    baseline_cpu_s: round3(make.cpu),
    load_1m: round3(Math.max(tandem.load, make.load)),
  };
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The median round's figures (wall, CPU and load each the median of the rounds'). */
function medianRun(runs: TimedRun[]): TimedRun {
  const cpus = runs.map((r) => r.cpu).filter((c): c is number => c !== null);
  return {
    ...runs[0]!,
    wall: median(runs.map((r) => r.wall)),
    cpu: cpus.length ? median(cpus) : null,
    load: median(runs.map((r) => r.load)),
  };
}

const roundsOf = (runs: TimedRun[]) =>
  ROUNDS > 1
    ? { rounds: runs.map((r) => ({ wall_s: round3(r.wall), cpu_s: round3(r.cpu), load_1m: round3(r.load) })) }
    : {};

const steps = dag();
for (const [label, command] of [
  ["sleep 0.1", "sleep 0.1"],
  ["true", "true"],
] as const) {
  if (only !== undefined && !label.startsWith(only)) continue;
  const makes: TimedRun[] = [];
  const tandems: TimedRun[] = [];
  const bares: TimedRun[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    makes.push(timeMake(steps, command));
    tandems.push(timeTandem(steps, command));
    // The same without bubblewrap: what the sandbox's start adds to each step.
    if (label === "true") bares.push(timeTandem(steps, command, { TANDEM_STEP_SANDBOX: "none" }));
  }
  const make = medianRun(makes);
  const tandem = medianRun(tandems);
  const measure = `tandem run, ${steps.length} steps of \`${label}\`, -j${CONCURRENCY}, process start included (s; baseline make -j${CONCURRENCY})`;
  if (label === "sleep 0.1") {
    emit(measure, round3(tandem.wall)!, round3(make.wall), "s", round3(tandem.wall / make.wall), {
      goal: { ratio: 1.15, meaning: "Tandem's wall time at most 1.15 x make's" },
      ...times(tandem, make),
      ...roundsOf(tandems),
    });
    continue;
  }
  const perStep = (run: TimedRun) => ((run.wall - make.wall) * 1000) / steps.length;
  emit(measure, round3(tandem.wall)!, round3(make.wall), "s", round3(tandem.wall / make.wall), {
    ...times(tandem, make),
    ...roundsOf(tandems),
  });
  emit(`orchestration overhead per step over make (\`true\` steps)`, round3(perStep(tandem))!, null, "ms", null, {
    goal: { max: 5, unit: "ms", meaning: "at most 5 ms per step over make, process start included" },
    tandem_cpu_ms_per_step: round3(((tandem.cpu ?? NaN) - (make.cpu ?? 0)) * (1000 / steps.length)),
    load_1m: round3(tandem.load),
  });
  const bare = medianRun(bares);
  emit(
    `  the same with TANDEM_STEP_SANDBOX=none (steps not isolated), per step over make`,
    round3(perStep(bare))!,
    null,
    "ms",
    null,
    {
      goal: { max: 5, unit: "ms" },
      tandem_cpu_ms_per_step: round3(((bare.cpu ?? NaN) - (make.cpu ?? 0)) * (1000 / steps.length)),
      load_1m: round3(bare.load),
      ...roundsOf(bares),
    },
  );
}
