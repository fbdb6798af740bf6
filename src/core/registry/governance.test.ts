/** The governance rules, pure: which policies govern a move, provenance of evidence, unless-rules, canaries, diffs. */
import { describe, expect, it } from "vitest";
import { policySpecSchema, type PolicySpec } from "../pipelines/spec/policies.js";
import type { Evaluation } from "./model.js";
import { evaluatePolicies, verdictOf, type PolicyEvidence } from "./policy.js";
import { assertMayChangePolicies, canonicalJson, diffPolicies } from "./policy-admin.js";
import { emptyScope, governingPolicies, type TargetScope } from "./policy-scope.js";

const spec = (raw: unknown): PolicySpec => policySpecSchema.parse(raw);
const scope = (over: Partial<TargetScope>): TargetScope => ({ ...emptyScope("flights"), ...over });
const ev = (over: Partial<Evaluation>): Evaluation => ({
  id: "e1",
  project: "p",
  modelName: "flights",
  version: 2,
  dataset: "fresh@1",
  metrics: {},
  fairness: {},
  curves: null,
  runId: null,
  createdBy: "alice",
  createdAt: 1,
  source: "pipeline",
  pipelineRunId: "r1",
  step: "evaluate",
  stepRunId: "s1",
  ...over,
});
const evidence = (over: Partial<PolicyEvidence>): PolicyEvidence => ({
  target: { kind: "alias", name: "champion" },
  scope: scope({ aliases: ["champion"] }),
  candidateVersion: 2,
  author: "alice",
  authorNote: "alice started pipeline run r1 by hand",
  evaluations: [],
  sourceRunId: null,
  runMetrics: {},
  incumbents: {},
  approvals: [],
  canaries: {},
  ...over,
});

describe("which policies govern a move", () => {
  const policies = {
    release: spec({ applies_to: { aliases: ["champion"], endpoints: ["prod"] }, require: [] }),
    smoke: spec({ applies_to: { aliases: ["staging"] }, require: [] }),
    everything: spec({ require: [] }),
    prompts: spec({ applies_to: { prompts: ["support@production"] }, require: [] }),
    pinned: spec({ applies_to: { aliases: ["other-model@champion"] }, require: [] }),
  };
  const names = (s: TargetScope, added: string[] = []) => governingPolicies(policies, s, added).map((g) => g.name);

  it("applies every policy whose applies_to matches, plus those without applies_to; a named one only adds", () => {
    expect(names(scope({ aliases: ["champion"] }))).toEqual(["release", "everything"]);
    // Naming the weaker policy never removes the stronger one (finding 1).
    expect(names(scope({ aliases: ["champion"] }), ["smoke"])).toEqual(["release", "smoke", "everything"]);
    expect(names(scope({ aliases: ["staging"] }))).toEqual(["smoke", "everything"]);
  });

  it("governs an alias move by the endpoints following it, and a deploy by the aliases its slot follows", () => {
    const viaEndpoint = scope({
      aliases: ["challenger"],
      endpoints: [{ endpoint: "prod", slot: "canary", percent: 10 }],
    });
    expect(governingPolicies(policies, viaEndpoint)[0]).toMatchObject({
      name: "release",
      reason: "applies_to.endpoints prod (prod canary)",
    });
    const pinnedIntoChampionSlot = scope({
      aliases: ["champion"],
      endpoints: [{ endpoint: "other", slot: "primary", percent: null }],
    });
    expect(names(pinnedIntoChampionSlot)).toContain("release");
  });

  it("matches model@alias, prompts and globs", () => {
    expect(names(scope({ subject: "other-model", aliases: ["champion"] }))).toContain("pinned");
    expect(names(scope({ aliases: ["champion"] }))).not.toContain("pinned");
    expect(names(scope({ subject: "support", prompts: ["support@production"] }))).toEqual(["everything", "prompts"]);
    const glob = { all: spec({ applies_to: { endpoints: ["prod-*"] }, require: [] }) };
    expect(
      governingPolicies(glob, scope({ endpoints: [{ endpoint: "prod-eu", slot: "primary", percent: null }] })),
    ).toHaveLength(1);
    expect(() => spec({ applies_to: {}, require: [] })).toThrow(/name at least one alias/);
  });
});

describe("evidence provenance", () => {
  const gate = (acceptManual: boolean) => ({
    release: spec({ accept_manual: acceptManual, require: [{ metric: "roc_auc >= 0.9" }] }),
  });

  it("sets manual evaluations aside unless the policy accepts them, and says which it used", () => {
    const mine = ev({ id: "manual", source: "manual", metrics: { roc_auc: 0.99 }, createdBy: "mallory" });
    const real = ev({ id: "pipe", metrics: { roc_auc: 0.7 } });
    const [strict] = evaluatePolicies(gate(false), evidence({ evaluations: [mine, real] }));
    expect(strict).toMatchObject({ value: 0.7, outcome: "fail" });
    expect(strict!.evidence!.map((e) => [e.id, e.used])).toEqual([
      ["pipe", true],
      ["manual", false],
    ]);
    const [lenient] = evaluatePolicies(gate(true), evidence({ evaluations: [mine, real] }));
    expect(lenient).toMatchObject({
      value: 0.99,
      outcome: "pass",
      detail: expect.stringContaining("by mallory (manual)"),
    });
  });

  it("reads a source-run metric only when the engine recorded it while the step ran", () => {
    const logged = { roc_auc: { value: 0.95, source: "manual" as const } };
    expect(evaluatePolicies(gate(false), evidence({ runMetrics: logged }))[0]).toMatchObject({ outcome: "fail" });
    const recorded = { roc_auc: { value: 0.95, source: "pipeline" as const } };
    expect(evaluatePolicies(gate(false), evidence({ runMetrics: recorded }))[0]).toMatchObject({ outcome: "pass" });
  });

  it("compares beats on pipeline evidence on both sides", () => {
    const p = { retrain: spec({ require: [{ beats: { alias: "champion", metric: "roc_auc" } }] }) };
    const holder = {
      version: 1,
      evaluations: [ev({ version: 1, id: "h", source: "manual", metrics: { roc_auc: 0.1 } })],
    };
    const [c] = evaluatePolicies(
      p,
      evidence({ evaluations: [ev({ metrics: { roc_auc: 0.8 } })], incumbents: { champion: holder } }),
    );
    expect(c).toMatchObject({ outcome: "fail", detail: expect.stringContaining("from a pipeline step") });
  });
});

describe("approvals, four-eyes and the admin's unless rule", () => {
  const release = {
    release: spec({
      require: [
        {
          approvals: {
            role: "approver",
            count: 1,
            unless: [{ beats: { alias: "champion", metric: "roc_auc" } }, { canary: { endpoint: "prod" } }],
          },
        },
      ],
    }),
  };
  const holder = { version: 1, evaluations: [ev({ version: 1, id: "h", metrics: { roc_auc: 0.6 } })] };
  const better = [ev({ metrics: { roc_auc: 0.7 } })];
  const healthy = {
    prod: {
      served: true,
      failed: null,
      canary: { requests: 150, errors: 0, p95Ms: 3, latencyHist: [0, 0, 0, 0, 150] },
      primary: { requests: 400, errors: 1, p95Ms: 3, latencyHist: [0, 0, 0, 0, 399] },
    },
  };
  const approval = (user: string, decision: "approve" | "reject" = "approve") => ({
    id: user,
    project: "p",
    modelName: "flights",
    version: 2,
    userName: user,
    role: "approver",
    decision,
    comment: "",
    at: 1,
  });

  it("needs a human for the first champion: nothing held its canary yet", () => {
    const [c] = evaluatePolicies(release, evidence({ evaluations: better, incumbents: { champion: null } }));
    expect(c).toMatchObject({
      outcome: "pending",
      excluded: [{ user: "alice", reason: "alice started pipeline run r1 by hand" }],
    });
    expect(c!.waiver!.map((w) => [w.kind, w.outcome])).toEqual([
      ["beats", "pass"],
      ["canary", "fail"],
    ]);
  });

  it("lets a retrain through without a human when it beats the champion and held its canary", () => {
    const [c] = evaluatePolicies(
      release,
      evidence({ evaluations: better, incumbents: { champion: holder }, canaries: healthy }),
    );
    expect(c).toMatchObject({ outcome: "pass", detail: expect.stringContaining("no human needed") });
  });

  it("never counts the author, also when a pipeline registered the version for them", () => {
    const checks = evaluatePolicies(
      release,
      evidence({ approvals: [approval("alice")], incumbents: { champion: holder } }),
    );
    expect(verdictOf(checks)).toBe("pending");
    expect(checks[0]!.detail).toContain("not counted: alice");
    const byOther = evaluatePolicies(
      release,
      evidence({ approvals: [approval("bob")], incumbents: { champion: holder } }),
    );
    expect(byOther[0]).toMatchObject({ outcome: "pass", detail: "approved by bob" });
  });

  it("fails on a rejection even when the unless rule holds", () => {
    const [c] = evaluatePolicies(
      release,
      evidence({
        evaluations: better,
        incumbents: { champion: holder },
        canaries: healthy,
        approvals: [approval("bob", "reject")],
      }),
    );
    expect(c).toMatchObject({ outcome: "fail", detail: "rejected by bob" });
  });

  it("treats a move into the canary slot as the canary, up to max_percent, and judges a breach", () => {
    const canary = { gate: spec({ require: [{ canary: { endpoint: "prod", max_percent: 10 } }] }) };
    const slot = (percent: number) =>
      scope({ aliases: ["challenger"], endpoints: [{ endpoint: "prod", slot: "canary", percent }] });
    expect(evaluatePolicies(canary, evidence({ scope: slot(10) }))[0]!.outcome).toBe("pass");
    expect(evaluatePolicies(canary, evidence({ scope: slot(100) }))[0]).toMatchObject({ outcome: "fail" });
    const broken = {
      prod: { ...healthy.prod, canary: { requests: 150, errors: 60, p95Ms: 3, latencyHist: [0, 0, 0, 0, 90] } },
    };
    expect(evaluatePolicies(canary, evidence({ canaries: broken }))[0]!.detail).toMatch(
      /^error rate SLO: canary 40\.0% \(60 of 150 requests\) vs primary 0\.3% \(1 of 400\), two-proportion p = [\d.e-]+: more than/,
    );
    // Fewer than 100 requests per arm: not judged yet, so not passed.
    const young = {
      prod: { ...healthy.prod, canary: { requests: 40, errors: 0, p95Ms: 3, latencyHist: [0, 0, 0, 0, 40] } },
    };
    expect(evaluatePolicies(canary, evidence({ canaries: young }))[0]).toMatchObject({
      outcome: "fail",
      detail: "not judged yet: canary 40 and primary 400 requests, 100 each needed for a verdict",
    });
    const stopped = { prod: { ...healthy.prod, failed: "p95 too high" } };
    expect(evaluatePolicies(canary, evidence({ canaries: stopped }))[0]!.detail).toMatch(/serving stopped it/);
  });

  it("applies for_alias approvals to deploys into slots that follow that alias", () => {
    const p = { release: spec({ require: [{ approvals: { for_alias: "champion" } }] }) };
    const pinned = scope({ aliases: ["champion"], endpoints: [{ endpoint: "prod", slot: "primary", percent: null }] });
    expect(
      evaluatePolicies(p, evidence({ target: { kind: "endpoint", name: "prod" }, scope: pinned }))[0]!.outcome,
    ).toBe("pending");
  });
});

describe("policy changes", () => {
  const current = { release: spec({ require: [{ approvals: { role: "approver" } }] }) };

  it("compares canonical JSON: key order and defaults do not count, an absent policy is a removal", () => {
    const same = { release: spec({ require: [{ approvals: { count: 1, role: "approver" } }], accept_manual: false }) };
    expect(diffPolicies(current, same)).toEqual([]);
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
    expect(diffPolicies(current, {}).map((c) => [c.policy, c.change])).toEqual([["release", "removed"]]);
    const weaker = { release: spec({ require: [] }), smoke: spec({ require: [] }) };
    expect(diffPolicies(current, weaker).map((c) => [c.policy, c.change])).toEqual([
      ["release", "changed"],
      ["smoke", "added"],
    ]);
  });

  it("lets only an admin change them, naming what differs", () => {
    const changes = diffPolicies(current, {});
    expect(() => assertMayChangePolicies({ user: "mallory", role: "member" }, "p", changes)).toThrow(
      /only an admin of project p may change its policies; this spec changes release \(removed\)/,
    );
    expect(() => assertMayChangePolicies({ user: null, role: null }, "p", changes)).toThrow(/an unknown git pusher/);
    expect(() => assertMayChangePolicies({ user: "ada", role: "admin" }, "p", changes)).not.toThrow();
    expect(() => assertMayChangePolicies({ user: "mallory", role: "member" }, "p", [])).not.toThrow();
  });
});
