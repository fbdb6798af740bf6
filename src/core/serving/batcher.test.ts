import { describe, expect, it } from "vitest";
import { MicroBatcher } from "./batcher.js";

function makeBatcher(log: number[][], failOn?: number) {
  return new MicroBatcher<number[], number[]>({
    rowsOf: (x) => x.length,
    concat: (xs) => xs.flat(),
    split: (out, counts) => {
      const parts: number[][] = [];
      let i = 0;
      for (const c of counts) {
        parts.push(out.slice(i, i + c));
        i += c;
      }
      return parts;
    },
    run: async (x) => {
      log.push(x);
      await new Promise((r) => setTimeout(r, 5));
      if (failOn !== undefined && x.includes(failOn)) throw new Error("bad row");
      return x.map((v) => v * 10);
    },
  });
}

describe("MicroBatcher", () => {
  it("runs requests that arrive while a batch runs as one batch, and answers each its own rows", async () => {
    const calls: number[][] = [];
    const b = makeBatcher(calls);
    const answers = await Promise.all([b.submit([1]), b.submit([2, 3]), b.submit([4]), b.submit([5])]);
    expect(answers).toEqual([[10], [20, 30], [40], [50]]);
    expect(calls.length).toBe(2);
    expect(calls[1]).toEqual([2, 3, 4, 5]);
  });

  it("isolates a failing request: its neighbours in the batch still get answers", async () => {
    const calls: number[][] = [];
    const b = makeBatcher(calls, 3);
    const results = await Promise.allSettled([b.submit([1]), b.submit([2]), b.submit([3]), b.submit([4])]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect((results[3] as PromiseFulfilledResult<number[]>).value).toEqual([40]);
  });
});
