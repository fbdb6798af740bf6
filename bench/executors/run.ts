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
 * user with --export=NONE. Goal (issue 17): ratio ≤ 1.2. Needs root and a built dist/ (the agent).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config.js";
import { startServer } from "../../src/server/listen.js";
import { kubernetesDispatchOverhead } from "./kubernetes.js";

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

function drained(ids: string[]): boolean {
  const out = sh(`squeue -h -j ${ids.join(",")} -t PENDING,RUNNING,COMPLETING,CONFIGURING -o %i 2>/dev/null || true`);
  return out.trim() === "";
}

async function timeShell(dir: string): Promise<number> {
  const started = performance.now();
  const ids = sh(
    `for i in $(seq 1 ${STEPS}); do sbatch --parsable --export=NONE --uid=nobody --gid=nogroup ` +
      `--mem=${MEM_MIB}M --chdir=${dir} --output=/dev/null --job-name=bench.shell.$i --wrap 'sleep 1'; done`,
  )
    .split("\n")
    .filter(Boolean);
  while (!drained(ids)) await new Promise((r) => setTimeout(r, 200));
  return (performance.now() - started) / 1000;
}

async function timeTandem(root: string): Promise<number> {
  const steps = Array.from(
    { length: STEPS },
    (_, i) => `      s${i}:\n        run: sleep 1\n        resources: { memory: ${MEM_MIB}Mi }\n`,
  ).join("");
  const source = `pipelines:\n  bench:\n    executor: slurm\n    steps:\n${steps}`;
  const config = loadConfig({
    TANDEM_HOME: join(root, "home"),
    TANDEM_SLURM_DIR: join(root, "slurm"),
    TANDEM_CONCURRENCY: String(STEPS),
    TANDEM_LOG_LEVEL: "error",
  });
  const server = await startServer({ config, host: "127.0.0.1", port: 0, background: false, handleSignals: false });
  try {
    const p = server.opened.services.pipelines;
    await p.apply("admin", "default", { source, workspace: null, role: "admin" });
    const started = performance.now();
    const run = await p.startRun("admin", "default", { pipeline: "bench", noCache: true });
    await p.settled(run!.id);
    const seconds = (performance.now() - started) / 1000;
    const done = await p.getRun("default", run!.id);
    if (done.status !== "succeeded")
      throw new Error(`the run ${done.status}: ${done.steps.find((s) => s.error)?.error ?? "?"}`);
    return seconds;
  } finally {
    await server.stop();
  }
}

// Kubernetes first: it needs no cluster (the stand-in API server), so it reports even without Slurm.
console.log(JSON.stringify(await kubernetesDispatchOverhead(quick ? 10 : 100)));

const root = mkdtempSync("/tmp/slurm-bench-");
chmodSync(root, 0o711);
try {
  const tandem = await timeTandem(root);
  const shell = await timeShell(root);
  console.log(
    JSON.stringify({
      bench: "executors",
      measure: `${STEPS} × sleep 1 on Slurm (${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(1)})`,
      tandem: Number(tandem.toFixed(2)),
      baseline: Number(shell.toFixed(2)),
      unit: "s",
      ratio: Number((tandem / shell).toFixed(3)),
    }),
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
