import { describe, expect, it } from "vitest";
import { colourOn, paint } from "./colour.js";
import { describeStep, type StepWire } from "./pipelines-progress.js";

const step = (over: Partial<StepWire>): StepWire => ({
  id: "s1",
  name: "train",
  status: "succeeded",
  cached: false,
  attempt: 1,
  started_at: 1000,
  finished_at: 3500,
  error: null,
  exit_code: 0,
  metrics: {},
  ...over,
});

describe("colour", () => {
  it("follows NO_COLOR, FORCE_COLOR and whether the stream is a terminal", () => {
    expect(colourOn({ isTTY: true }, {})).toBe(true);
    expect(colourOn({ isTTY: false }, {})).toBe(false);
    expect(colourOn({}, {})).toBe(false);
    expect(colourOn({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(colourOn({ isTTY: false }, { FORCE_COLOR: "1" })).toBe(true);
    expect(colourOn({ isTTY: true }, { NO_COLOR: "1", FORCE_COLOR: "1" })).toBe(false);
    expect(colourOn({ isTTY: true }, { TERM: "dumb" })).toBe(false);
  });

  it("paints only when on", () => {
    expect(paint("red", "x", true)).toBe("\u001b[31mx\u001b[39m");
    expect(paint("red", "x", false)).toBe("x");
  });

  it("colours a run's step marks: ✓ green, ✗ red, ↺ dim; plain text stays the same without colour", () => {
    expect(describeStep(step({}), false)).toBe("  ✓ train (2.5s)");
    expect(describeStep(step({}), true)).toBe("  \u001b[32m✓\u001b[39m train (2.5s)");
    expect(describeStep(step({ status: "failed", error: "exit 1" }), true)).toBe(
      "  \u001b[31m✗\u001b[39m train (2.5s): exit 1",
    );
    expect(describeStep(step({ cached: true }), true)).toBe("  \u001b[2m↺\u001b[22m train (cached)");
    expect(describeStep(step({ status: "running" }), true)).toBe("  ▶ train");
  });
});
