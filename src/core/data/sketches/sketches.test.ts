import { describe, expect, it } from "vitest";
import { FrequentItems } from "./frequent.js";
import { hashKey, hashNumber } from "./hash.js";
import { Hll } from "./hll.js";
import { Kll, sortedViewOf } from "./kll.js";
import { tallyNumbers } from "./number-tally.js";
import { mergeMoments, momentsOf } from "./moments.js";
import { NumberCounter } from "./number-counter.js";
import { quantileOf } from "./kll.js";

/** Deterministic normal-ish values (sum of uniforms from a seeded LCG). */
function values(n: number, seed = 7): number[] {
  let s = seed;
  const u = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return Array.from({ length: n }, () => (u() + u() + u() + u() - 2) * 100);
}

/** Largest |true rank − asked rank| over a grid of quantiles. */
function maxRankError(sketch: Kll, data: number[]): number {
  const sorted = [...data].sort((a, b) => a - b);
  const view = sketch.sortedView();
  let worst = 0;
  for (let q = 0.01; q < 1; q += 0.01) {
    const x = quantileOf(view, q, sketch.min, sketch.max);
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    worst = Math.max(worst, Math.abs(lo / sorted.length - q));
  }
  return worst;
}

describe("KLL", () => {
  it("answers quantiles within 2% rank error on one stream", () => {
    const data = values(200_000);
    const s = new Kll();
    s.addAll(data);
    expect(s.n).toBe(200_000);
    expect(maxRankError(s, data)).toBeLessThan(0.02);
    expect(s.levels.flat().length).toBeLessThan(3 * 256 + 64);
  });

  it("merged halves stay within the bound, also through JSON", () => {
    const data = values(100_000, 3);
    const a = new Kll();
    const b = new Kll();
    a.addAll(data.slice(0, 50_000));
    b.addAll(data.slice(50_000));
    const merged = Kll.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    merged.merge(Kll.fromJSON(JSON.parse(JSON.stringify(b.toJSON()))));
    expect(merged.n).toBe(100_000);
    expect(merged.min).toBe(Math.min(...data));
    expect(maxRankError(merged, data)).toBeLessThan(0.02);
  });

  it("counts added by weight equal the same values added one by one", () => {
    const s = new Kll();
    s.addCounts([
      [1, 1000],
      [2, 3000],
      [3, 6000],
    ]);
    const view = s.sortedView();
    expect(view.total).toBe(10_000);
    expect(quantileOf(view, 0.05, s.min, s.max)).toBe(1);
    expect(quantileOf(view, 0.3, s.min, s.max)).toBe(2);
    expect(quantileOf(view, 0.9, s.min, s.max)).toBe(3);
  });

  it("chunk tallies (distinct values ascending with counts) stay within the bound, also merged", () => {
    const data = values(120_000, 5).map((v) => Math.round(v * 4) / 4); // ~1 600 distinct values, repeated
    const whole = new Kll();
    const a = new Kll();
    const b = new Kll();
    for (let start = 0; start < data.length; start += 10_000) {
      const chunk = Float64Array.from(data.slice(start, start + 10_000));
      const t = tallyNumbers(chunk, chunk.length);
      whole.addSortedCounts(t.values, t.counts, t.size);
      (start < 60_000 ? a : b).addSortedCounts(t.values, t.counts, t.size);
    }
    expect(whole.n).toBe(data.length);
    expect(maxRankError(whole, data)).toBeLessThan(0.02);
    a.merge(Kll.fromJSON(JSON.parse(JSON.stringify(b.toJSON()))));
    expect(maxRankError(a, data)).toBeLessThan(0.02);
  });

  it("sorted view: values ascending, the lower level first among equal values, cumulative weights", () => {
    const u = (() => {
      let s = 9;
      return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    })();
    const levels = Array.from({ length: 6 }, () => Array.from({ length: 40 }, () => Math.floor(u() * 30)));
    // Reference: a stable sort of (value, weight) pairs listed level by level.
    const pairs = levels.flatMap((level, h) => level.map((v) => [v, 2 ** h] as const));
    pairs.sort((x, y) => x[0] - y[0]);
    let total = 0;
    const view = sortedViewOf(levels);
    expect(Array.from(view.values)).toEqual(pairs.map((p) => p[0]));
    expect(Array.from(view.cumulative)).toEqual(pairs.map((p) => (total += p[1])));
    expect(view.total).toBe(total);
    expect(sortedViewOf([[]]).values.length).toBe(0);
  });
});

describe("HyperLogLog", () => {
  it("adds a Float64Array's values as their number hashes, -0 as 0", () => {
    const xs = Float64Array.from([1.5, -0, 0, 3, 1e300, -2.25, Number.MIN_VALUE]);
    const batch = new Hll();
    batch.addNumbers(xs, xs.length);
    const one = new Hll();
    for (const x of xs) one.addHash(hashNumber(x));
    expect(batch.registers).toEqual(one.registers);
    expect(hashNumber(-0)).toBe(hashNumber(0));
    expect(hashKey(2)).toBe(hashNumber(2));
  });

  it("estimates 100 000 distinct values within 5% and is exact-ish for small sets", () => {
    const big = new Hll();
    for (let i = 0; i < 100_000; i++) big.addHash(hashKey(`user-${i}`));
    expect(Math.abs(big.estimate() / 100_000 - 1)).toBeLessThan(0.05);
    const small = new Hll();
    for (let i = 0; i < 10; i++) small.addHash(hashKey(i));
    expect(small.estimate()).toBe(10);
    expect(new Hll().estimate()).toBe(0);
  });

  it("merging is the union, exactly", () => {
    const a = new Hll();
    const b = new Hll();
    const whole = new Hll();
    for (let i = 0; i < 20_000; i++) {
      (i % 2 ? a : b).addHash(hashKey(i * 1.5));
      whole.addHash(hashKey(i * 1.5));
    }
    const merged = Hll.fromJSON(a.toJSON());
    merged.merge(b);
    expect(merged.estimate()).toBe(whole.estimate());
  });
});

describe("frequent items (Misra-Gries)", () => {
  it("is exact while there are at most k distinct values", () => {
    const f = new FrequentItems(4);
    for (const [k, c] of [
      ["a", 5],
      ["b", 3],
      ["c", 1],
    ] as const)
      f.add(k, c);
    expect(f.top()).toEqual([
      ["a", 5],
      ["b", 3],
      ["c", 1],
    ]);
    expect(f.maxError).toBe(0);
  });

  it("keeps heavy hitters within maxError when values overflow k", () => {
    const f = new FrequentItems(16);
    const truth = new Map<number, number>();
    for (let i = 0; i < 50_000; i++) {
      const v = i % 3 === 0 ? 7 : i % 5 === 0 ? 11 : i; // two heavy hitters among many singletons
      truth.set(v, (truth.get(v) ?? 0) + 1);
      f.add(v);
    }
    const state = f.toJSON();
    expect(state.items.length).toBeLessThanOrEqual(16);
    for (const [v, c] of state.items) {
      expect(c).toBeLessThanOrEqual(truth.get(v as number)!);
      expect(c + state.maxError).toBeGreaterThanOrEqual(truth.get(v as number)!);
    }
    expect(state.items[0]![0]).toBe(7);
    expect(state.maxError).toBeLessThanOrEqual(50_000 / 17);
  });

  it("reduces a batch by its (k+1)-th largest count, with and without counts of 1 dominating", () => {
    const k = 8;
    const cases: number[][] = [
      Array.from({ length: 50 }, () => 1), // all distinct: the (k+1)-th largest is 1
      [5, 3, 2, ...Array.from({ length: 40 }, () => 1)], // fewer than k+1 counts above 1
      Array.from({ length: 30 }, (_, i) => 1 + ((i * 7) % 13)), // a real selection
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1], // zeros: fewer than k+1 counts reach 1
    ];
    for (const counts of cases) {
      const f = new FrequentItems(k);
      const keys = counts.map((_, i) => i);
      f.addBatch(keys, counts, counts.length);
      const threshold = [...counts].sort((a, b) => b - a)[k]!;
      expect(f.maxError).toBe(threshold);
      expect(f.n).toBe(counts.reduce((a, b) => a + b, 0));
      const kept = keys.filter((i) => counts[i]! > threshold).map((i) => [i, counts[i]! - threshold]);
      expect([...f.counts].sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual(kept);
    }
  });
});

describe("moments", () => {
  it("Chan's merge equals the two-pass result", () => {
    const data = values(10_001);
    const whole = momentsOf(data);
    const merged = mergeMoments(momentsOf(data.slice(0, 3000)), momentsOf(data.slice(3000)));
    expect(merged.n).toBe(whole.n);
    expect(merged.mean).toBeCloseTo(whole.mean, 10);
    expect(merged.m2 / merged.n).toBeCloseTo(whole.m2 / whole.n, 8);
    expect([merged.min, merged.max]).toEqual([whole.min, whole.max]);
  });
});

describe("NumberCounter", () => {
  it("counts numbers exactly through growth, -0 as 0", () => {
    const c = new NumberCounter(4);
    for (let i = 0; i < 10_000; i++) c.add(i % 777);
    c.add(-0);
    const seen = new Map<number, number>();
    c.forEach((v, n) => seen.set(v, n));
    expect(seen.size).toBe(777);
    expect(seen.get(0)).toBe(Math.ceil(10_000 / 777) + 1);
  });
});
