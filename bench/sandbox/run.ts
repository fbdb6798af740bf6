/**
 * What starting a step in the sandbox costs (issue 18): `true` run through sandboxArgv's bwrap (the
 * argv a local step gets, with a home and a work root hidden), against `true` spawned bare, one after
 * the other, in alternated rounds, medians printed.
 *
 *   npm run bench -- sandbox             # 7 rounds of 100 starts each
 *   npm run bench -- sandbox --rounds 3 --starts 20
 *
 * CPU is user + system of everything a start makes, the sandbox's pid 1 included: bwrap's outer
 * process exits as soon as the step's command has, without waiting for its pid 1, so GNU time around
 * a loop of bwrap misses that process and the command it reaped (it showed bwrap as cheaper than a
 * start without a pid namespace). The loop runs in a Python child subreaper, as the step spawner does,
 * which reaps the orphaned pid 1 and so counts it. Needs bwrap that can make namespaces here.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { emitterFor, numberFlag } from "../kit.js";
import { BWRAP, probeSandbox, programPath, sandboxArgv } from "../../src/executors/local/sandbox.js";

const ROUNDS = numberFlag("rounds", 7);
const STARTS = numberFlag("starts", 100);
const emit = emitterFor("sandbox");

/** Runs argv `starts` times, reaping every orphan before the next start; prints "cpu_s wall_s". */
const LOOP = `
import ctypes, json, os, resource, sys, time
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
argv, starts = json.loads(sys.argv[1]), int(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.monotonic()
for _ in range(starts):
    pid = os.posix_spawn(argv[0], argv, os.environ)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("exit status %d" % os.waitstatus_to_exitcode(status))
    while True:
        try:
            os.wait()
        except ChildProcessError:
            break
wall = time.monotonic() - t0
after = resource.getrusage(resource.RUSAGE_CHILDREN)
print(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall)
`;

function loop(argv: string[]): { cpuMs: number; wallMs: number } {
  const run = spawnSync("/usr/bin/python3", ["-c", LOOP, JSON.stringify(argv), String(STARTS)], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`the start loop failed: ${run.stderr}`);
  const [cpu, wall] = run.stdout.trim().split(" ").map(Number);
  return { cpuMs: (cpu! * 1000) / STARTS, wallMs: (wall! * 1000) / STARTS };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const round3 = (x: number) => Number(x.toFixed(3));

const status = probeSandbox();
if (!status.isolated) {
  console.error(`sandbox bench skipped: ${status.reason}`);
  process.exit(0);
}
const root = mkdtempSync(join(tmpdir(), "tandem-sandbox-bench-"));
try {
  const home = join(root, "home");
  const work = join(root, "work");
  const step = join(work, "run-1", "step-1");
  mkdirSync(home);
  mkdirSync(step, { recursive: true });
  writeFileSync(join(home, "admin.token"), "secret\n");
  const command = [programPath("true")];
  const variants = {
    bare: command,
    sandboxed: sandboxArgv({ command, workdir: step, hide: [home, work], bwrap: programPath(BWRAP) }),
  };
  const seen: Record<"bare" | "sandboxed", Array<{ cpuMs: number; wallMs: number }>> = { bare: [], sandboxed: [] };
  for (let r = 0; r < ROUNDS; r++)
    for (const name of ["bare", "sandboxed"] as const) seen[name].push(loop(variants[name]));
  const cpu = (name: keyof typeof seen) => median(seen[name].map((s) => s.cpuMs));
  const wall = (name: keyof typeof seen) => median(seen[name].map((s) => s.wallMs));
  const extra = {
    rounds: ROUNDS,
    starts: STARTS,
    load_1m: round3(loadavg()[0]!),
    argv: variants.sandboxed.slice(0, -1),
  };
  emit(
    "CPU per start of `true` in the sandbox (ms; baseline the same spawned bare)",
    round3(cpu("sandboxed")),
    round3(cpu("bare")),
    "ms",
    round3(cpu("sandboxed") / cpu("bare")),
    { sandbox_cpu_ms: round3(cpu("sandboxed") - cpu("bare")), ...extra },
  );
  emit(
    "wall per start of `true` in the sandbox (ms; baseline the same spawned bare)",
    round3(wall("sandboxed")),
    round3(wall("bare")),
    "ms",
    round3(wall("sandboxed") / wall("bare")),
    { sandbox_wall_ms: round3(wall("sandboxed") - wall("bare")), load_1m: extra.load_1m },
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
