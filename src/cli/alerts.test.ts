import { describe, expect, it } from "vitest";
import { withReadableTimes } from "./alerts.js";

describe("alerts show's evidence", () => {
  it("reads epoch-millisecond times as dates, and leaves every other number as it is", () => {
    const evidence = {
      result_id: "r1",
      window_start: 1_790_000_000_000,
      window_end: 1_790_086_400_000,
      failed: [{ check: "target_drift", score: 6.624, p_value: 3.5e-11, evaluated_at: 1_790_086_400_000 }],
      rows: 2000,
      attempt: 1_790_000_000_000, // not a time key: kept
    };
    expect(withReadableTimes(evidence)).toEqual({
      result_id: "r1",
      window_start: "2026-09-21 14:13:20Z",
      window_end: "2026-09-22 14:13:20Z",
      failed: [{ check: "target_drift", score: 6.624, p_value: 3.5e-11, evaluated_at: "2026-09-22 14:13:20Z" }],
      rows: 2000,
      attempt: 1_790_000_000_000,
    });
  });
});
