import { describe, expect, it } from "vitest";
import { colourOn, paint } from "./colour.js";
import { describeStep, summarize, type RunWire, type StepWire } from "./pipelines-progress.js";

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

describe("a run's summary line", () => {
  it("counts steps in words a person reads: 1 step, 2 steps", () => {
    const run = (steps: StepWire[]) =>
      ({
        id: "r1",
        status: "succeeded",
        started_at: 1000,
        finished_at: 2600,
        error: null,
        steps,
      }) as unknown as RunWire;
    expect(summarize(run([step({})]))).toBe("run r1 succeeded in 1.6s: 1 ran, 0 cached, 1 step");
    expect(summarize(run([step({}), step({ cached: true })]))).toBe(
      "run r1 succeeded in 1.6s: 1 ran, 1 cached, 2 steps",
    );
  });

  it("after runs retry, counts the steps the retry kept as kept, not ran", () => {
    const run = {
      id: "r1",
      status: "succeeded",
      started_at: 1000,
      finished_at: 2600,
      error: null,
      steps: [step({ id: "s-prep", name: "prep" }), step({ id: "s-train", name: "train" })],
    } as unknown as RunWire;
    expect(summarize(run, new Set(["s-prep"]))).toBe("run r1 succeeded in 1.6s: 1 ran, 0 cached, 1 kept, 2 steps");
  });
});
