/**
 * The Slurm executor when Slurm cannot say how a job ended. Accounting down (slurmdbd or its
 * database: sacct fails "Unable to connect to database"): steps still finish, from squeue's own
 * state and exit status. The controller not answering: the step fails after a bound, saying why,
 * and its job is cancelled, instead of waiting forever.
 *
 * The failing commands are stand-ins put first on PATH (scripts that print Slurm's own errors and
 * exit 1) for sacct and for the state poll (`squeue -h -t all -O …`); everything else is the real
 * local cluster.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { slurmCluster } from "../helpers/slurm.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const missing = slurmCluster();
if (missing) console.warn(`skipping the Slurm unknown-state tests: ${missing}`);

const SPEC = `pipelines:
  ok:
    executor: slurm
    steps:
      fine:
        run: echo fine
      three:
        run: exit 3
  lost:
    executor: slurm
    steps:
      sleeper:
        run: sleep 30
`;

interface RunJson {
  id: string;
  status: string;
  steps: Array<{
    name: string;
    status: string;
    exit_code: number | null;
    error: string | null;
    remote_job: string | null;
  }>;
}

describe.skipIf(missing !== null)("Slurm executor when Slurm cannot say how a job ended", () => {
  const wrappers = mkdtempSync("/tmp/slurm-wrap-");
  const failing = (command: string) => join(wrappers, `fail-${command}`);
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    writeFileSync(
      join(wrappers, "sacct"),
      `#!/bin/sh\nif [ -e ${failing("sacct")} ]; then echo "sacct: error: Problem talking to the database: Connection refused" >&2; exit 1; fi\nexec /usr/bin/sacct "$@"\n`,
    );
    writeFileSync(
      join(wrappers, "squeue"),
      `#!/bin/sh\nif [ -e ${failing("squeue")} ] && [ "$1" = -h ] && [ "$4" = -O ]; then echo "squeue: error: Unable to contact slurm controller (connect failure)" >&2; exit 1; fi\nexec /usr/bin/squeue "$@"\n`,
    );
    chmodSync(join(wrappers, "sacct"), 0o755);
    chmodSync(join(wrappers, "squeue"), 0o755);
    process.env.PATH = `${wrappers}:${process.env.PATH}`;
    dir = mkdtempSync("/tmp/slurm-unknown-");
    server = await startTestServer({
      env: {
        TANDEM_SLURM_DIR: dir,
        TANDEM_SLURM_POLL_MS: "200",
        TANDEM_SLURM_SACCT_GRACE_S: "1",
        TANDEM_SLURM_LOST_AFTER_S: "3",
      },
    });
    const applied = await server.api("POST", "/api/v1/projects/default/specs", { source: SPEC });
    expect(applied.status, JSON.stringify(applied.body)).toBeLessThan(300);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(wrappers, { recursive: true, force: true });
  });

  const start = async (pipeline: string) =>
    (
      await server.api<{ id: string }>("POST", `/api/v1/projects/default/pipelines/${pipeline}/runs`, {
        no_cache: true,
      })
    ).body.id;
  const get = async (id: string) =>
    (await server.api<RunJson>("GET", `/api/v1/projects/default/pipeline-runs/${id}`)).body;
  const settle = async (id: string) => {
    const until = Date.now() + 150_000;
    for (;;) {
      const run = await get(id);
      if (["succeeded", "failed", "cancelled"].includes(run.status)) return run;
      if (Date.now() > until) throw new Error(`run ${id} still ${run.status}: ${JSON.stringify(run.steps)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };

  it("finishes steps from squeue's state and exit status while sacct fails", { timeout: 180_000 }, async () => {
    writeFileSync(failing("sacct"), "");
    try {
      const run = await settle(await start("ok"));
      const steps = Object.fromEntries(run.steps.map((s) => [s.name, s]));
      expect(steps.fine!.status, JSON.stringify(run.steps)).toBe("succeeded");
      expect(steps.three!.status).toBe("failed");
      expect(steps.three!.exit_code).toBe(3);
      expect(steps.three!.error).toBe("exited with code 3");
    } finally {
      rmSync(failing("sacct"), { force: true });
    }
  });

  it(
    "fails the step, saying why, and cancels its job when the controller does not answer",
    { timeout: 180_000 },
    async () => {
      const id = await start("lost");
      let job: string | null = null;
      for (let i = 0; i < 600 && !job; i++) {
        await new Promise((r) => setTimeout(r, 200));
        const step = (await get(id)).steps[0]!;
        if (step.status === "running" && step.remote_job) job = step.remote_job;
      }
      expect(job).not.toBeNull();
      writeFileSync(failing("squeue"), "");
      writeFileSync(failing("sacct"), "");
      try {
        const run = await settle(id);
        expect(run.status).toBe("failed");
        expect(run.steps[0]!.error).toMatch(
          new RegExp(
            `^the state of Slurm job ${job} could not be learned for \\d+ s: squeue fails \\(Unable to contact slurm controller`,
          ),
        );
      } finally {
        rmSync(failing("squeue"), { force: true });
        rmSync(failing("sacct"), { force: true });
      }
      // Its job does not run on beside a retry: cancelled, as the real squeue says.
      const { execFileSync } = await import("node:child_process");
      const state = execFileSync("/usr/bin/squeue", ["-h", "-t", "all", "-j", job!, "-o", "%T"], { encoding: "utf8" });
      expect(state.trim()).toMatch(/^(CANCELLED|COMPLETING)?$/);
    },
  );
});
