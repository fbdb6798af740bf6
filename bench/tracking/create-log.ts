/**
 * Run create + log, as a Python training script does it: the real MLflow 2.12 client
 * (`MlflowClient.create_run`, then one `log_batch` of 10 metrics and 5 params: two requests per run),
 * one client, against
 *   - a `tandem server` on SQLite and on PostgreSQL (a fresh database each), and
 *   - MLflow 2.12's own server (`mlflow server`, gunicorn, 2 workers) on a fresh database of the same
 *     PostgreSQL server: the baseline of the PostgreSQL line.
 * Python start-up and the client's import are excluded (the script times its own loop); the line
 * carries the client's CPU time and the load average, since the machine may be shared.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { mlflowPython, runMlflowClient, SYSTEM_PYTHON } from "../../test/helpers/mlflow.js";

export const CREATE_LOG_SCRIPT = `
import json, os, sys, time
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
client = MlflowClient()
runs = int(sys.argv[1])
def one(i):
    run = client.create_run("0")
    now = int(time.time() * 1000)
    client.log_batch(run.info.run_id,
        metrics=[Metric(f"m{k}", i * 0.001 + k, now, 0) for k in range(10)],
        params=[Param(f"p{k}", str(i + k)) for k in range(5)])
for i in range(3):
    one(i)  # connections and caches warm
t0, c0 = time.perf_counter(), time.process_time()
for i in range(runs):
    one(i)
print(json.dumps({"seconds": time.perf_counter() - t0, "client_cpu": time.process_time() - c0}))
`;

export interface CreateLogResult {
  runsPerSecond: number;
  seconds: number;
  clientCpuSeconds: number;
}

/** Runs the client script against `url` (a token for Tandem; none for MLflow's open server). */
export async function measureCreateLog(url: string, token: string | null, runs: number): Promise<CreateLogResult> {
  const client = await runMlflowClient(url, token, ["-c", CREATE_LOG_SCRIPT, String(runs)]);
  if (client.status !== 0) throw new Error(`client exited ${client.status}: ${client.stderr.slice(-800)}`);
  const out = client.stdout;
  const r = JSON.parse(out.trim().split("\n").pop()!) as { seconds: number; client_cpu: number };
  return { runsPerSecond: runs / r.seconds, seconds: r.seconds, clientCpuSeconds: r.client_cpu };
}

/** MLflow 2.12's tracking server on `databaseUrl`, in its own process group (gunicorn forks workers). */
export async function startMlflowServer(
  databaseUrl: string,
): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const mlflow = mlflowPython();
  if ("reason" in mlflow) throw new Error(mlflow.reason);
  const artifacts = mkdtempSync(join(tmpdir(), "tandem-bench-mlflow-art-"));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child: ChildProcess = spawn(
    SYSTEM_PYTHON,
    [
      "-m",
      "mlflow",
      "server",
      "--backend-store-uri",
      databaseUrl.replace(/^postgres:/, "postgresql:"),
      "--default-artifact-root",
      artifacts,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--workers",
      "2",
    ],
    { env: { ...process.env, ...mlflow.env }, cwd: tmpdir(), detached: true, stdio: "ignore" },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      // already gone
    }
    await new Promise((r) => setTimeout(r, 1000));
    rmSync(artifacts, { recursive: true, force: true });
  };
  // Its first start creates MLflow's tables (alembic): give it time on a loaded machine.
  for (let i = 0; i < 240; i++) {
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return { url, pid: child.pid!, stop };
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await stop();
  throw new Error(`mlflow server did not start on ${url}`);
}

/**
 * CPU seconds (user+sys) used so far by process `pid`, or by every process of group `pid` (MLflow's
 * gunicorn master and workers), from /proc: a figure the machine's load does not inflate the way it
 * inflates wall time. Null where there is no /proc.
 */
export function cpuSeconds(pid: number, wholeGroup = false): number | null {
  const ticks = (statPath: string): { pgrp: number; cpu: number } | null => {
    try {
      const stat = readFileSync(statPath, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return { pgrp: Number(f[2]), cpu: Number(f[11]) + Number(f[12]) };
    } catch {
      return null;
    }
  };
  if (!wholeGroup) {
    const own = ticks(`/proc/${pid}/stat`);
    return own ? own.cpu / 100 : null;
  }
  let total = 0;
  try {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const t = ticks(`/proc/${entry}/stat`);
      if (t && t.pgrp === pid) total += t.cpu;
    }
  } catch {
    return null;
  }
  return total / 100;
}

export function loadNow(): number {
  return Number(loadavg()[0]!.toFixed(1));
}
