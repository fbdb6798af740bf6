import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../../../test/helpers/seeded.js";
import { sortFloat64 } from "./sort.js";

describe("sortFloat64", () => {
  it("orders like Float64Array.prototype.sort, with negatives, zeros, infinities and ties", () => {
    const u = mulberry32(7);
    // Growing and shrinking sizes: the scratch buffer kept between sorts must not leak values.
    for (const n of [10, 5000, 100_000, 7000, 100_000, 4096]) {
      const a = Float64Array.from({ length: n }, (_, i) =>
        i % 11 === 0 ? Math.floor(u() * 5) - 2 : i % 13 === 0 ? -0 : (u() - 0.5) * 10 ** Math.floor(u() * 12 - 6),
      );
      a[3] = Infinity;
      a[4] = -Infinity;
      a[5] = Number.MIN_VALUE;
      a[6] = -Number.MAX_VALUE;
      const expected = a.slice().sort();
      const got = sortFloat64(a.slice());
      expect(Array.from(got).map((x) => (Object.is(x, -0) ? "-0" : x))).toEqual(
        Array.from(expected).map((x) => (Object.is(x, -0) ? "-0" : x)),
      );
    }
  });

  it("handles columns whose values share most bits (the skipped passes)", () => {
    const a = Float64Array.from({ length: 10_000 }, (_, i) => 1 + (i % 7));
    expect(Array.from(sortFloat64(a.slice()))).toEqual(Array.from(a.slice().sort()));
  });
});
