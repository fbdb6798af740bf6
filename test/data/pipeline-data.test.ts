/**
 * Datasets in pipelines: `dataset://NAME@latest` materialises the version's file for a step, and
 * `uses: tandem/validate` passes or fails the step, storing its report with the run.
 */
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataTriggerTick, type DataTriggerRun } from "../../src/wiring/data.js";
import { byName, sandbox, type Sandbox } from "../pipelines/helpers.js";

const SPEC = `project: default
pipelines:
  check:
    steps:
      count:
        run: |
          wc -l < \${{ inputs.raw }} > "$TANDEM_OUTPUT_OUT/lines.txt"
        inputs:
          raw: dataset://sales@latest
        outputs:
          out: dir
      validate:
        uses: tandem/validate
        with:
          dataset: sales@latest
          expect: expect-ok.yaml
  ondata:
    triggers:
      - data: sales
    steps:
      hello:
        uses: tandem/echo
        with:
          message: new sales data
  strict:
    steps:
      validate:
        uses: tandem/validate
        with:
          dataset: dataset://sales@latest
          expect: expect-strict.yaml
`;

describe("datasets in pipelines", () => {
  let box: Sandbox;
  beforeAll(async () => {
    box = await sandbox();
    const data = box.opened.services.data;
    const csv = "id,city\n" + Array.from({ length: 30 }, (_, i) => `${i},${i % 3 ? "Oslo" : "Lima"}`).join("\n") + "\n";
    const blob = await data.putBlob(Readable.from([Buffer.from(csv)]));
    await data.createVersion("admin", "default", "sales", {
      kind: "file",
      entries: [{ path: "sales.csv", sha256: blob.sha256, size: blob.size }],
    });
    box.write("expect-ok.yaml", "rows: { min: 10 }\ncolumns:\n  id: { unique: true, not_null: true }\n");
    box.write("expect-strict.yaml", "columns:\n  city: { allowed: [Oslo] }\n");
    await box.apply(SPEC);
  });
  afterAll(async () => box?.close());

  it("materialises dataset://sales@latest as a file and validates it", async () => {
    const run = await box.run("check");
    const steps = byName(run);
    expect(run.status, JSON.stringify(run.steps.map((s) => [s.name, s.status, s.error]))).toBe("succeeded");
    expect(steps.validate!.metrics).toMatchObject({ validation_failed_checks: 0 });
    const stored = await box.opened.services.data.listValidations("default", "sales", 1);
    expect(stored[0]).toMatchObject({ ok: true, runId: run.id });
  });

  it("fails the step when a check fails, with the failing check in its error", async () => {
    const run = await box.run("strict");
    expect(run.status).toBe("failed");
    expect(byName(run).validate!.error).toMatch(/sales@1 failed validation \(1 failed check\)/);
    const stored = await box.opened.services.data.listValidations("default", "sales", 1);
    expect(stored[0]).toMatchObject({ ok: false, runId: run.id });
  });

  it("a new version fires the data trigger once, from the durable event feed", async () => {
    const services = box.opened.services;
    expect(await dataTriggerTick(services)).toBe(0); // first pass: the cursor starts at the end
    const blob = await services.data.putBlob(Readable.from([Buffer.from("id,city\n1,Oslo\n")]));
    await services.data.createVersion("admin", "default", "sales", {
      kind: "file",
      entries: [{ path: "sales.csv", sha256: blob.sha256, size: blob.size }],
    });
    const started: DataTriggerRun[] = [];
    expect(await dataTriggerTick(services, started)).toBe(1);
    expect(await dataTriggerTick(services, started)).toBe(0);
    const runs = await services.pipelines.listRuns("default", { pipeline: "ondata" });
    expect(runs).toHaveLength(1);
    // What the loop logs: the run with the ids an operator searches for.
    expect(started).toEqual([{ project: "default", dataset: "sales@2", pipeline: "ondata", run_id: runs[0]!.id }]);
    await services.pipelines.settled(runs[0]!.id);
  });
});
