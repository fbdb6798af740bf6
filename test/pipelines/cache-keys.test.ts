/**
 * A built-in step's cache key covers what its `with:` refers to — a dataset version, a project file,
 * a model alias — not the literal text (issue 15's findings), the step runs on exactly what it was
 * keyed on, and the explanation names the part that changed.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyOnnx } from "../helpers/onnx.js";
import { byName, sandbox, type Sandbox } from "./helpers.js";

const SPEC = `project: default
pipelines:
  check:
    steps:
      validate:
        uses: tandem/validate
        with:
          dataset: rows@latest
          expect: expect.yaml
  publish:
    steps:
      pack:
        run: |
          cp \${{ inputs.onnx }} "$TANDEM_OUTPUT_MODEL/model.onnx"
        inputs:
          onnx: model.onnx
        outputs:
          model: dir
      register:
        uses: tandem/register
        with:
          model: m
          artifact: \${{ steps.pack.outputs.model }}
          alias: champion
  score:
    steps:
      pack:
        run: |
          cp \${{ inputs.onnx }} "$TANDEM_OUTPUT_MODEL/model.onnx"
        inputs:
          onnx: candidate.onnx
        outputs:
          model: dir
      evaluate:
        uses: tandem/evaluate
        with:
          model: \${{ steps.pack.outputs.model }}
          model_name: m
          data: \${{ inputs.table }}
          target: y
          compare: [champion]
        inputs:
          table: dataset://rows@1
  ghost:
    steps:
      validate:
        uses: tandem/validate
        with:
          dataset: ghost@latest
          expect: expect.yaml
`;

function rowsCsv(bad: boolean): string {
  const lines = ["distance,hour,y"];
  for (let i = 0; i < 60; i++) {
    const d = (i * 7) % 13;
    const h = (i * 5) % 11;
    lines.push(`${bad && i === 3 ? "" : d},${h},${d - h > 0 ? 1 : 0}`);
  }
  return `${lines.join("\n")}\n`;
}

describe("built-in steps are keyed on what their with: refers to", () => {
  let box: Sandbox;
  const addRows = async (bad: boolean) => {
    const data = box.opened.services.data;
    const blob = await data.putBlob(Readable.from([Buffer.from(rowsCsv(bad))]));
    await data.createVersion("admin", "default", "rows", {
      kind: "file",
      entries: [{ path: "rows.csv", sha256: blob.sha256, size: blob.size }],
    });
  };
  beforeAll(async () => {
    box = await sandbox();
    await addRows(false);
    box.write("expect.yaml", "rows: { min: 10 }\ncolumns:\n  distance: { not_null: true }\n");
    writeFileSync(join(box.workspace, "model.onnx"), tinyOnnx({ features: ["distance", "hour"], weights: [1, -1] }));
    writeFileSync(join(box.workspace, "candidate.onnx"), tinyOnnx({ features: ["distance", "hour"], weights: [1, 0] }));
    await box.apply(SPEC);
  });
  afterAll(async () => box?.close());
  const explain = (run: { id: string }, step: string) =>
    box.opened.services.pipelines.explainCache("default", run.id, step);
  const changed = async (run: { id: string }, step: string) =>
    (await explain(run, step)).parts.filter((p) => p.change !== "same").map((p) => [p.name, p.before?.value, p.value]);

  it("reruns validation on a new dataset version, and fails on bad data", async () => {
    const first = await box.run("check");
    expect(first.status).toBe("succeeded");
    expect((await explain(first, "validate")).summary).toBe(
      "miss: no earlier run of this step made a key to compare with",
    );
    await addRows(true);
    const run = await box.run("check");
    const validate = byName(run).validate!;
    expect(validate.cached).toBe(false);
    expect(run.status).toBe("failed");
    // It validated the version it was keyed on, and says so.
    expect(validate.error).toMatch(/rows@2 failed validation/);
    const v2 = await box.opened.services.data.resolve("default", "rows@2");
    expect(validate.references).toContainEqual({
      field: "dataset",
      kind: "dataset",
      ref: "rows@latest",
      resolved: "rows@2",
      digest: `sha256:${v2.manifestSha}`,
    });
    const why = await explain(run, "validate");
    expect(why.decision).toBe("miss");
    expect(why.comparedWith?.runId).toBe(first.id);
    expect(why.summary).toMatch(/^miss: 1 part of \d+ differ from the nearest earlier key \(run \w+\): with\.dataset$/);
    expect(await changed(run, "validate")).toEqual([["with.dataset", "rows@latest → rows@1", "rows@latest → rows@2"]]);
  });

  it("reruns validation when the expectations file changes; an unchanged rerun is a hit", async () => {
    box.write("expect.yaml", "rows: { min: 10 }\n");
    const run = await box.run("check");
    expect(byName(run).validate!.cached).toBe(false);
    expect(run.status).toBe("succeeded");
    expect((await changed(run, "validate")).map(([name]) => name)).toEqual(["with.expect"]);
    const again = await box.run("check");
    expect(byName(again).validate!.cached).toBe(true);
    const hit = await explain(again, "validate");
    expect(hit.decision).toBe("hit");
    expect(hit.summary).toContain(`stored by step run ${byName(run).validate!.id}`);
    expect(hit.parts.every((p) => p.change === "same")).toBe(true);
  });

  it("keys a missing champion as none, and reruns evaluate when the champion moves", async () => {
    const first = await box.run("score");
    expect(first.status, JSON.stringify(first.steps.map((s) => [s.name, s.error]))).toBe("succeeded");
    expect(byName(first).evaluate!.references).toContainEqual(
      expect.objectContaining({ field: "compare[0]", ref: "m@champion", resolved: null, digest: null }),
    );
    expect(byName(await box.run("score")).evaluate!.cached).toBe(true);
    expect((await box.run("publish")).status).toBe("succeeded");
    const moved = await box.run("score");
    expect(byName(moved).evaluate!.cached).toBe(false);
    expect(await changed(moved, "evaluate")).toEqual([["with.compare[0]", "m@champion → none", "m@champion → m@1"]]);
    // The champion it was keyed on is the one it scored.
    const evaluations = await box.opened.services.registry.evaluations("default", "m@1");
    expect(evaluations.some((e) => e.runId === byName(moved).evaluate!.trackingRunId)).toBe(true);
    expect(byName(await box.run("score")).evaluate!.cached).toBe(true);
  });

  it("fails a step whose dataset does not exist, naming tandem.yaml's line", async () => {
    const run = await box.run("ghost");
    expect(run.status).toBe("failed");
    expect(byName(run).validate!.error).toBe(
      "tandem.yaml:49:20: pipelines.ghost.steps.validate.with.dataset: dataset ghost@latest: no dataset ghost in project default",
    );
  });
});
