/**
 * A driver that dies after reading the agent's report line but before the job's end reached sacct:
 * it saved its read offset past the report (tail-state.ts), so the driver that reattaches reads no
 * more output, yet must still find the report (the chaos test once failed a step that had succeeded
 * with "the step agent ended without reporting"). The SlurmExecutor itself on the real local cluster.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { StepJob } from "../../src/core/pipelines/ports.js";
import { SlurmExecutor } from "../../src/executors/slurm/slurm-executor.js";
import { slurmCluster } from "../helpers/slurm.js";

const missing = slurmCluster();
if (missing) console.warn(`skipping the Slurm report-reattach test: ${missing}`);

describe.skipIf(missing !== null)("Slurm executor: a report read by the driver that died", () => {
  const dir = mkdtempSync("/tmp/slurm-report-");
  chmodSync(dir, 0o711);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is found again in the job's output by the driver that reattaches", { timeout: 180_000 }, async () => {
    const options = {
      dir,
      defaults: { extra: [] },
      stepUser: "nobody",
      agentArgv: [process.execPath, resolve(import.meta.dirname, "../../dist/executors/agent/main.js")],
      reportKey: randomBytes(32),
      pollMs: 200,
    };
    const runId = `rr${Date.now().toString(36)}`;
    const output: string[] = [];
    const submitted: string[] = [];
    const executor = await SlurmExecutor.create(options);
    const job: StepJob = {
      runId,
      stepId: "s1",
      attempt: 1,
      project: "default",
      pipeline: "p",
      stepName: "only",
      execution: { executor: "slurm", image: null, slurm: {}, kubernetes: {} },
      resources: { memory: "200Mi" },
      workdir: executor.workdir(runId, "s1", 1),
      workspace: null,
      script: "echo line one\necho line two\n",
      inputs: [],
      outputs: [],
      // No inputs or outputs: the agent never calls this address.
      env: { TANDEM_URL: "http://127.0.0.1:9", TANDEM_TOKEN: "t", TANDEM_PROJECT: "default" },
      signal: new AbortController().signal,
      onOutput: (_stream, text) => void output.push(text),
      onSubmitted: async (id) => void submitted.push(id),
    };
    const first = await executor.run(job);
    expect(first, output.join("")).toMatchObject({ outcome: "succeeded", exitCode: 0 });
    expect(output.join("")).toBe("line one\nline two\n");

    // What the dead driver left: its offsets past every line, the report line included.
    const out = join(dir, "jobs", runId, "s1-1.out");
    const err = join(dir, "jobs", runId, "s1-1.err");
    const size = (path: string) => statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    writeFileSync(join(dir, "state", `${runId}-s1-1.json`), JSON.stringify({ out: size(out), err: size(err) }));

    const again: string[] = [];
    const successor = await SlurmExecutor.create(options);
    const second = await successor.run({
      ...job,
      remoteJob: submitted[0]!,
      onOutput: (_stream, text) => void again.push(text),
      onSubmitted: async (id) => void submitted.push(id),
    });
    expect(second).toMatchObject({ outcome: "succeeded", exitCode: 0 });
    expect(again).toEqual([]);
    expect(submitted).toHaveLength(1);
  });
});
