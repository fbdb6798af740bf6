/**
 * Steps made ready ahead of their slot (held-step.ts): the spawner holds a gated process until `go`
 * and kills it on `drop`, with either helper; the local executor's prepare holds a sandboxed step
 * before its command, which runs only once `run` lets it (and never when the preparation is undone).
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FsArtifactStore } from "../../stores/artifacts/fs-artifact-store.js";
import type { StepJob } from "../../core/pipelines/ports.js";
import { stepExecution } from "../../core/pipelines/spec/executors.js";
import { LocalExecutor } from "./local-executor.js";
import { probeSandbox } from "./sandbox.js";
import { StepSpawner, type SpawnHandle } from "./spawner.js";

const hasPython = ["/usr/bin/python3", "/usr/local/bin/python3"].some((p) => existsSync(p));
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Held {
  handle: SpawnHandle;
  ended: Promise<{ stdout: string; code: number | null; signal: string | null }>;
  settled: () => boolean;
}

/** bash that reads one byte from the gate's descriptor ($0), then says what it read. */
function holdBash(spawner: StepSpawner, dir: string): Held {
  let stdout = "";
  let done = false;
  let handle!: SpawnHandle;
  const ended = new Promise<{ stdout: string; code: number | null; signal: string | null }>((resolve) => {
    handle = spawner.spawn(
      {
        file: "/bin/bash",
        args: ["-c", 'read -r -n 1 byte <&"$0"; echo "went $byte"', "GATE"],
        cwd: dir,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
        gate: 2,
      },
      {
        started: () => undefined,
        output: (_stream, text) => (stdout += text),
        ended: (code, signal) => ((done = true), resolve({ stdout, code, signal })),
        failed: (message) => ((done = true), resolve({ stdout: message, code: null, signal: null })),
      },
    );
  });
  return { handle, ended, settled: () => done };
}

const kinds = hasPython ? (["python", "node"] as const) : (["node"] as const);

describe.each(kinds)("a held spawn (%s helper)", (kind) => {
  const spawner = new StepSpawner(kind);
  afterAll(() => spawner.close());
  const dir = mkdtempSync(join(tmpdir(), "tandem-held-"));

  it("starts nothing until go, then runs as any other", async () => {
    const held = holdBash(spawner, dir);
    await pause(300);
    expect(held.settled()).toBe(false);
    held.handle.go();
    expect(await held.ended).toEqual({ stdout: "went g\n", code: 0, signal: null });
    expect(spawner.helperKind()).toBe(kind);
  });

  it("kills the held process on drop: it never gets past its gate", async () => {
    const held = holdBash(spawner, dir);
    await pause(200);
    held.handle.drop();
    expect(await held.ended).toEqual({ stdout: "", code: null, signal: "SIGKILL" });
  });
});

describe.runIf(probeSandbox().isolated)("LocalExecutor.prepare", () => {
  afterAll(() => StepSpawner.shared().close());

  async function setup() {
    const root = mkdtempSync(join(tmpdir(), "tandem-prepare-"));
    const executor = await LocalExecutor.create({
      root: join(root, "work"),
      artifacts: await FsArtifactStore.create({ root: join(root, "artifacts") }),
      keepWorkdirs: true,
    });
    const job = (stepId: string): StepJob => ({
      runId: "run",
      stepId,
      attempt: 1,
      project: "p",
      pipeline: "pl",
      stepName: stepId,
      execution: stepExecution({}),
      resources: {},
      workdir: executor.workdir("run", stepId, 1),
      workspace: null,
      script: "echo ran > marker && cat /proc/1/cmdline | tr '\\0' ' '",
      inputs: [],
      outputs: [],
      env: {},
      signal: new AbortController().signal,
      onOutput: () => undefined,
    });
    return { executor, job };
  }

  it("holds the sandboxed step before its command until run", async () => {
    const { executor, job } = await setup();
    const step = job("a");
    let output = "";
    step.onOutput = (_stream, text) => (output += text);
    executor.prepare(step);
    await pause(500);
    expect(existsSync(step.workdir)).toBe(true); // the directory is made
    expect(existsSync(join(step.workdir, "marker"))).toBe(false); // the command is not run
    const result = await executor.run(step);
    expect(result.outcome).toBe("succeeded");
    expect(readFileSync(join(step.workdir, "marker"), "utf8")).toBe("ran\n");
    expect(output).toMatch(/bwrap .* --block-fd \d+ -- /); // pid 1 of its namespace: the held sandbox
  });

  it("starts anew a step whose job is not the one it was held for", async () => {
    // A step held before its dependencies ended (speculate.ts) is let go only for the same start.
    const { executor, job } = await setup();
    const early = { ...job("c"), env: { WHEN: "early" }, script: 'echo "$WHEN"; tr "\\0" " " < /proc/1/cmdline' };
    executor.prepare(early);
    await pause(300);
    let output = "";
    const late = { ...early, env: { WHEN: "late" }, onOutput: (_stream: string, text: string) => (output += text) };
    expect((await executor.run(late)).outcome).toBe("succeeded");
    expect(output).toMatch(/^late\n/);
    expect(output).not.toMatch(/--block-fd/); // a new sandbox, not the held one
  });

  it("answers the held process before run: the one run lets go, none for another start", async () => {
    const { executor, job } = await setup();
    const step = job("d");
    executor.prepare(step);
    for (let i = 0; i < 100 && !executor.heldProcess(step); i++) await pause(50);
    const held = executor.heldProcess(step);
    expect(held?.pid).toEqual(expect.any(Number));
    expect(executor.heldProcess({ ...step, env: { OTHER: "1" } })).toBeNull(); // run would start anew
    let started: unknown = null;
    const result = await executor.run({ ...step, onStarted: (info) => (started = info) });
    expect(result.outcome).toBe("succeeded");
    expect(started).toEqual(held);
    expect(executor.heldProcess(step)).toBeNull(); // taken by its run
  });

  it("never runs a step whose preparation is undone", async () => {
    const { executor, job } = await setup();
    const step = job("b");
    const undo = executor.prepare(step);
    await pause(300);
    undo();
    await pause(500);
    expect(existsSync(join(step.workdir, "marker"))).toBe(false);
    await StepSpawner.shared().close(); // nothing is left pending: the held sandbox was killed
    expect(StepSpawner.shared().helperPid()).toBe(null);
  });
});
