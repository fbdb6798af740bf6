import { describe, expect, it } from "vitest";
import { cdf, columnOf, frequentValues, histogram, quantile } from "./accessors.js";
import { mergeProfiles, profileTable } from "./builder.js";
import type { TableProfile } from "./model.js";

function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** A table of every column type the issue names, 20 000 rows. */
function table(rows: number, seed = 1) {
  const u = lcg(seed);
  const price: Array<number | null> = [];
  const stars: number[] = [];
  const id: number[] = [];
  const city: string[] = [];
  const comment: string[] = [];
  const ok: boolean[] = [];
  const when: string[] = [];
  for (let i = 0; i < rows; i++) {
    price.push(i % 50 === 0 ? null : Math.round((u() + u() + u()) * 1000) / 10);
    stars.push(1 + Math.floor(u() * 5));
    id.push(seed * 1_000_000 + i);
    city.push(["Oslo", "Lima", "Pune", "Kyiv"][Math.floor(u() * 4)]!);
    comment.push(`comment ${seed}-${i} ${Math.floor(u() * 1e6)}`);
    ok.push(u() < 0.3);
    when.push(new Date(Date.UTC(2024, 0, 1) + Math.floor(u() * 365) * 86_400_000).toISOString());
  }
  return { price, stars, id, city, comment, ok, when };
}

describe("profileTable", () => {
  it("infers the issue's types", () => {
    const p = profileTable(table(2000));
    const type = (name: string) => [columnOf(p, name).kind, columnOf(p, name).type];
    expect(type("price")).toEqual(["float", "numeric"]);
    expect(type("stars")).toEqual(["integer", "categorical"]); // 5 distinct ≤ 10
    expect(type("id")).toEqual(["integer", "numeric"]);
    expect(type("city")).toEqual(["string", "categorical"]);
    expect(type("comment")).toEqual(["string", "text"]);
    expect(type("ok")).toEqual(["bool", "categorical"]);
    expect(type("when")).toEqual(["datetime", "datetime"]);
  });

  it("counts rows, missing values, moments and exact small frequencies", () => {
    const p = profileTable({ x: [1, 2, 3, null, undefined, NaN, 4], y: ["a", "b", "a", "a", null, "b", "c"] });
    const x = columnOf(p, "x");
    expect([p.rowCount, x.count, x.nullCount]).toEqual([7, 7, 3]);
    expect(x.mean).toBe(2.5);
    expect(x.variance).toBe(1.25);
    expect([x.min, x.max]).toEqual([1, 4]);
    expect(quantile(x, 0.5)).toBe(2);
    expect(frequentValues(columnOf(p, "y")).items).toEqual([
      { value: "a", count: 3 },
      { value: "b", count: 2 },
      { value: "c", count: 1 },
    ]);
    expect(columnOf(p, "y").distinct).toBe(3);
  });

  it("reads CSV text as numbers, booleans, datetimes and null tokens", () => {
    const p = profileTable(
      {
        n: ["1", "2", "NA", "3"],
        f: ["1.5", "2", "", "-3e2"],
        b: ["true", "False", "TRUE", "null"],
        d: ["2024-01-02", "2024-01-03T04:05:06Z", "2024-01-04 10:00", ""],
      },
      { text: true },
    );
    expect(p.columns.map((c) => [c.name, c.kind, c.nullCount])).toEqual([
      ["n", "integer", 1],
      ["f", "float", 1],
      ["b", "bool", 1],
      ["d", "datetime", 1],
    ]);
    expect(columnOf(p, "d").min).toBe(Date.UTC(2024, 0, 2));
    expect(columnOf(p, "f").min).toBe(-300);
  });

  it("reads Object.prototype's names in CSV text as text (constructor was a bool holding a function)", () => {
    const p = profileTable({ job: ["constructor", "toString", "valueOf", "constructor"] }, { text: true });
    expect(p.columns.map((c) => [c.name, c.kind, c.nullCount])).toEqual([["job", "string", 0]]);
    const json = JSON.stringify(p);
    expect(json).toContain('"constructor"');
    expect(json).not.toContain("native code");
  });

  it("is plain JSON", () => {
    const p = profileTable(table(500));
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });
});

describe("mergeProfiles", () => {
  const rows = 20_000;
  const whole = table(rows, 5);
  const half = (from: number, to: number) =>
    Object.fromEntries(Object.entries(whole).map(([k, v]) => [k, (v as unknown[]).slice(from, to)])) as typeof whole;
  // Through JSON, as profiles are stored.
  const viaJson = (p: TableProfile) => JSON.parse(JSON.stringify(p)) as TableProfile;
  const merged = mergeProfiles(viaJson(profileTable(half(0, 7000))), viaJson(profileTable(half(7000, rows))));
  const direct = profileTable(whole);

  it("profile(A) ⊕ profile(B) equals profile(A ∪ B) for counts, types, moments and distinct counts", () => {
    expect(merged.rowCount).toBe(rows);
    for (const d of direct.columns) {
      const m = columnOf(merged, d.name);
      expect([m.kind, m.type, m.count, m.nullCount]).toEqual([d.kind, d.type, d.count, d.nullCount]);
      // HyperLogLog merges exactly; exact distinct counts (≤ 1024 values) are exact either way.
      expect(m.distinct).toBe(d.distinct);
      if (d.mean !== null) {
        expect(Math.abs(m.mean! - d.mean)).toBeLessThanOrEqual(1e-12 * Math.abs(d.mean) + 1e-9);
        expect(m.variance! / d.variance!).toBeCloseTo(1, 9);
        expect([m.min, m.max]).toEqual([d.min, d.max]);
      }
    }
    expect(frequentValues(columnOf(merged, "city")).items).toEqual(frequentValues(columnOf(direct, "city")).items);
  });

  it("quantiles and histograms agree within the sketch's rank error", () => {
    const eps = merged.accuracy.quantileRankError;
    expect(eps).toBeLessThan(0.02);
    const values = (whole.price.filter((x) => x !== null) as number[]).sort((a, b) => a - b);
    const trueRank = (x: number) => values.filter((v) => v <= x).length / values.length;
    const price = columnOf(merged, "price");
    for (const q of [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99]) {
      expect(Math.abs(trueRank(quantile(price, q)) - q)).toBeLessThan(2 * eps);
      expect(Math.abs(cdf(price, quantile(columnOf(direct, "price"), q)) - q)).toBeLessThan(2 * eps);
    }
    const h = histogram(price, { bins: 10 })!;
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(values.length);
    const hd = histogram(columnOf(direct, "price"), { bins: 10 })!;
    h.counts.forEach((c, i) => expect(Math.abs(c - hd.counts[i]!)).toBeLessThan(4 * eps * values.length));
  });

  it("treats a column one side lacks as missing there", () => {
    const p = mergeProfiles(profileTable({ a: [1, 2] }), profileTable({ a: [3], b: ["x"] }));
    expect(columnOf(p, "b")).toMatchObject({ count: 3, nullCount: 2 });
    expect(columnOf(p, "a")).toMatchObject({ count: 3, nullCount: 0, mean: 2 });
  });
});
