/**
 * CLI start-up as a user meets it: `tandem --help` and an embedded `tandem runs ls` (SQLite store in
 * a fresh $TANDEM_HOME, a handful of runs in it), each as its own process through bin/tandem.js and
 * the built dist/, against `node -e ""` (Node's own start) in the same run, alternating, so both
 * sides see the same load.
 *
 *   npm run bench -- cli                # 15 rounds
 *   npm run bench -- cli --rounds 5
 *
 * Each line gives the median wall time, and beside it the median CPU time (user + system, which
 * barely moves with the load on a shared machine) and the load average. Goals (issue 18): `--help`
 * within 0.3 s of Node's start, `runs ls` within 0.6 s; the goal is its own field, never the baseline.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emitterFor, numberFlag } from "../kit.js";
import { timedRun, type TimedRun } from "../process-time.js";

const here = import.meta.dirname;
const BIN = join(here, "../../bin/tandem.js");
const rounds = numberFlag("rounds", 15);
const emit = emitterFor("cli");

const root = mkdtempSync(join(tmpdir(), "tandem-bench-cli-"));
const env = {
  ...process.env,
  TANDEM_HOME: join(root, "home"),
  TANDEM_URL: "",
  TANDEM_DATABASE_URL: "",
  TANDEM_FROM_SOURCE: "",
  NO_COLOR: "1",
};

function tandem(args: string[]): TimedRun {
  const run = timedRun(process.execPath, [BIN, ...args], { env, cwd: root });
  if (run.status !== 0) throw new Error(`tandem ${args.join(" ")} exited ${run.status}: ${run.stderr}`);
  return run;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const round3 = (x: number): number => Number(x.toFixed(3));

try {
  // A store with a few finished runs, so `runs ls` reads and prints rows (the first call also
  // creates and migrates the store, which is not what the measure is about).
  writeFileSync(
    join(root, "tandem.yaml"),
    "project: bench\npipelines:\n  hello:\n    steps:\n      say:\n        run: echo hi\n",
  );
  tandem(["apply"]);
  for (let i = 0; i < 5; i++) tandem(["run", "hello", "--no-cache"]);

  const samples: Record<"node" | "help" | "ls", TimedRun[]> = { node: [], help: [], ls: [] };
  for (let i = 0; i < rounds; i++) {
    samples.node.push(timedRun(process.execPath, ["-e", ""], { env }));
    samples.help.push(tandem(["--help"]));
    samples.ls.push(tandem(["runs", "ls", "--project", "bench"]));
  }
  const node = samples.node;
  for (const [key, measure, goalOver] of [
    ["help", "tandem --help", 0.3],
    ["ls", "tandem runs ls (embedded SQLite, 5 runs)", 0.6],
  ] as const) {
    const runs = samples[key];
    const wall = median(runs.map((r) => r.wall));
    const base = median(node.map((r) => r.wall));
    const cpu = median(runs.map((r) => r.cpu ?? NaN));
    const baseCpu = median(node.map((r) => r.cpu ?? NaN));
    emit(
      `${measure}, process start included, median of ${rounds} (s; baseline node -e "")`,
      round3(wall),
      round3(base),
      "s",
      round3(wall / base),
      {
        goal: { max_over_baseline_s: goalOver, meaning: `at most ${goalOver} s over Node's own start` },
        over_baseline_s: round3(wall - base),
        tandem_cpu_s: Number.isNaN(cpu) ? null : round3(cpu),
        baseline_cpu_s: Number.isNaN(baseCpu) ? null : round3(baseCpu),
        cpu_over_baseline_s: Number.isNaN(cpu - baseCpu) ? null : round3(cpu - baseCpu),
        load_1m: round3(median([...runs, ...node].map((r) => r.load))),
      },
    );
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
