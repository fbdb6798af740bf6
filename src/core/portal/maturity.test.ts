import { describe, expect, it } from "vitest";
import { gradeMaturity } from "./maturity.js";
import type { Criterion, MaturityReport } from "./maturity-model.js";
import { levelOneHistory, levelTwoHistory, levelZeroHistory, NOW } from "../../../test/fixtures/maturity-histories.js";

const LEVEL_1 = [
  "orchestrated_pipeline",
  "continuous_training",
  "data_validation_gate",
  "model_validation_gate",
  "lineage_complete",
  "non_manual_trigger",
  "model_cd",
];
const LEVEL_2 = ["pipeline_ci", "online_check", "monitoring_loop", "serving_checks"];

const byId = (r: MaturityReport, id: string): Criterion => {
  const c = r.criteria.find((x) => x.id === id);
  if (!c) throw new Error(`no criterion ${id}`);
  return c;
};
/** The ids of the records a criterion cites. */
const cited = (r: MaturityReport, id: string) => byId(r, id).evidence.map((e) => `${e.kind}:${e.id}`);

describe("maturity graded from evidence", () => {
  it("level 0: one manual script, a version with no run, an endpoint that logs nothing, no release in 90 days", () => {
    const r = gradeMaturity(levelZeroHistory(), NOW);
    expect(r.level).toBe(0);
    expect(r.total).toBe(11);
    expect(r.passed).toBe(0);
    for (const c of r.criteria) {
      expect(c.passed, c.id).toBe(false);
      expect(c.evidence, c.id).toEqual([]);
      expect(c.next_step, c.id).toMatch(/\w/);
    }
    expect(r.criteria.map((c) => c.id)).toEqual([...LEVEL_1, ...LEVEL_2]);
    expect(r.signs.map((s) => [s.id, s.evidence.map((e) => e.id)])).toEqual([
      ["version_without_run", ["churn/1"]],
      ["endpoint_without_logging", ["churn"]],
      ["no_recent_release", ["dep-old"]],
    ]);
    expect(r.signs[2]!.evidence[0]!.note).toBe("last release 200 days ago");
  });

  it("level 1: every level-1 criterion cites the nightly run, its decision, version, spec and deployment", () => {
    const r = gradeMaturity(levelOneHistory(), NOW);
    expect(r.level).toBe(1);
    expect(r.passed).toBe(7);
    expect(cited(r, "orchestrated_pipeline")).toEqual(["run:run-nightly-7"]);
    expect(cited(r, "continuous_training")).toEqual(["run:run-nightly-7"]);
    expect(cited(r, "data_validation_gate")).toEqual(["run:run-nightly-7"]);
    expect(byId(r, "data_validation_gate").evidence[0]!.note).toBe("validate ran before training and passed");
    expect(cited(r, "model_validation_gate")).toEqual(["decision:dec-release-2"]);
    expect(cited(r, "lineage_complete")).toEqual(["model_version:flights-delay/2"]);
    expect(cited(r, "non_manual_trigger")).toEqual(["spec:3"]);
    expect(cited(r, "model_cd")).toEqual(["deployment:dep-auto-2"]);
    for (const id of LEVEL_2) expect(byId(r, id).passed, id).toBe(false);
    expect(byId(r, "pipeline_ci").next_step).toMatch(/git: trigger/);
    expect(r.signs).toEqual([]);
    expect(byId(r, "orchestrated_pipeline").evidence[0]!.href).toBe("/p/flights/pipeline-runs/run-nightly-7");
  });

  it("level 2: CI on a push, a canary judged online, and the drift alert's retrain ending in a decision", () => {
    const r = gradeMaturity(levelTwoHistory(), NOW);
    expect(r.level).toBe(2);
    expect([r.passed, r.total]).toEqual([11, 11]);
    expect(cited(r, "pipeline_ci")).toEqual(["run:run-push-8"]);
    expect(cited(r, "online_check")).toEqual(["decision:dec-canary-3", "deployment:dep-canary-3"]);
    expect(cited(r, "monitoring_loop")).toEqual(["alert:alert-drift-1", "run:run-retrain-9"]);
    expect(byId(r, "monitoring_loop").evidence[0]!.note).toBe("flights-drift → run run-retr → flights-delay v3: pass");
    expect(cited(r, "serving_checks")).toEqual(["endpoint:flights-delay"]);
    expect(cited(r, "continuous_training")).toEqual(["run:run-retrain-9", "run:run-nightly-7"]);
    for (const c of r.criteria) expect(c.next_step, c.id).toBeNull();
  });

  it("a validation gate that failed and stopped the run before training is evidence too", () => {
    const h = levelOneHistory();
    const [nightly] = h.runs;
    h.runs = [
      {
        ...nightly!,
        id: "run-bad-data",
        status: "failed",
        steps: [
          { name: "validate", status: "failed" },
          { name: "train", status: "skipped" },
        ],
      },
    ];
    const r = gradeMaturity(h, NOW);
    expect(byId(r, "data_validation_gate").evidence.map((e) => e.note)).toEqual([
      "validate failed and the run stopped before training",
    ]);
    // The failed run shows the gate but no orchestrated or continuous training.
    expect(byId(r, "orchestrated_pipeline").passed).toBe(false);
    expect(r.level).toBe(0);
  });

  it("a human approval in the decision is not model CD; an approval waived by its `unless` checks is", () => {
    const h = levelOneHistory();
    h.decisions[0]!.checks.push({ kind: "approvals", outcome: "pass", policy: "release", waived: false });
    expect(byId(gradeMaturity(h, NOW), "model_cd").passed).toBe(false);
    h.decisions[0]!.checks[2]!.waived = true;
    expect(byId(gradeMaturity(h, NOW), "model_cd").passed).toBe(true);
  });

  it("lineage without a commit or data versions is not complete, and a training step after no validation is no gate", () => {
    const h = levelOneHistory();
    h.versions[0]!.gitCommit = null;
    h.runs[0]!.spec = { ...h.runs[0]!.spec!, steps: h.runs[0]!.spec!.steps.map((s) => ({ ...s, upstream: [] })) };
    const r = gradeMaturity(h, NOW);
    expect(byId(r, "lineage_complete").passed).toBe(false);
    expect(byId(r, "data_validation_gate").passed).toBe(false);
    expect(r.level).toBe(0);
  });
});
