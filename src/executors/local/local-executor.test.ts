/**
 * The local executor's step directories: what a step finds in its own (the workspace's entries as
 * links, and `_tandem/` only where it has inputs or outputs), with or without a sandbox.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { StepJob } from "../../core/pipelines/ports.js";
import { stepExecution } from "../../core/pipelines/spec/executors.js";
import { FsArtifactStore } from "../../stores/artifacts/fs-artifact-store.js";
import { LocalExecutor } from "./local-executor.js";
import { StepSpawner } from "./spawner.js";

afterAll(() => StepSpawner.shared().close());

async function setup() {
  const root = mkdtempSync(join(tmpdir(), "tandem-local-"));
  const workspace = join(root, "project");
  mkdirSync(workspace);
  writeFileSync(join(workspace, "data.txt"), "d\n");
  const artifacts = await FsArtifactStore.create({ root: join(root, "artifacts") });
  const executor = await LocalExecutor.create({ root: join(root, "work"), artifacts, keepWorkdirs: true });
  const run = async (stepId: string, script: string, outputs: StepJob["outputs"] = []) => {
    let stdout = "";
    const job: StepJob = {
      runId: "run",
      stepId,
      attempt: 1,
      project: "p",
      pipeline: "pl",
      stepName: stepId,
      execution: stepExecution({}),
      resources: {},
      workdir: executor.workdir("run", stepId, 1),
      workspace,
      script,
      inputs: [],
      outputs,
      env: {},
      signal: new AbortController().signal,
      onOutput: (stream, text) => void (stream === "stdout" && (stdout += text)),
    };
    const result = await executor.run(job);
    return { result, stdout, workdir: job.workdir };
  };
  return { run, artifacts };
}

describe("a local step's directory", () => {
  it("holds the workspace's entries and no _tandem/ when the step has no inputs or outputs", async () => {
    const { run } = await setup();
    // The run's first step makes the run's directory too; the second finds it there.
    for (const step of ["first", "second"]) {
      const { result, stdout } = await run(step, "ls -A");
      expect(result.outcome).toBe("succeeded");
      expect(stdout).toBe("data.txt\n");
    }
  });

  it("has _tandem/outputs/ for declared outputs, a folder output made ahead", async () => {
    const { run, artifacts } = await setup();
    const { result } = await run("out", "echo m > _tandem/outputs/model && echo f > _tandem/outputs/dir/f", [
      { name: "model", kind: "file", path: "_tandem/outputs/model" },
      { name: "dir", kind: "dir", path: "_tandem/outputs/dir" },
    ]);
    expect(result.outcome).toBe("succeeded");
    expect(Object.keys(result.outputs).sort()).toEqual(["dir", "model"]);
    expect(await artifacts.missingBlobs(Object.values(result.outputs))).toEqual([]);
  });
});
