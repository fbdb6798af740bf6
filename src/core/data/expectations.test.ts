/** The validation table and its verdict count the same rows (issue 23: 4 FAIL rows, "3 checks failed"). */
import { describe, expect, it } from "vitest";
import { formatChecks, verdictLine, type CheckResult, type ValidationReport } from "./expectations.js";

const check = (over: Partial<CheckResult>): CheckResult => ({
  check: "not_null",
  column: "amount",
  expected: "0 missing",
  found: "1",
  ok: false,
  ...over,
});

const report = (checks: CheckResult[]): ValidationReport => ({
  ok: checks.every((c) => c.ok || (c.check === "drift" && c.column !== null)),
  dataset: "sales@2",
  file: null,
  checks,
  drift: null,
});

describe("data validate's table and verdict", () => {
  it("the verdict's count is the table's FAIL rows; a drifted column reads drift, and is counted apart", () => {
    const r = report([
      check({}),
      check({ check: "allowed", column: "shop", expected: "one of s0, s1", found: "s9 (1)" }),
      check({ check: "rows", column: null, expected: ">= 100", found: "51" }),
      check({ check: "drift", column: "amount", expected: "p >= 0.05", found: "0.001" }),
      check({ check: "drift", column: null, expected: "share <= 0.3", found: "0.5" }),
      check({ check: "unique", column: "id", ok: true, expected: "0 duplicates", found: "0" }),
    ]);
    const table = formatChecks(r).split("\n");
    const failRows = table.filter((l) => l.startsWith("FAIL")).length;
    expect(table.filter((l) => l.startsWith("drift "))).toHaveLength(1);
    expect(verdictLine(r)).toBe(`INVALID (${failRows} checks failed; 1 column drifted)`);
    expect(failRows).toBe(4);
  });

  it("a valid report with a drifted column says so", () => {
    const r = report([check({ ok: true }), check({ check: "drift", column: "amount" })]);
    expect(verdictLine(r)).toBe("valid (1 column drifted)");
    expect(verdictLine(report([check({ ok: true })]))).toBe("valid");
  });
});
