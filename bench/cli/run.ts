/**
 * CLI start-up as a user meets it: `tandem --help` and the embedded read-only commands users run
 * often (`runs ls`, `runs show`, `experiments ls`, `models ls`, `endpoints ls`, `alerts ls`,
 * `monitors ls`, `data ls`; SQLite store in a fresh $TANDEM_HOME, a handful of runs in it), each as
 * its own process through bin/tandem.js and the built dist/, against `node -e ""` (Node's own start)
 * in the same run, alternating, so all see the same load.
 *
 *   npm run bench -- cli                # 15 rounds
 *   npm run bench -- cli --rounds 5
 *
 * Each line gives the median wall time, and beside it the median CPU time (user + system, which
 * barely moves with the load on a shared machine) and the load average. Goals (issue 18): `--help`
 * within 0.3 s of Node's start, an embedded read within 0.6 s; the goal is its own field, never the
 * baseline.
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

  const runId = (JSON.parse(tandem(["runs", "ls", "--project", "bench", "--json"]).stdout) as Array<{ id: string }>)[0]!
    .id;
  const project = ["--project", "bench"];
  // [key, what is measured, arguments, goal over Node's start in s]
  const MEASURES: Array<[string, string, string[], number]> = [
    ["help", "tandem --help", ["--help"], 0.3],
    ["ls", "tandem runs ls (embedded SQLite, 5 runs)", ["runs", "ls", ...project], 0.6],
    ["show", "tandem runs show ID (embedded SQLite)", ["runs", "show", runId, ...project], 0.6],
    ["experiments", "tandem experiments ls (embedded SQLite)", ["experiments", "ls", ...project], 0.6],
    ["models", "tandem models ls (embedded SQLite)", ["models", "ls", ...project], 0.6],
    ["endpoints", "tandem endpoints ls (embedded SQLite)", ["endpoints", "ls", ...project], 0.6],
    ["alerts", "tandem alerts ls (embedded SQLite)", ["alerts", "ls", ...project], 0.6],
    ["monitors", "tandem monitors ls (embedded SQLite)", ["monitors", "ls", ...project], 0.6],
    ["data", "tandem data ls (embedded SQLite)", ["data", "ls", ...project], 0.6],
  ];
  const samples: Record<string, TimedRun[]> = { node: [] };
  for (let i = 0; i < rounds; i++) {
    samples.node!.push(timedRun(process.execPath, ["-e", ""], { env }));
    for (const [key, , args] of MEASURES) (samples[key] ??= []).push(tandem(args));
  }
  const node = samples.node!;
  for (const [key, measure, , goalOver] of MEASURES) {
    const runs = samples[key]!;
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
