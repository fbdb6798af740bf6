/**
 * A finished step's bookkeeping (its last log lines, its tracking run's end) is deferred past its
 * dependants' start and written in groups: steps that end close together share one audited
 * transaction and one insert of log lines (driver.ts DEFER_MS), and all of it is there once the
 * run has ended.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandbox, type Sandbox } from "./helpers.js";

const STEPS = 10;
/** A chain: each step ends in a turn of its own, and its bookkeeping came as one transaction each. */
const SPEC = `project: default
pipelines:
  chain:
    steps:
${Array.from({ length: STEPS }, (_, i) => `      s${i}:\n${i ? `        needs: [s${i - 1}]\n` : ""}        run: "true"\n`).join("")}`;

describe("a run's finished steps' bookkeeping", () => {
  let box: Sandbox;
  beforeAll(async () => {
    box = await sandbox();
    await box.apply(SPEC);
  });
  afterAll(() => box?.close());

  it("is written in groups, and completely before the run ends", async () => {
    const run = await box.run("chain", { noCache: true });
    expect(run.status).toBe("succeeded");
    const { audit, tracking, pipelines } = box.opened.services;
    const events = await audit.list({ project: "default", limit: 1000 });
    const ends = events.filter((e) => e.action === "tracking.run.log");
    // One per step and one for the run (11) when each step's end was written as it came; steps that
    // end within 250 ms of each other share one (3-5 at load 12, steps taking 50-100 ms).
    expect(ends.length).toBeLessThanOrEqual(7);
    for (const step of run.steps) {
      const logs = await pipelines.logs("default", run.id, { step: step.name });
      expect(logs.chunks.map((c) => c.text)).toContain("succeeded (exit 0)");
      expect((await tracking.getRun("default", step.trackingRunId!)).info.status).toBe("FINISHED");
    }
  });
});
