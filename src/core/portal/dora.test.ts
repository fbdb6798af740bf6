import { describe, expect, it } from "vitest";
import { at, DAY, doraFixture, HOUR, SINCE, T0, UNTIL } from "../../../test/fixtures/dora-deployments.js";
import { failRateBand, frequencyBand, leadTimeBand, recoveryBand } from "./dora-bands.js";
import { computeDora, median, weekStart } from "./dora.js";

const report = (target?: string) => computeDora(doraFixture(), { since: SINCE, until: UNTIL, target });

describe("DORA on a fixture worked by hand", () => {
  it("reads each deployment: failed by whom, rework, lead time and recovery time", () => {
    const byId = new Map(report().deployments.map((d) => [d.id, d]));
    // s0 (before the period), c1 (canary slot), m6 (in progress) and s6 (staging) are not deployments.
    expect([...byId.keys()].sort()).toEqual(
      ["m1", "m2", "m3", "m4", "m5", "s1", "s2", "s3", "s4", "s5", "s7", "w1", "w2", "w3"].sort(),
    );
    const read = (id: string) => {
      const d = byId.get(id)!;
      return [d.failed_because, d.rework, d.lead_time_ms, d.recovery_ms];
    };
    // m3 rolls churn back from v2 to v1: m2 failed, recovered 2 h later; a rollback ships no commit.
    expect(read("m2")).toEqual(["rollback m3", false, 6 * HOUR, 2 * HOUR]);
    expect(read("m3")).toEqual([null, true, null, null]);
    // The canary rollout broke its SLO: Tandem returned the traffic 30 minutes after it started.
    expect(read("m4")).toEqual(["failed", false, null, 30 * 60_000]);
    // Trained by a run an alert started: unplanned, so rework, though nothing before it failed.
    expect(read("m5")).toEqual([null, true, 12 * HOUR, null]);
    // s3 is a hotfix a day after s2: s2 failed and recovered when s3 shipped.
    expect(read("s2")).toEqual(["hotfix s3", false, HOUR, DAY]);
    expect(read("s3")).toEqual([null, true, 30 * 60_000, null]);
    // CI reported s4 failed; s5 shipped 4 hours later.
    expect(read("s4")).toEqual(["failed", false, null, 4 * HOUR]);
    // s7 comes 10 days after s5, past the 7-day window: rework, but s5 did not fail.
    expect(read("s5")).toEqual([null, false, HOUR, null]);
    expect(read("s7")).toEqual([null, true, HOUR, null]);
    // A service rollback undoes the last good deployment: w2, 45 minutes before.
    expect(read("w2")).toEqual(["rollback w3", false, 3 * HOUR, 45 * 60_000]);
  });

  it("models: 5 deployments, 2 failed, 2 rework; lead times 24 h, 6 h, 12 h; recoveries 2 h and 30 min", () => {
    const m = report().groups.model;
    expect(m.deployments).toBe(5);
    expect(m.deployment_frequency).toEqual({ per_day: 5 / 28, per_week: 1.25, band: "high" });
    expect(m.change_lead_time).toEqual({ median_ms: 12 * HOUR, measured: 3, band: "elite" });
    // 2/5 = 40%: the low cluster's rate.
    expect(m.change_fail_rate).toEqual({ rate: 0.4, failed: 2, band: "low" });
    // (30 min + 2 h) / 2 = 1 h 15 min: under a day, over an hour.
    expect(m.failed_deployment_recovery_time).toEqual({
      median_ms: 75 * 60_000,
      recovered: 2,
      unrecovered: 0,
      band: "high",
    });
    expect(m.deployment_rework_rate).toEqual({ rate: 0.4, rework: 2, band: null });
  });

  it("services: 9 deployments, 3 failed, 3 rework; lead-time median 1 h; recoveries 24 h, 4 h, 45 min", () => {
    const s = report().groups.service;
    expect(s.deployments).toBe(9);
    expect(s.deployment_frequency.per_week).toBeCloseTo(2.25, 12);
    // Lead times 24 h, 1 h, 30 min, 1 h, 1 h, 1 h, 3 h: the middle of seven is 1 h.
    expect(s.change_lead_time).toEqual({ median_ms: HOUR, measured: 7, band: "elite" });
    // 3/9: nearer 40% (low) than 20% (high).
    expect(s.change_fail_rate).toEqual({ rate: 1 / 3, failed: 3, band: "low" });
    expect(s.failed_deployment_recovery_time).toEqual({
      median_ms: 4 * HOUR,
      recovered: 3,
      unrecovered: 0,
      band: "high",
    });
    expect(s.deployment_rework_rate).toEqual({ rate: 1 / 3, rework: 3, band: null });
  });

  it("together: 14 deployments, half a day's worth a day; lead-time median (1 h + 3 h) / 2 of ten", () => {
    const a = report().groups.all;
    expect(a.deployments).toBe(14);
    expect(a.deployment_frequency).toEqual({ per_day: 0.5, per_week: 3.5, band: "high" });
    // 30 min, 1 h ×4, 3 h, 6 h, 12 h, 24 h ×2: the middle two are 1 h and 3 h.
    expect(a.change_lead_time).toEqual({ median_ms: 2 * HOUR, measured: 10, band: "elite" });
    expect(a.change_fail_rate).toEqual({ rate: 5 / 14, failed: 5, band: "low" });
    // 30 min, 45 min, 2 h, 4 h, 24 h.
    expect(a.failed_deployment_recovery_time.median_ms).toBe(2 * HOUR);
    expect(a.deployment_rework_rate).toEqual({ rate: 5 / 14, rework: 5, band: null });
  });

  it("weekly: Monday-aligned weeks over the period, each with its own counts and medians", () => {
    const weeks = report().groups.all.weekly;
    expect(weeks.map((w) => (w.week_start - T0) / DAY)).toEqual([0, 7, 14, 21, 28]);
    expect(weeks.map((w) => [w.deployments, w.failed, w.rework])).toEqual([
      [4, 1, 1], // m1 m2 m3 s1; m2 failed; m3 rework
      [3, 2, 1], // m4 s2 s3; m4 and s2 failed; s3 rework
      [3, 1, 1], // m5 s4 s5; s4 failed; m5 rework
      [4, 1, 2], // w1 w2 w3 s7; w2 failed; w3 and s7 rework
      [0, 0, 0],
    ]);
    // Week 0: lead times 24 h (m1), 6 h (m2), 24 h (s1) → 24 h; recovery of m2: 2 h.
    expect([weeks[0]!.lead_time_median_ms, weeks[0]!.recovery_median_ms]).toEqual([24 * HOUR, 2 * HOUR]);
    expect(weeks[4]!.lead_time_median_ms).toBeNull();
  });

  it("--target keeps one endpoint or service; the period bounds what counts", () => {
    expect(report("api").groups.all.deployments).toBe(6);
    expect(report("api").groups.model.deployments).toBe(0);
    expect(report("api").groups.model.change_fail_rate).toEqual({ rate: null, failed: 0, band: null });
    const lastWeek = computeDora(doraFixture(), { since: at(21), until: UNTIL });
    expect(lastWeek.groups.all.deployments).toBe(4);
    expect(lastWeek.report_year).toBe(2024);
    expect(lastWeek.definitions.map((d) => d.id)).toEqual([
      "deployment_frequency",
      "change_lead_time",
      "change_fail_rate",
      "failed_deployment_recovery_time",
      "deployment_rework_rate",
    ]);
  });

  it("a hotfix window of a day still catches s2 but a 12-hour one does not", () => {
    const read = (hours: number) =>
      computeDora(doraFixture(), { since: SINCE, until: UNTIL, hotfixWindowMs: hours * HOUR }).deployments.find(
        (d) => d.id === "s2",
      )!.failed;
    expect(read(24)).toBe(true);
    expect(read(12)).toBe(false);
  });
});

describe("the 2024 bands", () => {
  it("place values at their boundaries", () => {
    expect([frequencyBand(2), frequencyBand(1), frequencyBand(1 / 7), frequencyBand(1 / 30), frequencyBand(0)]).toEqual(
      ["elite", "high", "high", "medium", "low"],
    );
    expect([leadTimeBand(DAY - 1), leadTimeBand(DAY), leadTimeBand(8 * DAY), leadTimeBand(31 * DAY)]).toEqual([
      "elite",
      "high",
      "medium",
      "low",
    ]);
    // Nearest typical rate; 15% is as near high's 20% as medium's 10%, and the tie goes to the better cluster.
    expect([0, 0.07, 0.08, 0.15, 0.31, 1].map(failRateBand)).toEqual([
      "elite",
      "elite",
      "medium",
      "high",
      "low",
      "low",
    ]);
    expect([recoveryBand(HOUR - 1), recoveryBand(HOUR), recoveryBand(DAY)]).toEqual(["elite", "high", "low"]);
  });

  it("median and week start", () => {
    expect([median([]), median([3]), median([4, 1]), median([5, 1, 3])]).toEqual([null, 3, 2.5, 3]);
    expect(weekStart(at(6, 23))).toBe(T0);
    expect(weekStart(at(7))).toBe(at(7));
  });
});
