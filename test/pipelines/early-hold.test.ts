/**
 * Steps held before their dependencies have ended (engine/speculate.ts): a step whose only
 * dependency runs has its directory (and, sandboxed, its held process) made meanwhile, and it is
 * still only what its dependency's end decides: a cache hit or a failed dependency never runs the
 * held command, and its directory goes.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { StepRun } from "../../src/core/pipelines/model.js";
import { probeSandbox } from "../../src/executors/local/sandbox.js";
import { SqlPipelineStore } from "../../src/stores/metadata/pipelines-store.js";
import { byName, sandbox, type Sandbox } from "./helpers.js";

let box: Sandbox;
let work: string;
let marks: string;

beforeEach(async () => {
  work = mkdtempSync(join(tmpdir(), "tandem-early-work-"));
  marks = mkdtempSync(join(tmpdir(), "tandem-early-marks-"));
  box = await sandbox({ TANDEM_WORK_DIR: work });
});
afterEach(async () => {
  await box.close();
  rmSync(work, { recursive: true, force: true });
  rmSync(marks, { recursive: true, force: true });
});

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** `first` waits for the test's go (a file named after its run); `then` needs it. */
const spec = (firstEnd: string) => `project: default
pipelines:
  p:
    steps:
      first:
        cache: false
        run: |
          while [ ! -e ${marks}/go-$TANDEM_RUN_ID ]; do sleep 0.02; done
          ${firstEnd}
      then:
        needs: [first]
        run: echo ran >> ${marks}/then.log
`;

/**
 * Starts the pipeline and waits until `then`'s directory appears while `first` still waits for
 * its go (so it can only have been made ahead), then lets `first` end. Answers the ended run and
 * `then`'s directory.
 */
async function runHeldEarly() {
  const pipelines = box.opened.services.pipelines;
  const run = (await pipelines.startRun("admin", "default", { pipeline: "p" }))!;
  const steps = byName(await pipelines.getRun("default", run.id));
  const thenDir = join(work, run.id, `${steps.then!.id}-1`);
  await until("then's directory, made while first runs", () => existsSync(thenDir));
  expect(byName(await pipelines.getRun("default", run.id)).first!.status).toBe("running");
  writeFileSync(join(marks, `go-${run.id}`), "");
  await pipelines.settled(run.id);
  return { ended: await pipelines.getRun("default", run.id), thenDir };
}

const ranLines = () => (existsSync(join(marks, "then.log")) ? readFileSync(join(marks, "then.log"), "utf8") : "");

describe("a step held before its dependency ends", () => {
  it("runs held when its dependency succeeds, and not when its cache hits", { timeout: 60_000 }, async () => {
    await box.apply(spec("true"));
    const first = await runHeldEarly();
    expect(first.ended.status).toBe("succeeded");
    expect(ranLines()).toBe("ran\n");

    const second = await runHeldEarly();
    expect(second.ended.status).toBe("succeeded");
    expect(byName(second.ended).then!.cached).toBe(true);
    expect(ranLines()).toBe("ran\n"); // the held command never ran
    expect(existsSync(second.thenDir)).toBe(false); // its directory went with it
  });

  it("never runs when its dependency fails", { timeout: 60_000 }, async () => {
    await box.apply(spec("exit 3"));
    const { ended, thenDir } = await runHeldEarly();
    expect(ended.status).toBe("failed");
    expect(byName(ended).then!.status).toBe("cancelled");
    expect(ranLines()).toBe("");
    expect(existsSync(thenDir)).toBe(false);
  });

  it.runIf(probeSandbox().isolated)(
    "is recorded running with its held process in one write",
    { timeout: 60_000 },
    async () => {
      // The held sandbox is the process a takeover kills: written with the step's running state, not
      // in a second write once it is let go (Executor.heldProcess).
      const writes = vi.spyOn(SqlPipelineStore.prototype, "updateStep");
      try {
        await box.apply(spec("true").replace(`run: echo ran >> ${marks}/then.log`, "run: sleep 0.2"));
        const { ended } = await runHeldEarly();
        expect(ended.status).toBe("succeeded");
        const then = byName(ended).then!;
        const patches = writes.mock.calls
          .filter(([id]) => id === then.id)
          .map(([, patch]) => patch as Partial<StepRun>);
        const running = patches.filter((p) => p.status === "running");
        expect(running).toHaveLength(1);
        expect(running[0]!.pid).toEqual(expect.any(Number));
        expect(running[0]!.pidStart).toEqual(expect.any(String));
        expect(patches.filter((p) => p.status === undefined && p.pid !== undefined)).toEqual([]);
        expect(then.pid).toBe(running[0]!.pid);
      } finally {
        writes.mockRestore();
      }
    },
  );
});
