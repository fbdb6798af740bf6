import { describe, expect, it } from "vitest";
import { canaryCell, type EndpointWire } from "./serving.js";

const endpoint = (patch: Partial<EndpointWire>): EndpointWire => ({
  name: "churn",
  model: "churn",
  primary: "churn@champion",
  canary: { model: "churn@challenger", percent: 10 },
  shadow: null,
  primary_version: 2,
  canary_version: null,
  blocked_canary_version: null,
  shadow_version: null,
  status: "serving",
  rollout: null,
  updated_at: 0,
  ...patch,
});

describe("the CANARY column of tandem endpoints ls/show", () => {
  it("shows the version and share it serves, a blocked version, or that the slot is idle", () => {
    expect(canaryCell(endpoint({ canary_version: 3 }))).toBe("churn@challenger → 3 (10%)");
    expect(canaryCell(endpoint({ blocked_canary_version: 3 }))).toBe("churn@challenger → 3 (blocked)");
    // After `endpoints promote` the challenger is the primary's own version: nothing to try, no "→ -".
    expect(canaryCell(endpoint({}))).toBe("churn@challenger (idle)");
    expect(canaryCell(endpoint({ canary: null }))).toBe("-");
  });
});
