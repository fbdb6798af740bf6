/**
 * Slurm dispatch overhead: 100 independent 1-second steps through Tandem's Slurm executor, against
 * the same 100 jobs submitted by a shell loop of `sbatch` and waited for with `squeue`, in the same
 * process run, on the local cluster (scripts/slurm-local.sh).
 *
 *   npm run bench -- executors            # 100 steps of sleep 1
 *   npm run bench -- executors --quick    # 10 steps
 *
 * It also reports the Kubernetes executor's dispatch overhead per step on the stand-in API server
 * (kubernetes.ts; informational).
 *
 * Tandem is measured from "start run" to "run finished" on a listening server (the step agent on the
 * node fetches nothing here but reports through the job's output). Both sides run as the same step
 * user with --export=NONE. Goal (issue 17): ratio ≤ 1.2, in its own `goal` field. Needs root and a
 * built dist/ (the agent).
 *
 * Besides wall time, each side's CPU (user+sys, s): the submitter's (this process and the Slurm
 * commands it ran: Tandem's server, or the shell loop) and the jobs' own (sacct TotalCPU). On the
 * one-node cluster the jobs share the submitter's cores, so a side's CPU is what its wall time pays
 * for under load. The load average is printed with each line.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config.js";
import { startServer } from "../../src/server/listen.js";
import { emitterFor } from "../kit.js";
import { kubernetesDispatchOverhead } from "./kubernetes.js";

const emit = emitterFor("executors");

const quick = process.argv.includes("--quick");
/**
 * Both sides ask for this much memory. A job that names none gets the whole node's memory under
 * CR_Core_Memory (no DefMemPerCPU in the local cluster's slurm.conf), so jobs would run one at a
 * time, whatever the CPUs: 100 of them took over 7 minutes. (The agent, a Node process, needs
 * about 60 MiB; Slurm kills a job over its --mem, OverMemoryKill.)
 */
const MEM_MIB = 200;
const STEPS = quick ? 10 : 100;
process.env.SLURM_CONF ??= "/tmp/tandem-slurm/slurm.conf";

function sh(command: string): string {
  const r = spawnSync("bash", ["-c", command], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${command}: ${r.stderr}`);
  return r.stdout;
}

/** CPU seconds (user+sys) of this process and of the children it waited for (sbatch, squeue, bash…). */
function submitterCpu(): number {
  const own = process.cpuUsage();
  // /proc/self/stat fields 16 and 17: cutime, cstime in clock ticks (100 a second on Linux).
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ");
  const children = (Number(fields[13]) + Number(fields[14])) / 100;
  return (own.user + own.system) / 1e6 + children;
}

/**
 * The jobs' own CPU (sacct TotalCPU, [DD-][HH:]MM:SS.mmm), summed over the steps (the batch step:
 * the allocation's own line says 0) of the jobs with this name prefix.
 */
function jobsCpu(namePrefix: string): number {
  const out = sh(`sacct -n -P -S now-1hour -o JobID,JobName,TotalCPU 2>/dev/null || true`);
  const rows = out.split("\n").map((line) => line.split("|"));
  const ours = new Set(
    rows.filter(([id, name]) => !id?.includes(".") && name?.startsWith(namePrefix)).map(([id]) => id),
  );
  let total = 0;
  for (const [id, , cpu] of rows) {
    if (!id?.includes(".") || !ours.has(id.split(".")[0]) || !cpu) continue;
    const [days, clock] = cpu.includes("-") ? cpu.split("-") : ["0", cpu];
    const parts = clock!.split(":").map(Number);
    while (parts.length < 3) parts.unshift(0);
    total += Number(days) * 86400 + parts[0]! * 3600 + parts[1]! * 60 + parts[2]!;
  }
  return total;
}

interface Side {
  wallS: number;
  submitterCpuS: number;
  jobsCpuS: number;
}

function drained(ids: string[]): boolean {
  const out = sh(`squeue -h -j ${ids.join(",")} -t PENDING,RUNNING,COMPLETING,CONFIGURING -o %i 2>/dev/null || true`);
  return out.trim() === "";
}

async function timeShell(dir: string, tag: string): Promise<Side> {
  const started = performance.now();
  const cpu = submitterCpu();
  const ids = sh(
    `for i in $(seq 1 ${STEPS}); do sbatch --parsable --export=NONE --uid=nobody --gid=nogroup ` +
      `--mem=${MEM_MIB}M --chdir=${dir} --output=/dev/null --job-name=bench.shell.${tag}.$i --wrap 'sleep 1'; done`,
  )
    .split("\n")
    .filter(Boolean);
  while (!drained(ids)) await new Promise((r) => setTimeout(r, 200));
  const wallS = (performance.now() - started) / 1000;
  return { wallS, submitterCpuS: submitterCpu() - cpu, jobsCpuS: await jobsCpuSettled(`bench.shell.${tag}.`) };
}

/** sacct's TotalCPU arrives a moment after the jobs end. */
async function jobsCpuSettled(prefix: string): Promise<number> {
  await new Promise((r) => setTimeout(r, 3000));
  return jobsCpu(prefix);
}

async function timeTandem(root: string, tag: string): Promise<Side> {
  const steps = Array.from(
    { length: STEPS },
    (_, i) => `      s${i}:\n        run: sleep 1\n        resources: { memory: ${MEM_MIB}Mi }\n`,
  ).join("");
  const source = `project: b${tag}\npipelines:\n  bench:\n    executor: slurm\n    steps:\n${steps}`;
  const config = loadConfig({
    TANDEM_HOME: join(root, "home"),
    TANDEM_SLURM_DIR: join(root, "slurm"),
    TANDEM_CONCURRENCY: String(STEPS),
    TANDEM_LOG_LEVEL: "error",
  });
  const server = await startServer({ config, host: "127.0.0.1", port: 0, background: false, handleSignals: false });
  try {
    const p = server.opened.services.pipelines;
    const project = `b${tag}`;
    await p.specs.apply("admin", project, { source, workspace: null, role: "admin" });
    const started = performance.now();
    const cpu = submitterCpu();
    const run = await p.startRun("admin", project, { pipeline: "bench", noCache: true });
    await p.settled(run!.id);
    const wallS = (performance.now() - started) / 1000;
    const submitterCpuS = submitterCpu() - cpu;
    const done = await p.getRun(project, run!.id);
    if (done.status !== "succeeded")
      throw new Error(`the run ${done.status}: ${done.steps.find((s) => s.error)?.error ?? "?"}`);
    return { wallS, submitterCpuS, jobsCpuS: await jobsCpuSettled(`tandem.${project}.bench.`) };
  } finally {
    await server.stop();
  }
}

// Kubernetes first: it needs no cluster (the stand-in API server), so it reports even without Slurm.
const k8s = await kubernetesDispatchOverhead(quick ? 10 : 100);
emit(k8s.measure, k8s.perStepMs, null, "ms", null, { goal: null, informational: true });

const root = mkdtempSync("/tmp/slurm-bench-");
chmodSync(root, 0o711);
const tag = Date.now().toString(36);
const load = () => `load ${loadavg()[0]!.toFixed(1)}`;
try {
  const tandem = await timeTandem(root, tag);
  const loadTandem = load();
  const shell = await timeShell(root, tag);
  const where = `${STEPS} × sleep 1 on Slurm, ${cpus().length} CPUs, ${loadTandem} / ${load()}`;
  const r3 = (n: number) => Number(n.toFixed(3));
  emit(`wall: ${where}`, r3(tandem.wallS), r3(shell.wallS), "s", r3(tandem.wallS / shell.wallS), {
    goal: "ratio <= 1.2",
  });
  emit(
    `submitter CPU (user+sys: Tandem's server vs the sbatch loop and squeue polls): ${where}`,
    r3(tandem.submitterCpuS),
    r3(shell.submitterCpuS),
    "s",
    r3(tandem.submitterCpuS / Math.max(shell.submitterCpuS, 0.001)),
    { goal: null },
  );
  emit(
    `jobs' CPU (sacct TotalCPU: the step agent and its step vs sleep alone): ${where}`,
    r3(tandem.jobsCpuS),
    r3(shell.jobsCpuS),
    "s",
    r3(tandem.jobsCpuS / Math.max(shell.jobsCpuS, 0.001)),
    { goal: null },
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
