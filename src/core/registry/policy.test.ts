import { describe, expect, it } from "vitest";
import type { Approval, Evaluation } from "./model.js";
import {
  evaluatePolicies,
  parseMetricThreshold,
  policyProblems,
  verdictOf,
  type PolicyEvidence,
  type PolicySpec,
} from "./policy.js";
import { parseModelRef } from "./refs.js";
import { emptyScope } from "./policy-scope.js";

const ev = (
  version: number,
  dataset: string,
  metrics: Record<string, number>,
  fairness: Evaluation["fairness"] = {},
): Evaluation => ({
  id: `${version}-${dataset}`,
  project: "p",
  modelName: "m",
  version,
  dataset,
  metrics,
  fairness,
  curves: null,
  runId: null,
  createdBy: "alice",
  createdAt: 1,
  source: "pipeline",
  pipelineRunId: "run1",
  step: "evaluate",
  stepRunId: "s1",
});
const approval = (user: string, decision: "approve" | "reject", role = "approver", at = 1): Approval => ({
  id: user + at,
  project: "p",
  modelName: "m",
  version: 2,
  userName: user,
  role,
  decision,
  comment: decision === "reject" ? "too slow" : "",
  at,
});
const evidence = (over: Partial<PolicyEvidence> = {}): PolicyEvidence => ({
  target: { kind: "alias", name: "champion" },
  scope: { ...emptyScope("m"), aliases: ["champion"] },
  candidateVersion: 2,
  author: "alice",
  authorNote: "alice started pipeline run r1 by hand",
  evaluations: [],
  sourceRunId: "src",
  runMetrics: {},
  incumbents: {},
  approvals: [],
  canaries: {},
  ...over,
});
const policy = (...require: PolicySpec["require"]): Record<string, PolicySpec> => ({
  release: { accept_manual: false, require },
});

describe("policy evaluation", () => {
  it("reads metric thresholds and reports unreadable ones as failed checks", () => {
    expect(parseMetricThreshold("roc_auc >= 0.70")).toEqual({ metric: "roc_auc", op: ">=", threshold: 0.7 });
    expect(parseMetricThreshold("rmse<3e2")).toEqual({ metric: "rmse", op: "<", threshold: 300 });
    expect(parseMetricThreshold("roc_auc => 0.7")).toMatch(/cannot read/);
    expect(policyProblems(policy({ metric: "auc is good" }))).toEqual([
      expect.stringMatching(/^policies\.release\.require\[0\]\.metric: cannot read/),
    ]);
  });

  it("takes a metric from the newest evaluation, else from the source run", () => {
    const checks = evaluatePolicies(
      policy({ metric: "roc_auc >= 0.7" }, { metric: "f1 > 0.5" }),
      evidence({
        evaluations: [ev(2, "d@2", { roc_auc: 0.8 })],
        runMetrics: { f1: { value: 0.4, source: "pipeline" } },
      }),
    );
    expect(checks.map((c) => [c.value, c.outcome, c.detail])).toEqual([
      [0.8, "pass", "evaluation on d@2, pipeline run run1 step evaluate"],
      [0.4, "fail", "source run src (pipeline)"],
    ]);
    expect(verdictOf(checks)).toBe("fail");
  });

  it("fails a metric nobody recorded", () => {
    const [c] = evaluatePolicies(policy({ metric: "r2 >= 0.1" }), evidence());
    expect(c).toMatchObject({
      outcome: "fail",
      value: null,
      detail: "no r2 recorded for this version by a pipeline step",
    });
  });

  it("checks fairness bounds, and a per-group metric on its worst group", () => {
    const fairness = {
      origin: {
        metrics: { equal_opportunity_difference: 0.12 },
        byGroup: { JFK: { accuracy: 0.9 }, SFO: { accuracy: 0.7 } },
      },
    };
    const checks = evaluatePolicies(
      policy(
        { fairness: { attribute: "origin", metric: "equal_opportunity_difference", max: 0.1 } },
        { fairness: { attribute: "origin", metric: "accuracy", min: 0.75 } },
      ),
      evidence({ evaluations: [ev(2, "d@1", {}, fairness)] }),
    );
    expect(checks.map((c) => [c.check, c.value, c.outcome])).toEqual([
      ["equal_opportunity_difference by origin <= 0.1", 0.12, "fail"],
      ["accuracy by origin >= 0.75", 0.7, "fail"],
    ]);
    expect(checks[1]!.detail).toContain("worst group origin=SFO");
  });

  it("a fairness attribute or metric named like an Object.prototype member is missing, not Object's", () => {
    // Before: the evaluation's fairness map answered Object's function for `constructor`, and reading
    // its metrics threw (a 500 for the alias move); a metric `toString` compared a function.
    const fairness = { origin: { metrics: { accuracy: 0.9 }, byGroup: { JFK: { accuracy: 0.9 } } } };
    const checks = evaluatePolicies(
      policy(
        { fairness: { attribute: "constructor", metric: "accuracy", min: 0.5 } },
        { fairness: { attribute: "origin", metric: "toString", max: 0.1 } },
      ),
      evidence({ evaluations: [ev(2, "d@1", {}, fairness)] }),
    );
    expect(checks.map((c) => [c.check, c.value, c.outcome, c.detail])).toEqual([
      [
        "accuracy by constructor >= 0.5",
        null,
        "fail",
        "no fairness evaluation by constructor from a pipeline step for this version",
      ],
      ["toString by origin <= 0.1", null, "fail", "no toString by origin recorded"],
    ]);
  });

  it("compares with the alias holder on the same data only, strictly, in the metric's direction", () => {
    const beats = policy({ metric: "rmse <= 10" }, { beats: "champion" });
    const holder = { version: 1, evaluations: [ev(1, "d@1", { rmse: 5 }), ev(1, "d@2", { rmse: 4 })] };
    const better = evaluatePolicies(
      beats,
      evidence({ evaluations: [ev(2, "d@2", { rmse: 3.5 })], incumbents: { champion: holder } }),
    );
    expect(better[1]).toMatchObject({ check: "beats champion on rmse", value: 3.5, threshold: 4, outcome: "pass" });
    const tie = evaluatePolicies(
      beats,
      evidence({ evaluations: [ev(2, "d@2", { rmse: 4 })], incumbents: { champion: holder } }),
    );
    expect(tie[1]!.outcome).toBe("fail");
    const otherData = evaluatePolicies(
      beats,
      evidence({ evaluations: [ev(2, "d@9", { rmse: 1 })], incumbents: { champion: holder } }),
    );
    expect(otherData[1]).toMatchObject({
      outcome: "fail",
      detail: expect.stringContaining("no evaluation data on which both"),
    });
    const vacant = evaluatePolicies(
      beats,
      evidence({ evaluations: [ev(2, "d@9", { rmse: 1 })], incumbents: { champion: null } }),
    );
    expect(vacant[1]).toMatchObject({ outcome: "pass", detail: "no version holds champion yet" });
  });

  it("counts approvals by distinct eligible users, never the author, and a rejection fails", () => {
    const p = policy({ approvals: { role: "approver", count: 2, for_alias: "champion" } });
    const pending = evaluatePolicies(
      p,
      evidence({
        approvals: [
          approval("alice", "approve"),
          approval("bob", "approve"),
          approval("bob", "approve", "approver", 2),
          approval("carol", "approve", "member"),
        ],
      }),
    );
    expect(pending[0]).toMatchObject({ value: 1, threshold: 2, outcome: "pending" });
    expect(verdictOf(pending)).toBe("pending");
    const done = evaluatePolicies(
      p,
      evidence({ approvals: [approval("bob", "approve"), approval("dan", "approve", "admin")] }),
    );
    expect(done[0]!.outcome).toBe("pass");
    const rejected = evaluatePolicies(
      p,
      evidence({ approvals: [approval("bob", "approve"), approval("dan", "reject", "admin")] }),
    );
    expect(rejected[0]).toMatchObject({ outcome: "fail", detail: "rejected by dan: too slow" });
    const changedMind = evaluatePolicies(
      p,
      evidence({
        approvals: [
          approval("dan", "reject", "admin", 1),
          approval("dan", "approve", "admin", 2),
          approval("bob", "approve"),
        ],
      }),
    );
    expect(changedMind[0]!.outcome).toBe("pass");
  });

  it("applies alias-scoped approvals to that alias only; no policy passes", () => {
    const p = policy({ approvals: { role: "approver", count: 1, for_alias: "champion" } });
    const other = evaluatePolicies(
      p,
      evidence({
        target: { kind: "alias", name: "challenger" },
        scope: { ...emptyScope("m"), aliases: ["challenger"] },
      }),
    );
    expect(other).toEqual([
      expect.objectContaining({ kind: "policy", outcome: "pass", check: "no requirement applies to this target" }),
    ]);
    expect(evaluatePolicies({}, evidence())[0]).toMatchObject({
      check: "no policy governs this target",
      outcome: "pass",
    });
  });
});

describe("model references", () => {
  it("parses numbers, latest, aliases and bare names", () => {
    expect(parseModelRef("m@3")).toEqual({ name: "m", selector: { kind: "number", version: 3 } });
    expect(parseModelRef("m@v3")).toEqual({ name: "m", selector: { kind: "number", version: 3 } });
    expect(parseModelRef("m@latest")).toEqual({ name: "m", selector: { kind: "latest" } });
    expect(parseModelRef("m")).toEqual({ name: "m", selector: { kind: "latest" } });
    expect(parseModelRef("flights-delay@champion")).toEqual({
      name: "flights-delay",
      selector: { kind: "alias", alias: "champion" },
    });
  });

  it("names what is wrong", () => {
    expect(() => parseModelRef("m@0")).toThrow(/versions start at 1/);
    expect(() => parseModelRef("m@")).toThrow(/nothing after '@'/);
    expect(() => parseModelRef("bad name@1")).toThrow(/model name "bad name" is not valid/);
    expect(() => parseModelRef("m@1x")).toThrow(/alias "1x" is not valid/);
  });
});
