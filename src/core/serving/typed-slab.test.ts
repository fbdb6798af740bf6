import { describe, expect, it } from "vitest";
import { TypedSlab } from "./typed-slab.js";

describe("TypedSlab", () => {
  it("hands out zero-filled views that never share memory, then a new slab when one is full", () => {
    const slab = new TypedSlab(Float64Array, 64);
    const views = Array.from({ length: 10 }, () => slab.take(10));
    views.forEach((v, i) => {
      expect(v.length).toBe(10);
      expect(Array.from(v).every((x) => x === 0)).toBe(true);
      v.fill(i + 1);
    });
    // Six fit in the first slab (60 of 64), the rest in the next: nothing was overwritten.
    views.forEach((v, i) => expect(Array.from(v)).toEqual(new Array(10).fill(i + 1)));
    expect(views[5]!.buffer).toBe(views[0]!.buffer);
    expect(views[6]!.buffer).not.toBe(views[0]!.buffer);
  });

  it("allocates an array of its own for more than a quarter slab", () => {
    const slab = new TypedSlab(Float32Array, 64);
    const big = slab.take(17);
    expect(big.length).toBe(17);
    expect(big.byteOffset).toBe(0);
    expect(big.buffer.byteLength).toBe(17 * 4);
  });
});
