import { describe, expect, it } from "vitest";
import { anyInvalid, NumberBuffer } from "./number-buffer.js";

describe("NumberBuffer", () => {
  it("keeps every pushed value in order when the estimate is short, right or long", () => {
    for (const estimate of [0, 10, 5000, 100_000]) {
      const buffer = new NumberBuffer(estimate);
      const expected: number[] = [];
      for (let chunk = 0; chunk < 7; chunk++) {
        const source = Float64Array.from({ length: 2048 }, (_, i) => chunk * 10_000 + i - 0.5);
        const n = chunk === 6 ? 1000 : 2048;
        buffer.push(source, n);
        expected.push(...source.subarray(0, n));
      }
      expect(Array.from(buffer.finish())).toEqual(expected);
    }
  });
});

describe("anyInvalid", () => {
  /** The mask read bit by bit, as DuckDB's validity is defined (bit i of word i/64; 1 = valid). */
  const reference = (words: BigUint64Array, n: number): boolean => {
    for (let i = 0; i < n; i++) if (((words[i >> 6]! >> BigInt(i & 63)) & 1n) === 0n) return true;
    return false;
  };

  it("agrees with a bit-by-bit reading for every row count and a NULL at every position", () => {
    expect(anyInvalid(null, 2048)).toBe(false);
    const words = new BigUint64Array(32).fill(0xffff_ffff_ffff_ffffn);
    for (const n of [1, 31, 32, 33, 63, 64, 65, 100, 2047, 2048]) {
      expect(anyInvalid(words, n)).toBe(false);
      for (let at = 0; at < 2048; at += at < 130 ? 1 : 97) {
        const masked = words.slice();
        masked[at >> 6] = masked[at >> 6]! & ~(1n << BigInt(at & 63));
        expect(anyInvalid(masked, n)).toBe(reference(masked, n));
      }
    }
  });
});
