import { describe, expect, it } from "vitest";
import { DEFAULT_SLO, type Endpoint } from "./model.js";
import type { WindowStats } from "./ports.js";
import { reconcile, type Observed } from "./reconcile.js";

function endpoint(patch: Partial<Endpoint> = {}): Endpoint {
  return {
    project: "p",
    name: "e",
    model: "m",
    primary: { kind: "alias", alias: "champion" },
    canary: null,
    shadow: null,
    shadowPercent: 100,
    slo: { ...DEFAULT_SLO, minRequests: 10 },
    policy: null,
    primaryVersion: 1,
    canaryVersion: null,
    shadowVersion: null,
    rollout: null,
    canaryState: null,
    blockedCanaryVersion: null,
    status: "serving",
    revision: 1,
    createdAt: 0,
    updatedAt: 0,
    createdBy: "u",
    ...patch,
  };
}

function observed(patch: Partial<Observed> = {}): Observed {
  return {
    primaryTarget: 1,
    canaryTarget: null,
    shadowTarget: null,
    servedBefore: new Set(),
    stats: null,
    commits: new Map(),
    now: 1000,
    actor: "system",
    ...patch,
  };
}

const stats = (canaryErrors: number): WindowStats[] => [
  { slot: "primary", version: 1, requests: 100, errors: 0, p95Ms: 1, latencyHist: [0, 0, 100] },
  { slot: "canary", version: 2, requests: 20, errors: canaryErrors, p95Ms: 1, latencyHist: [0, 0, 20 - canaryErrors] },
];

describe("reconcile", () => {
  it("switches at once when the alias moves and no canary is configured", () => {
    const fx = reconcile(endpoint(), observed({ primaryTarget: 2 }));
    expect(fx.endpoint.primaryVersion).toBe(2);
    expect(fx.deployments[0]).toMatchObject({
      version: 2,
      previousVersion: 1,
      outcome: "succeeded",
      reason: "alias moved",
    });
  });

  it("says what the first deploy serves, and what a later one replaced", () => {
    const first = reconcile(endpoint({ primaryVersion: null }), observed());
    expect(first.deployments[0]).toMatchObject({ reason: "deploy", previousVersion: null });
    expect(first.events.map((ev) => ev.message)).toEqual(["m@1 is now primary"]);
    const moved = reconcile(first.endpoint, observed({ primaryTarget: 2 }));
    expect(moved.events.map((ev) => ev.message)).toEqual(["m@2 is now primary (was m@1)"]);
  });

  it("rolls a moved alias out through the canary, and rolls it back (alias too) when it breaks the SLO", () => {
    const e = endpoint({ canary: { selector: { kind: "alias", alias: "challenger" }, percent: 10 } });
    const start = reconcile(e, observed({ primaryTarget: 2 }));
    expect(start.endpoint).toMatchObject({ primaryVersion: 1, canaryVersion: 2, status: "rolling_out" });
    expect(start.deployments[0]).toMatchObject({ outcome: "in_progress" });
    const breach = reconcile(start.endpoint, observed({ primaryTarget: 2, stats: stats(10) }));
    expect(breach.endpoint).toMatchObject({
      primaryVersion: 1,
      canaryVersion: null,
      blockedCanaryVersion: 2,
      rollout: null,
    });
    expect(breach.aliasRollback).toEqual({ alias: "champion", version: 1 });
    expect(breach.finished[0]).toMatchObject({ outcome: "failed" });
    // The event names the SLO, both values, both sample sizes and the p-value.
    const event = breach.events.find((ev) => ev.kind === "slo_breach" && ev.severity === "critical");
    expect(event?.details).toMatchObject({
      slo: "error_rate",
      canary_value: 0.5,
      primary_value: 0,
      canary_requests: 20,
      primary_requests: 100,
      significance: 0.05,
    });
    expect(event?.details.p_value).toBeLessThan(1e-6);
    expect(event?.message).toMatch(
      /^rollout of m@2 broke its error rate SLO: canary 50\.0% \(10 of 20 requests\) vs primary 0\.0% \(0 of 100\), two-proportion p = [\d.e-]+: more than the allowed \+5\.0 points; traffic returned to m@1$/,
    );
    // The alias still points at 2 until the registry moves it: no new rollout of the blocked version.
    const after = reconcile(breach.endpoint, observed({ primaryTarget: 2 }));
    expect(after.endpoint.canaryVersion).toBeNull();
    const settled = reconcile(after.endpoint, observed({ primaryTarget: 1 }));
    expect(settled.endpoint.status).toBe("serving");
  });

  it("treats a move back to a version served before as a rollback, even with a canary", () => {
    const e = endpoint({
      primaryVersion: 2,
      canary: { selector: { kind: "alias", alias: "challenger" }, percent: 10 },
    });
    const fx = reconcile(e, observed({ primaryTarget: 1, servedBefore: new Set([1]) }));
    expect(fx.endpoint.primaryVersion).toBe(1);
    expect(fx.deployments[0]).toMatchObject({ reason: "rollback", outcome: "succeeded" });
  });

  it("gives a canary alias its slot and stops it on an SLO breach", () => {
    const e = endpoint({ canary: { selector: { kind: "alias", alias: "challenger" }, percent: 10 } });
    const on = reconcile(e, observed({ canaryTarget: 2 }));
    expect(on.endpoint.canaryVersion).toBe(2);
    const healthy = reconcile(on.endpoint, observed({ canaryTarget: 2, stats: stats(0) }));
    expect(healthy.changed).toBe(false);
    const off = reconcile(on.endpoint, observed({ canaryTarget: 2, stats: stats(5) }));
    expect(off.endpoint).toMatchObject({ canaryVersion: null, blockedCanaryVersion: 2 });
    expect(off.finished[0]).toMatchObject({ outcome: "failed" });
  });
});
