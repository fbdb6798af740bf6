/** The line chart's x range (web/src/lib/chart-range.ts) against known timestamps. */
import { describe, expect, it } from "vitest";
import { LONE_TIME_HALF_WINDOW_MS, xRange } from "../../web/src/lib/chart-range.js";

const t = (iso: string) => Date.parse(iso);

describe("xRange", () => {
  it("centres a one-hour-either-side window on a lone time point (not 2027–2029)", () => {
    const [min, max] = xRange([t("2026-12-06T12:00:00Z")], true)!;
    expect(new Date(min).toISOString()).toBe("2026-12-06T11:00:00.000Z");
    expect(new Date(max).toISOString()).toBe("2026-12-06T13:00:00.000Z");
    expect(max - min).toBe(2 * LONE_TIME_HALF_WINDOW_MS);
  });

  it("spans exactly the data when the points differ in time, and ignores non-finite x", () => {
    expect(
      xRange([t("2026-03-01T00:00:00Z"), NaN, t("2026-03-01T06:00:00Z"), t("2026-03-01T03:00:00Z")], true),
    ).toEqual([t("2026-03-01T00:00:00Z"), t("2026-03-01T06:00:00Z")]);
  });

  it("gives one step either side to a lone step, and nothing to no points", () => {
    expect(xRange([7, 7], false)).toEqual([6, 8]);
    expect(xRange([], true)).toBeNull();
  });
});
