/**
 * A pipeline registers a version: its steps evaluate a model file and check fairness
 * (tandem/evaluate, tandem/fairness) before tandem/register registers it and asks for `champion`
 * under the `release` policy. The policy holds it for an approval (the step still succeeds and logs
 * the checks); a second user approves and the alias moves. Lineage reaches the pipeline run's steps
 * and the dataset version the first step read.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyOnnx } from "../helpers/onnx.js";
import { byName, sandbox, type Sandbox } from "../pipelines/helpers.js";

const SPEC = `project: default
pipelines:
  train:
    steps:
      prepare:
        run: |
          cp \${{ inputs.raw }} "$TANDEM_OUTPUT_TABLE/data.csv"
        inputs:
          raw: dataset://flights@latest
        outputs:
          table: dir
      train:
        needs: [prepare]
        run: |
          cp model.onnx "$TANDEM_OUTPUT_MODEL/model.onnx"
        outputs:
          model: dir
      evaluate:
        needs: [train]
        uses: tandem/evaluate
        with:
          model: \${{ steps.train.outputs.model }}
          data: \${{ steps.prepare.outputs.table }}
          target: y
          data_ref: flights@3
          compare: [champion]
          model_name: flights-delay
      fairness:
        needs: [train]
        uses: tandem/fairness
        with:
          model: \${{ steps.train.outputs.model }}
          data: \${{ steps.prepare.outputs.table }}
          target: y
          attribute: origin
          data_ref: flights@3
      register:
        needs: [evaluate, fairness]
        uses: tandem/register
        with:
          model: flights-delay
          artifact: \${{ steps.train.outputs.model }}
          alias: champion
          policy: release
          intended_use: Flag flights likely to leave 15 minutes late.
policies:
  release:
    require:
      - metric: roc_auc >= 0.6
      - beats: champion
      - fairness:
          attribute: origin
          metric: demographic_parity_difference
          max: 0.9
      - approvals:
          role: approver
          count: 1
          for_alias: champion
`;

function dataCsv(): string {
  const lines = ["distance,hour,origin,y"];
  for (let i = 0; i < 200; i++) {
    const distance = (i * 7) % 13;
    const hour = (i * 5) % 11;
    const noise = ((i * 3) % 5) - 2;
    lines.push(`${distance},${hour},${i % 2 ? "JFK" : "SFO"},${distance - hour + noise > 0 ? 1 : 0}`);
  }
  return `${lines.join("\n")}\n`;
}

describe("a pipeline registers a version under a policy", () => {
  let box: Sandbox;
  beforeAll(async () => {
    box = await sandbox();
    const data = box.opened.services.data;
    for (const csv of ["distance,hour,origin,y\n1,2,JFK,0\n", dataCsv()]) {
      const blob = await data.putBlob(Readable.from([Buffer.from(csv)]));
      await data.createVersion("admin", "default", "flights", {
        kind: "file",
        entries: [{ path: "flights.csv", sha256: blob.sha256, size: blob.size }],
      });
    }
    writeFileSync(join(box.workspace, "model.onnx"), tinyOnnx({ features: ["distance", "hour"], weights: [1, -1] }));
    await box.apply(SPEC);
    const access = box.opened.services.access;
    await access.addUser("admin", { name: "bob" });
    await access.setMember("admin", { project: "default", userName: "bob", role: "approver" });
  });
  afterAll(async () => box?.close());
  const registry = () => box.opened.services.registry;

  it("evaluates, checks fairness, registers, and leaves the alias awaiting approval", async () => {
    const run = await box.run("train");
    const steps = byName(run);
    expect(run.status, JSON.stringify(run.steps.map((s) => [s.name, s.status, s.error]))).toBe("succeeded");
    expect(steps.evaluate!.metrics.roc_auc).toBeGreaterThan(0.6);
    expect(steps.fairness!.metrics["demographic_parity_difference.origin"]).toBeGreaterThanOrEqual(0);

    const v = await registry().resolve("default", "flights-delay@latest");
    expect(v.version).toBe(1);
    expect(v.author).toBe("admin");
    expect(v.intendedUse).toContain("15 minutes");
    const evaluations = await registry().evaluations("default", "flights-delay@1");
    expect(evaluations.map((e) => e.dataset)).toEqual(["flights@3", "flights@3"]);
    expect(evaluations.some((e) => e.fairness.origin !== undefined)).toBe(true);

    const pending = await registry().requests("default", { modelName: "flights-delay", status: "pending" });
    expect(pending).toHaveLength(1);
    const decision = (await registry().decisions("default", "flights-delay", 1))[0]!;
    expect(decision.checks.map((c) => [c.kind, c.outcome])).toEqual([
      ["metric", "pass"],
      ["beats", "pass"],
      ["fairness", "pass"],
      ["approvals", "pending"],
    ]);
    await expect(registry().resolve("default", "flights-delay@champion")).rejects.toThrow(/no alias champion/);
  });

  it("moves the alias when a second user approves, and the lineage reaches the steps", async () => {
    const { outcomes } = await registry().review({
      actor: "bob",
      role: "approver",
      project: "default",
      ref: "flights-delay@1",
      decision: "approve",
      comment: "ok",
    });
    expect(outcomes.map((o) => o.status)).toEqual(["applied"]);
    expect((await registry().resolve("default", "flights-delay@champion")).version).toBe(1);
    const g = await registry().lineage("default", "flights-delay@champion");
    expect(g.pipelineRun).not.toBeNull();
    expect(g.steps.map((s) => s.tags["tandem.step"]).sort()).toEqual([
      "evaluate",
      "fairness",
      "prepare",
      "register",
      "train",
    ]);
    // The prepare step read dataset://flights@latest, which was version 2 when the run resolved it.
    expect(g.snapshot.datasetVersions).toEqual(["flights@2"]);
    expect((await registry().versionsTrainedOn("default", "flights@2")).map((v) => v.version)).toEqual([1]);
    const card = await registry().card("default", "flights-delay@1");
    expect(card.fairness[0]?.attribute).toBe("origin");
    expect(Object.keys(card.fairness[0]!.byGroup).sort()).toEqual(["JFK", "SFO"]);
  });

  it("refuses a retrained model that does not beat the champion on the same data, failing the register step", async () => {
    writeFileSync(join(box.workspace, "model.onnx"), tinyOnnx({ features: ["distance", "hour"], weights: [1, 0] }));
    const run = await box.run("train", { noCache: true });
    expect(run.status).toBe("failed");
    expect(byName(run).register!.error).toMatch(/policy refused flights-delay@2 → champion: beats champion on roc_auc/);
    const champion = (await registry().evaluations("default", "flights-delay@1")).find(
      (e) => e.runId === byName(run).evaluate!.trackingRunId,
    );
    const beats = (await registry().decisions("default", "flights-delay", 2))[0]!.checks.find(
      (c) => c.kind === "beats",
    )!;
    // The evaluate step scored the champion on the same data, and the check compared the two.
    expect(beats.threshold).toBe(champion!.metrics.roc_auc);
    expect(beats.value as number).toBeLessThan(beats.threshold as number);
    expect((await registry().resolve("default", "flights-delay@champion")).version).toBe(1);
  });
});
