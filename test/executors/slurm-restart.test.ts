/**
 * kill -9 of the server while a Slurm step runs: the restarted server takes the run over, attaches
 * to the still-running job by its id, finishes the run, and never submits the job twice (one row
 * in sacct for the job name). Also when the server died before it stored the job's id (between
 * sbatch and its answer): the successor goes on with the same attempt and adopts that job.
 */
import Database from "better-sqlite3";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startCli } from "../pipelines/cli.js";
import { sacctByName, slurmCluster } from "../helpers/slurm.js";

const missing = slurmCluster();
if (missing) console.warn(`skipping the Slurm restart test: ${missing}`);

const SPEC = `pipelines:
  long:
    executor: slurm
    steps:
      work:
        run: |
          echo started
          sleep 8
          echo done > "$TANDEM_OUTPUT_OUT"
        outputs: { out: file }
      after:
        executor: slurm
        run: cat \${{ inputs.out }}
        inputs: { out: "\${{ steps.work.outputs.out }}" }
`;

interface RunJson {
  id: string;
  status: string;
  steps: Array<{ name: string; status: string; attempt: number; remote_job: string | null }>;
}

describe.skipIf(missing !== null)("Slurm executor: kill -9 of the server mid-step", () => {
  const root = mkdtempSync("/tmp/slurm-restart-");
  const env = {
    TANDEM_HOME: join(root, "home"),
    TANDEM_SLURM_DIR: join(root, "slurm"),
    TANDEM_SLURM_POLL_MS: "200",
    TANDEM_LOG_LEVEL: "error",
  };
  mkdirSync(env.TANDEM_HOME);
  chmodSync(root, 0o711);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const url = `http://127.0.0.1:${port}`;
  const servers: Array<ReturnType<typeof startCli>> = [];
  afterAll(async () => {
    for (const s of servers) {
      s.child.kill("SIGTERM");
      await s.done;
    }
    rmSync(root, { recursive: true, force: true });
  });

  const startServer = async () => {
    const server = startCli(["server", "--port", String(port)], { cwd: root, env });
    servers.push(server);
    for (let i = 0; i < 1200; i++) {
      if (/listening on/.test(server.output().stdout + server.output().stderr)) return server;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the server did not start: ${JSON.stringify(server.output())}`);
  };
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const token = readFileSync(join(env.TANDEM_HOME, "admin.token"), "utf8").trim();
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };

  /** Starts a run, waits for its Slurm job's first line in the log, and kills the server with -9. */
  const runAndKill = async () => {
    // One server at a time on this home (SQLite) and port: the previous test's goes first.
    for (const s of servers.splice(0)) {
      s.child.kill("SIGTERM");
      await s.done;
    }
    const first = await startServer();
    await api("POST", "/api/v1/projects/default/specs", { source: SPEC });
    const { id } = await api<{ id: string }>("POST", "/api/v1/projects/default/pipelines/long/runs", {
      no_cache: true,
    });
    let job: string | null = null;
    for (let i = 0; i < 300 && !job; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const work = (await api<RunJson>("GET", `/api/v1/projects/default/pipeline-runs/${id}`)).steps[0]!;
      if (work.status === "running" && work.remote_job) job = work.remote_job;
    }
    expect(job).not.toBeNull();
    const logsOf = async () =>
      (
        await api<{ lines: Array<{ text: string }> }>(
          "GET",
          `/api/v1/projects/default/pipeline-runs/${id}/logs?step=work&limit=1000`,
        )
      ).lines
        .map((l) => l.text)
        .join("");
    // The first server has logged the job's first line before it dies.
    for (let i = 0; i < 600 && !(await logsOf()).includes("started"); i++) await new Promise((r) => setTimeout(r, 200));
    expect(await logsOf()).toContain("started");
    const exited = new Promise((r) => first.child.once("exit", r));
    first.child.kill("SIGKILL");
    await exited;
    return { id, job: job!, logsOf };
  };

  const finished = async (id: string): Promise<RunJson | null> => {
    let run: RunJson | null = null;
    for (let i = 0; i < 600; i++) {
      await new Promise((r) => setTimeout(r, 250));
      run = await api<RunJson>("GET", `/api/v1/projects/default/pipeline-runs/${id}`).catch(() => null);
      if (run && ["succeeded", "failed", "cancelled"].includes(run.status)) break;
    }
    return run;
  };

  it("reattaches to the job and never submits it twice", { timeout: 400_000 }, async () => {
    const { id, job, logsOf } = await runAndKill();
    await startServer();
    const run = await finished(id);
    expect(run?.status, `${JSON.stringify(run?.steps[0])}\n${await logsOf()}`).toBe("succeeded");
    const work = run!.steps.find((s) => s.name === "work")!;
    expect(work.remote_job).toBe(job);
    expect(work.attempt).toBe(1);
    const text = await logsOf();
    expect(text).toContain(`reattaching to slurm job ${job}`);
    // The output the first server logged is not logged again by the second.
    expect(text.split("started").length - 1, text).toBe(1);
    const rows = sacctByName(`tandem.default.long.work.${id.slice(0, 8)}`, "JobID,State");
    expect(rows).toEqual([[job, "COMPLETED"]]);
  });

  it("adopts the job when the server died before storing its id", { timeout: 400_000 }, async () => {
    const { id, job, logsOf } = await runAndKill();
    // What a kill between sbatch and storing its answer leaves: an attempt counted, no job id.
    const db = new Database(join(env.TANDEM_HOME, "tandem.db"));
    db.prepare("update pipeline_step_runs set remote_job = null where run_id = ? and name = 'work'").run(id);
    db.close();
    await startServer();
    const run = await finished(id);
    expect(run?.status, `${JSON.stringify(run?.steps[0])}\n${await logsOf()}`).toBe("succeeded");
    const work = run!.steps.find((s) => s.name === "work")!;
    // Submitted again, the step would have run twice: attempt 2 beside attempt 1's job.
    expect(work.attempt).toBe(1);
    expect(work.remote_job).toBe(job);
    const text = await logsOf();
    expect(text).toContain("no slurm job id was stored for attempt 1");
    expect(text.split("started").length - 1, text).toBe(1);
    expect(sacctByName(`tandem.default.long.work.${id.slice(0, 8)}`, "JobID,State")).toEqual([[job, "COMPLETED"]]);
  });
});
