import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../../../test/helpers/seeded.js";
import { NumberCounter } from "./number-counter.js";
import { tallyNumbers } from "./number-tally.js";
import { sortNumbers } from "./sort-numbers.js";

const u = mulberry32(11);
const normal = () => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());

/** Inputs that exercise each branch of the bucket sort: spread, skewed, repeated, tiny and extreme. */
function inputs(): Array<[string, Float64Array]> {
  const of = (n: number, f: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => f(i));
  return [
    ["normal", of(10_000, () => 5 + normal())],
    ["lognormal (crowded buckets, nested sorts)", of(20_000, () => Math.exp(6 * normal()))],
    ["two values and an outlier", of(5000, () => (u() < 0.001 ? 1e12 : Math.floor(u() * 2)))],
    ["five repeated values", of(50_000, () => 1 + Math.floor(u() * 5))],
    ["constant", of(1000, () => 3.5)],
    ["zeros of both signs", of(3000, (i) => (i % 3 === 0 ? -0 : i % 3 === 1 ? 0 : u() - 0.5))],
    ["infinities", of(2000, (i) => (i === 7 ? Infinity : i === 9 ? -Infinity : normal()))],
    ["extreme range", of(2000, (i) => (i === 0 ? -Number.MAX_VALUE : i === 1 ? Number.MAX_VALUE : normal()))],
    ["subnormal range", of(2000, () => Number.MIN_VALUE * Math.floor(u() * 100))],
    ["short", of(17, () => normal())],
    ["empty", of(0, () => 0)],
  ];
}

/** The built-in sort with -0 read as 0, as the tally counts it. */
function reference(values: Float64Array): number[] {
  return Array.from(values.slice().sort(), (v) => (v === 0 ? 0 : v));
}

describe("sortNumbers", () => {
  it.each(inputs())("sorts like the built-in sort, -0 as 0: %s", (_name, values) => {
    const sorted = sortNumbers(values, values.length);
    expect(sorted.length).toBe(values.length);
    expect(Array.from(sorted)).toEqual(reference(values));
    expect(sorted.some((v) => Object.is(v, -0))).toBe(false);
  });

  it("sorts only the first `length` values and leaves its input alone", () => {
    const values = Float64Array.from([3, 1, 2, 0, -1]);
    expect(Array.from(sortNumbers(values, 3))).toEqual([1, 2, 3]);
    expect(Array.from(values)).toEqual([3, 1, 2, 0, -1]);
  });
});

/** Exact counts the plain way. */
function expectedTally(values: ArrayLike<number>, weighted: Array<[number, number]> = []): Array<[number, number]> {
  const counts = new Map<number, number>();
  for (let i = 0; i < values.length; i++) counts.set(values[i]! + 0, (counts.get(values[i]! + 0) ?? 0) + 1);
  for (const [v, c] of weighted) counts.set(v + 0, (counts.get(v + 0) ?? 0) + c);
  return [...counts].sort((a, b) => a[0] - b[0]);
}

function pairs(t: { values: Float64Array; counts: Float64Array; size: number }): Array<[number, number]> {
  return Array.from({ length: t.size }, (_, i) => [t.values[i]!, t.counts[i]!]);
}

describe("tallyNumbers", () => {
  it.each(inputs())("counts each distinct value exactly, ascending: %s", (_name, values) => {
    expect(pairs(tallyNumbers(values, values.length))).toEqual(expectedTally(values));
  });

  it("gives the same tally whether a long chunk is sorted (mostly distinct) or hashed (mostly repeated)", () => {
    // 100 000 values: the first kind is mostly distinct, the second repeats 1 000 values.
    const distinct = Float64Array.from({ length: 100_000 }, () => normal());
    const repeated = Float64Array.from({ length: 100_000 }, () => Math.floor(u() * 1000) / 8 - 40);
    for (const values of [distinct, repeated]) {
      expect(pairs(tallyNumbers(values, values.length))).toEqual(expectedTally(values));
    }
  });

  it("adds numbers that arrive counted (read out of text), merging equal values", () => {
    const values = Float64Array.from([2, 1, 2, 5, -0]);
    const weighted = { values: [2, 7, 0, 1], counts: [3, 2, 4, 1] };
    const tally = tallyNumbers(values, values.length, weighted);
    expect(pairs(tally)).toEqual([
      [0, 5],
      [1, 2],
      [2, 5],
      [5, 1],
      [7, 2],
    ]);
  });
});

describe("NumberCounter.sortedTally", () => {
  it("lists the distinct values ascending with their counts, through growth", () => {
    const c = new NumberCounter(4);
    const values: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const v = ((i * 7919) % 777) - 300.5;
      values.push(v);
      c.add(v);
    }
    expect(pairs(c.sortedTally())).toEqual(expectedTally(values));
    expect(c.countOf(-300.5)).toBe(values.filter((v) => v === -300.5).length);
    expect(c.countOf(12345)).toBe(0);
  });
});
