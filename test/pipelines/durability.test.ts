/**
 * Crash safety with a real `kill -9`: the process driving a run dies mid-step; `tandem run --resume`
 * (and, the second time, a starting `tandem server`) takes the run over, reruns only the step that
 * was cut short, and keeps what had finished.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { cli, exampleCopy, startCli } from "./cli.js";

const SPEC = `project: durable
pipelines:
  crash:
    steps:
      first:
        run: |
          echo "first ran" >> "$TANDEM_WORKSPACE/first.count"
          echo one > "$TANDEM_OUTPUT_OUT"
        outputs: { out: file }
      second:
        run: |
          echo "$TANDEM_RUN_ID" > "$TANDEM_WORKSPACE/run.id"
          if [ ! -f "$TANDEM_WORKSPACE/second.started" ]; then
            touch "$TANDEM_WORKSPACE/second.started"
            sleep 60
          fi
          cat \${{ steps.first.outputs.out }}
`;

async function waitFor(path: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${path}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface RunJson {
  id: string;
  status: string;
  steps: Array<{ name: string; status: string; attempt: number }>;
}

async function crashMidStep(dir: string, env: Record<string, string>): Promise<string> {
  for (const f of ["second.started", "run.id", "first.count"]) rmSync(join(dir, f), { force: true });
  const { child, done } = startCli(["run", "crash", "--no-cache"], { cwd: dir, env });
  await waitFor(join(dir, "second.started"));
  await waitFor(join(dir, "run.id"));
  const exited = new Promise((r) => child.once("exit", r));
  process.kill(child.pid!, "SIGKILL");
  await exited;
  await done;
  return readFileSync(join(dir, "run.id"), "utf8").trim();
}

describe("kill -9 of the process driving a run", () => {
  const { dir, env } = exampleCopy("pipelines");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "tandem.yaml"), SPEC);

  it("tandem run --resume reruns only the step that was cut short", { timeout: 120_000 }, async () => {
    const runId = await crashMidStep(dir, env);
    // The pid recorded for the cut-short step now names a stranger (pid reuse after a reboot): the
    // takeover must leave it alive. Its recorded start time is its real one from before the "reboot".
    const strangerProcess = spawn("sleep", ["300"], { detached: true, stdio: "ignore" });
    const stranger = strangerProcess.pid!;
    const db = new Database(join(env.TANDEM_HOME!, "tandem.db"));
    const recorded = db
      .prepare("select pid_start from pipeline_step_runs where run_id = ? and name = 'second'")
      .get(runId) as { pid_start: string | null };
    expect(recorded.pid_start).toMatch(/^[0-9a-f-]+:\d+$/);
    db.prepare("update pipeline_step_runs set pid = ? where run_id = ? and name = 'second'").run(stranger, runId);
    db.close();
    const resumed = await cli(["run", "--resume", runId, "--json"], { cwd: dir, env });
    let strangerAlive = true;
    try {
      process.kill(stranger, 0);
    } catch {
      strangerAlive = false;
    }
    process.kill(-stranger, "SIGKILL");
    expect(resumed.code, resumed.stderr).toBe(0);
    const run = JSON.parse(resumed.stdout) as RunJson;
    expect(run.id).toBe(runId);
    expect(run.status).toBe("succeeded");
    expect(run.steps.map((s) => [s.name, s.status])).toEqual([
      ["first", "succeeded"],
      ["second", "succeeded"],
    ]);
    // `first` ran once, before the crash; nothing reran it.
    expect(readFileSync(join(dir, "first.count"), "utf8").trim().split("\n")).toEqual(["first ran"]);
    const logs = await cli(["runs", "logs", runId, "--step", "second"], { cwd: dir, env });
    expect(logs.stdout).toMatch(/taken over from/);
    expect(strangerAlive).toBe(true);
    expect(logs.stdout).toContain(`process ${stranger} on`);
    expect(logs.stdout).toMatch(/left alone: that pid now belongs to another process/);
    // The step has no retries: its second attempt says why it runs, not "attempt 2 of 1".
    expect(logs.stdout).toContain("attempt 2: attempt 1 was interrupted when its driver stopped");
    expect(logs.stdout).not.toMatch(/attempt 2 of 1/);
    // No tracking run is left RUNNING by the dead driver: `second`'s cut-short attempt had its own
    // run, which the takeover ends (KILLED) before the new attempt makes another. (`first`'s end,
    // deferred past its dependants' start, may land either before the kill or by the takeover.)
    const tracked = new Database(join(env.TANDEM_HOME!, "tandem.db"), { readonly: true });
    const runs = tracked
      .prepare(
        `select r.run_name as name, r.status, e.value as endedBy from tracking_runs r
         join tracking_tags t on t.run_id = r.run_id and t.key = 'tandem.pipeline_run' and t.value = ?
         left join tracking_tags e on e.run_id = r.run_id and e.key = 'tandem.ended_by'
         where r.parent_run_id is not null order by r.run_name, r.status`,
      )
      .all(runId) as Array<{ name: string; status: string; endedBy: string | null }>;
    tracked.close();
    expect(runs.map((r) => [r.name, r.status])).toEqual([
      ["first", "FINISHED"],
      ["second", "FINISHED"],
      ["second", "KILLED"],
    ]);
    expect(runs.filter((r) => r.name === "second").map((r) => r.endedBy)).toEqual([null, "takeover"]);
  });

  it("a starting tandem server takes orphaned runs over", { timeout: 120_000 }, async () => {
    const runId = await crashMidStep(dir, env);
    const server = startCli(["server", "--port", "0"], { cwd: dir, env });
    try {
      let status = "";
      const until = Date.now() + 60_000;
      while (status !== "succeeded" && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 500));
        const url = /listening on (http:\/\/\S+)/.exec(server.output().stdout)?.[1];
        if (!url) continue;
        const token = readFileSync(join(env.TANDEM_HOME!, "admin.token"), "utf8").trim();
        const res = await fetch(`${url}/api/v1/projects/durable/pipeline-runs/${runId}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        status = ((await res.json()) as RunJson).status;
      }
      expect(status).toBe("succeeded");
      expect(readFileSync(join(dir, "first.count"), "utf8").trim().split("\n")).toEqual(["first ran"]);
    } finally {
      server.child.kill("SIGTERM");
      await server.done;
    }
  });
});

describe("SIGTERM to the process driving a run (embedded)", () => {
  const { dir, env } = exampleCopy("pipelines");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "tandem.yaml"), SPEC);

  it("stops the steps, releases the run at once and says how to resume it", { timeout: 120_000 }, async () => {
    const { child, done } = startCli(["run", "crash", "--no-cache"], { cwd: dir, env });
    await waitFor(join(dir, "second.started"));
    await waitFor(join(dir, "run.id"));
    const runId = readFileSync(join(dir, "run.id"), "utf8").trim();
    process.kill(child.pid!, "SIGTERM");
    const stopped = await done;
    expect(stopped.code).toBe(143);
    expect(stopped.stderr).toContain(`SIGTERM: stopping run ${runId}`);
    expect(stopped.stderr).toContain(`tandem run --resume ${runId}`);
    // Before, the process died on the signal and the run said "running" with no hint until its lease
    // ran out; now the lease is released on the way out.
    const ls = await cli(["runs", "ls"], { cwd: dir, env });
    expect(ls.stdout).toMatch(new RegExp(`${runId}\\s+crash\\s+running \\(no driver\\)`));
    const show = await cli(["runs", "show", runId], { cwd: dir, env });
    expect(show.stdout).toContain(
      `no driver: the process driving it stopped; continue it with tandem run --resume ${runId}`,
    );
    const resumed = await cli(["run", "--resume", runId, "--json"], { cwd: dir, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((JSON.parse(resumed.stdout) as RunJson).status).toBe("succeeded");
    expect(readFileSync(join(dir, "first.count"), "utf8").trim().split("\n")).toEqual(["first ran"]);
    const after = await cli(["runs", "ls"], { cwd: dir, env });
    expect(after.stdout).not.toContain("no driver");
  });

  /**
   * Runs `first` (which waits 60 s on its first run) and `later` with `concurrency` slots, kills the
   * driver with SIGKILL once `later`'s directory has been made ahead (held-step.ts), and resumes.
   */
  async function killWhileHeld(later: string, concurrency: number): Promise<void> {
    const held = exampleCopy("pipelines");
    const work = join(held.dir, "..", "work");
    const env = { ...held.env, TANDEM_CONCURRENCY: String(concurrency), TANDEM_WORK_DIR: work };
    writeFileSync(
      join(held.dir, "tandem.yaml"),
      `project: held
pipelines:
  wait:
    steps:
      first:
        run: |
          echo "$TANDEM_RUN_ID" > "$TANDEM_WORKSPACE/run.id"
          if [ ! -f "$TANDEM_WORKSPACE/first.started" ]; then touch "$TANDEM_WORKSPACE/first.started"; sleep 60; fi
      later:
${later}
`,
    );
    const { child, done } = startCli(["run", "wait", "--no-cache"], { cwd: held.dir, env });
    await waitFor(join(held.dir, "first.started"));
    const runId = readFileSync(join(held.dir, "run.id"), "utf8").trim();
    // `later`'s directory, made ahead: the moment to die.
    const runDir = join(work, runId);
    const until = Date.now() + 30_000;
    while (!(existsSync(runDir) && readdirSync(runDir).length === 2)) {
      if (Date.now() > until) throw new Error(`no step directory made ahead in ${runDir}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    process.kill(child.pid!, "SIGKILL");
    await done;
    const resumed = await cli(["run", "--resume", runId, "--json"], { cwd: held.dir, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    const run = JSON.parse(resumed.stdout) as RunJson;
    expect(run.steps.map((s) => [s.name, s.status])).toEqual([
      ["first", "succeeded"],
      ["later", "succeeded"],
    ]);
    const logs = await cli(["runs", "logs", runId, "--step", "later"], { cwd: held.dir, env });
    expect(logs.stdout).toContain("later ran");
  }

  it("a step made ready ahead, but never started, runs on resume", { timeout: 120_000 }, async () => {
    // With one slot, `later` waits while `first` runs, its directory and sandbox made ahead
    // (held-step.ts) before its attempt is recorded; the driver dies then. The resumed run found that
    // directory and failed the step on its links ("EEXIST ... symlink").
    await killWhileHeld("        run: echo later ran", 1);
  });

  it("a step held before its dependency ended runs on resume", { timeout: 120_000 }, async () => {
    // `later` needs `first`: held while `first` runs (engine/speculate.ts), as above.
    await killWhileHeld("        needs: [first]\n        run: echo later ran", 2);
  });
});
