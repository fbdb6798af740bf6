import { describe, expect, it } from "vitest";
import { Reservoir, seedOf } from "./reservoir.js";

describe("Reservoir", () => {
  it("keeps everything under its capacity", () => {
    const r = new Reservoir<number>(10, 1);
    for (let i = 0; i < 7; i++) r.offer(i);
    expect(r.sample()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(r.sampled).toBe(false);
  });

  it("samples uniformly: every part of the stream, the newest included, is represented in proportion", () => {
    // 200 windows of 10 000 items sampled down to 100: each tenth of the stream should hold ~10% of
    // the sample. Counted over all windows, a fixed-prefix cut (the old behaviour) would put 100% in
    // the first tenth and 0% in the last.
    const tenths = new Array<number>(10).fill(0);
    for (let w = 0; w < 200; w++) {
      const r = new Reservoir<number>(100, seedOf(`window ${w}`));
      for (let i = 0; i < 10_000; i++) r.offer(i);
      expect(r.sample()).toHaveLength(100);
      expect(new Set(r.sample()).size).toBe(100);
      for (const i of r.sample()) tenths[Math.floor(i / 1000)]!++;
    }
    // 20 000 draws, 2 000 expected per tenth; a binomial sd is ~42, so ±200 is ~5 sd.
    for (const n of tenths) expect(Math.abs(n - 2000)).toBeLessThan(200);
  });

  it("is reproducible for the same seed", () => {
    const run = (seed: number) => {
      const r = new Reservoir<number>(5, seed);
      for (let i = 0; i < 1000; i++) r.offer(i);
      return r.sample().join(",");
    };
    expect(run(seedOf("a"))).toBe(run(seedOf("a")));
    expect(run(seedOf("a"))).not.toBe(run(seedOf("b")));
  });
});
