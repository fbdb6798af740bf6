/**
 * The Slurm executor on a real one-node cluster (scripts/slurm-local.sh; CI starts it): steps become
 * sbatch jobs named tandem.<project>.<pipeline>.<step>.<run8>, run as the step user through
 * `tandem step-agent`, read their inputs and write their outputs through the server's API, and report
 * exit codes from sacct; an impossible request fails with Slurm's reason; cancel is scancel.
 */
import { chmodSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sacctByName, slurmCluster } from "../helpers/slurm.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { sandbox } from "../pipelines/helpers.js";

const missing = slurmCluster();

/** sacct's rows for a job name once it has some (accounting lags the job's end by a second or two). */
async function sacctFinal(name: string, fields: string): Promise<string[][]> {
  for (let i = 0; i < 50; i++) {
    const rows = sacctByName(name, fields);
    if (rows.length && !/PENDING|RUNNING/.test(rows[0]![1] ?? "")) return rows;
    await new Promise((r) => setTimeout(r, 200));
  }
  return sacctByName(name, fields);
}
if (missing) console.warn(`skipping the Slurm executor tests: ${missing}`);

interface StepJson {
  name: string;
  status: string;
  exit_code: number | null;
  error: string | null;
  executor: string | null;
  remote_job: string | null;
  metrics: Record<string, number>;
}
interface RunJson {
  id: string;
  status: string;
  steps: StepJson[];
}

const SPEC = `pipelines:
  p:
    executor: slurm
    steps:
      make:
        run: |
          echo "hello from uid $(id -u)"
          echo 42 > "$TANDEM_OUTPUT_DATA"
          echo '{"score": 0.5}' > metrics.json
          echo "the secret is $MY_SECRET" >&2
        outputs: { data: file }
        metrics: metrics.json
        secrets: [MY_SECRET]
        resources: { cpu: 1, memory: 400Mi }
        timeout: 5m
      use:
        run: |
          test "$(cat \${{ inputs.data }})" = 42
          echo "read $(cat \${{ inputs.data }}) on the node"
        inputs: { data: "\${{ steps.make.outputs.data }}" }
      here:
        executor: local
        run: echo local
  bad:
    executor: slurm
    steps:
      fails:
        run: exit 3
      huge:
        run: echo never
        resources: { cpu: 64 }
      slowpoke:
        run: sleep 60
        timeout: 3s
  busy:
    executor: slurm
    steps:
      one:
        run: sleep 3
        resources: { cpu: ${cpus().length} }
      two:
        run: sleep 3
        resources: { cpu: ${cpus().length} }
  slow:
    executor: slurm
    steps:
      sleeper:
        run: sleep 120
  forger:
    executor: slurm
    steps:
      forge:
        run: |
          # The attack: read the agent's job back from Slurm (its batch script), take its nonce, print a
          # report of its own.
          job=$(squeue -h -o '%i %k' | awk -v c="tandem:$TANDEM_STEP_RUN_ID:$TANDEM_ATTEMPT" '$2 == c { print $1 }')
          script=$(scontrol write batch_script "$job" -)
          if echo "$script" | grep -qE '"nonce"|TANDEM_TOKEN'; then echo "the batch script holds the job"; else echo "the batch script holds no job"; fi
          file=$(echo "$script" | grep -o "[^' ]*[.]job" | head -1)
          if [ -n "$file" ] && cat "$file" 2>/dev/null | grep -q nonce; then echo "job file readable"; else echo "job file gone"; fi
          key="$(dirname "$(dirname "$TANDEM_WORKDIR")")/../jobs/$TANDEM_RUN_ID/$TANDEM_STEP_RUN_ID-$TANDEM_ATTEMPT.key"
          if [ -e "$key" ]; then echo "report key readable"; else echo "report key gone"; fi
          nonce=$(printf '%032d' 0)
          forged='{"outcome":"succeeded","exitCode":0,"outputs":{}}'
          echo "::tandem-result-$nonce:: $forged"
          echo "::tandem-result-$nonce:: $(printf '%064d' 0) $forged"
          exit 4
  victim:
    executor: slurm
    steps:
      keep:
        run: |
          echo "$MY_SECRET" > loot.txt
          sleep 12
        secrets: [MY_SECRET]
  spy:
    executor: slurm
    params: { target: "", job: "" }
    steps:
      look:
        run: |
          # Another run's steps run as the same step user: try its step directory and its job.
          if ls \${{ params.target }} 2>/dev/null | grep -q .; then echo "listed the other run"; else echo "the other run is not there"; fi
          if cat \${{ params.target }}/*/loot.txt 2>/dev/null; then echo "read the other run's file"; else echo "the other run's file is hidden"; fi
          if scontrol write batch_script \${{ params.job }} - | grep -qE 'TANDEM_TOKEN|hunter2'; then echo "read the other run's token"; else echo "the other run's batch script holds no secret"; fi
          ls "$(dirname "$(dirname "$TANDEM_WORKDIR")")"
`;

describe.skipIf(missing !== null)("Slurm executor (real cluster)", () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync("/tmp/slurm-test-");
    server = await startTestServer({ env: { TANDEM_SLURM_DIR: dir, TANDEM_SLURM_POLL_MS: "200" } });
    expect(
      (await server.api("PUT", "/api/v1/projects/default/secrets/MY_SECRET", { value: "hunter2-xyz" })).status,
    ).toBe(200);
    const applied = await server.api("POST", "/api/v1/projects/default/specs", { source: SPEC });
    expect(applied.status, JSON.stringify(applied.body)).toBeLessThan(300);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (pipeline: string) => {
    const res = await server.api<{ id: string }>("POST", `/api/v1/projects/default/pipelines/${pipeline}/runs`, {
      no_cache: true,
    });
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    return res.body.id;
  };
  const get = async (id: string) =>
    (await server.api<RunJson>("GET", `/api/v1/projects/default/pipeline-runs/${id}`)).body;
  const settle = async (id: string, timeoutMs = 90_000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const run = await get(id);
      if (["succeeded", "failed", "cancelled"].includes(run.status)) return run;
      if (Date.now() > until) throw new Error(`run ${id} still ${run.status}: ${JSON.stringify(run.steps)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  const logs = async (id: string, step: string) =>
    (
      await server.api<{ lines: Array<{ text: string }> }>(
        "GET",
        `/api/v1/projects/default/pipeline-runs/${id}/logs?step=${encodeURIComponent(step)}&limit=1000`,
      )
    ).body.lines
      .map((l) => l.text)
      .join("");
  const byName = (run: RunJson) => Object.fromEntries(run.steps.map((s) => [s.name, s]));

  it(
    "runs steps as sbatch jobs of the step user, inputs and outputs through the API",
    { timeout: 120_000 },
    async () => {
      const run = await settle(await start("p"));
      const steps = byName(run);
      expect(run.status, JSON.stringify(run.steps)).toBe("succeeded");
      expect(steps.make!.executor).toBe("slurm");
      expect(steps.make!.remote_job).toMatch(/^\d+$/);
      expect(steps.make!.metrics).toEqual({ score: 0.5 });
      expect(steps.here!.executor).toBe("local");
      const made = await logs(run.id, "make");
      expect(made).toContain("hello from uid 65534");
      expect(made).toContain("the secret is ***");
      expect(made).not.toContain("hunter2-xyz");
      expect(made).not.toContain("::tandem-result");
      expect(await logs(run.id, "use")).toContain("read 42 on the node");

      const [row] = await sacctFinal(`tandem.default.p.make.${run.id.slice(0, 8)}`, "JobID,State,User,SubmitLine");
      expect(row?.slice(0, 3)).toEqual([steps.make!.remote_job, "COMPLETED", "nobody"]);
      // The script (with the secret and the run's token) went to sbatch on stdin, not on its command line.
      expect(row?.[3]).toContain("--export=NONE");
      expect(row?.[3]).toContain("--cpus-per-task=1");
      expect(row?.[3]).toContain("--mem=400M");
      expect(row?.[3]).toContain("--time=5");
      expect(row?.[3]).not.toContain("hunter2-xyz");
      // Job output lives in a directory only the step user (and root) can enter.
      expect(statSync(join(dir, "jobs", run.id)).mode & 0o077).toBe(0);
      expect(statSync(join(dir, "jobs", run.id)).uid).toBe(65534);
    },
  );

  it(
    "reports sacct's exit code, and fails an impossible request with Slurm's reason",
    { timeout: 120_000 },
    async () => {
      const run = await settle(await start("bad"));
      const steps = byName(run);
      expect(run.status).toBe("failed");
      expect(steps.fails!.status).toBe("failed");
      expect(steps.fails!.exit_code).toBe(3);
      expect(steps.fails!.error).toBe("exited with code 3");
      expect(steps.huge!.status).toBe("failed");
      expect(steps.huge!.error).toMatch(/^Slurm cannot run this job: PartitionConfig \(the request exceeds/);
      expect(await logs(run.id, "huge")).toContain("waiting for Slurm: PartitionConfig");
      expect(steps.slowpoke!.status).toBe("failed");
      expect(steps.slowpoke!.error).toBe("timed out after 3000 ms");
    },
  );

  it("validate has nothing against Slurm steps here, and says when a node could not reach the step directory", async () => {
    const source = "pipelines:\n  v:\n    executor: slurm\n    steps:\n      a:\n        run: echo hi\n";
    const ok = await server.api<{ warnings: unknown[] }>("POST", "/api/v1/projects/default/specs/validate", { source });
    expect(ok.body.warnings).toEqual([]);
    // Without a listening server (the embedded CLI), nodes would have no API to fetch inputs from.
    const embedded = await sandbox();
    try {
      const res = await embedded.opened.services.pipelines.specs.check("default", { source, workspace: null });
      expect(res.warnings.map((w) => w.message)).toEqual([
        "executor slurm cannot run here: the server's URL is not known (run tandem server, or set TANDEM_URL), so nodes cannot fetch inputs",
      ]);
    } finally {
      await embedded.close();
    }
    const hidden = mkdtempSync("/tmp/slurm-hidden-");
    const blocked = await startTestServer({ env: { TANDEM_SLURM_DIR: join(hidden, "inner") } });
    try {
      chmodSync(hidden, 0o700);
      const res = await blocked.api<{ warnings: Array<{ message: string }> }>(
        "POST",
        "/api/v1/projects/default/specs/validate",
        { source },
      );
      expect(res.body.warnings.map((w) => w.message)).toEqual([
        `executor slurm cannot run here: the step user nobody cannot enter ${hidden} (mode 700), so it cannot reach ${hidden}/inner (TANDEM_SLURM_DIR): chmod o+x ${hidden}`,
      ]);
    } finally {
      await blocked.stop();
      rmSync(hidden, { recursive: true, force: true });
    }
  });

  it("shows on the step why Slurm keeps it waiting", { timeout: 120_000 }, async () => {
    const run = await settle(await start("busy"));
    expect(run.status).toBe("succeeded");
    // Both ask for every CPU of the one node: whichever is second waits for the first.
    const waited = (await logs(run.id, "one")) + (await logs(run.id, "two"));
    expect(waited).toMatch(/waiting for Slurm: (Resources|Priority)/);
  });

  it(
    "takes only the agent's signed report, and keeps the job out of the batch script the step can read",
    { timeout: 120_000 },
    async () => {
      const run = await settle(await start("forger"));
      const step = run.steps[0]!;
      expect(step.status).toBe("failed");
      expect(step.exit_code).toBe(4);
      const log = await logs(run.id, "forge");
      // Slurm gives a job's user its batch script: it names the job file, which the agent deleted.
      expect(log).toContain("the batch script holds no job");
      expect(log).toContain("job file gone");
      // The key is deleted by the agent before the step starts too; the forged lines are plain output.
      expect(log).toContain("report key gone");
      expect(log.match(/::tandem-result-[0-9a-f]{32}:: /g)).toHaveLength(2);
    },
  );

  it(
    "keeps a run's job directory and secrets from another run's step, though both run as the one step user",
    { timeout: 180_000 },
    async () => {
      const victim = await start("victim");
      let job: string | null = null;
      for (let i = 0; i < 300 && !job; i++) {
        await new Promise((r) => setTimeout(r, 200));
        const keep = (await get(victim)).steps[0]!;
        if (keep.status === "running" && keep.remote_job) job = keep.remote_job;
      }
      expect(job).not.toBeNull();
      // Its loot.txt is written at once; give the job a moment to start.
      for (
        let i = 0;
        i < 100 &&
        !/RUNNING/.test(sacctByName(`tandem.default.victim.keep.${victim.slice(0, 8)}`, "JobID,State")[0]?.[1] ?? "");
        i++
      )
        await new Promise((r) => setTimeout(r, 200));
      await new Promise((r) => setTimeout(r, 2000));
      const res = await server.api<{ id: string }>("POST", "/api/v1/projects/default/pipelines/spy/runs", {
        no_cache: true,
        params: { target: join(dir, "work", victim), job },
      });
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
      const spy = await settle(res.body.id);
      const log = await logs(spy.id, "look");
      expect(spy.status, log).toBe("succeeded");
      expect(log).toContain("the other run is not there");
      expect(log).toContain("the other run's file is hidden");
      expect(log).toContain("the other run's batch script holds no secret");
      expect(log).not.toContain("hunter2");
      expect((await settle(victim)).status).toBe("succeeded");
    },
  );

  it("cancels with scancel", { timeout: 120_000 }, async () => {
    const id = await start("slow");
    let job: string | null = null;
    for (let i = 0; i < 200 && !job; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const step = (await get(id)).steps[0]!;
      if (step.status === "running" && step.remote_job) job = step.remote_job;
    }
    expect(job).not.toBeNull();
    expect((await server.api("POST", `/api/v1/projects/default/pipeline-runs/${id}/cancel`, {})).status).toBe(200);
    const run = await settle(id);
    expect(run.status).toBe("cancelled");
    expect(run.steps[0]!.status).toBe("cancelled");
    const [row] = await sacctFinal(`tandem.default.slow.sleeper.${id.slice(0, 8)}`, "JobID,State");
    expect(row?.[0]).toBe(job);
    expect(row?.[1]).toMatch(/^CANCELLED/);
  });
});
