/** The quickstart's summary says why its canary ended as it did (issue 21: it said only "broke its SLO"). */
import { describe, expect, it } from "vitest";
import type { RunningServer } from "../server/listen.js";
import type { QuickstartReport } from "./loop.js";
import { formatSummary } from "./summary.js";

const breach =
  "canary flights-delay@2 broke its latency SLO: canary p95 272.2 ms (204 requests) vs primary p95 100.0 ms (1796), " +
  "Mann-Whitney p = 1.6e-31: slower beyond the 50 ms floor, the 5 ms margin and ×2; traffic returned to flights-delay@1";

const report = (canary: QuickstartReport["canary"]): QuickstartReport => ({
  url: "http://127.0.0.1:1",
  home: "/tmp/home",
  janRows: 100,
  janDelayedShare: 0.2,
  champion: null,
  approval: { refusedForAuthor: null, approvedBy: "dana" },
  months: [],
  alert: null,
  retrain: null,
  canary,
  ci: { runId: "r1", status: "succeeded", commit: "0123456789abcdef" },
  maturity: { level: 2, passed: 11, total: 11 },
  reportFile: "/tmp/home/report.html",
  server: {} as RunningServer,
});

describe("quickstart summary", () => {
  it("quotes the breach under a rolled-back canary: the SLO, both values, sizes and p-value", () => {
    const text = formatSummary(
      report({
        rows: 2000,
        byVersion: { "1": 1796, "2": 204 },
        outcome: "rolled back",
        reasons: ["the canary flights-delay@2 broke its SLO; serving kept the champion", breach],
      }),
      21,
      false,
    );
    const lines = text.split("\n");
    const at = lines.indexOf("Canary    @1: 1796, @2: 204 flights → rolled back");
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 2]).toBe(`          ${breach}`);
  });

  it("says the push's CI run and the maturity level the loop reached", () => {
    const lines = formatSummary(report(null), 21, false).split("\n");
    expect(lines).toContain("CI        push of 01234567 to main → pipeline ci (its tests) succeeded");
    expect(lines).toContain("maturity: level 2 (11/11 criteria) — tandem maturity --project flights");
  });
});
