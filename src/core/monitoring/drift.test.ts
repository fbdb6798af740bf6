import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../../test/helpers/seeded.js";
import { inferColumnType } from "./columns.js";
import { computeDrift, driftReportToWire } from "./drift.js";

/** Deterministic pseudo-normal values (sum of seeded uniforms). */
function normals(n: number, seed: number, loc = 0, scale = 1): Float64Array {
  const u = mulberry32(seed);
  return Float64Array.from({ length: n }, () => loc + scale * (u() + u() + u() + u() - 2) * 1.7);
}
const cats = (n: number, shares: number[], seed: number): string[] => {
  const u = mulberry32(seed + 1000);
  return Array.from({ length: n }, () => {
    const r = u();
    let acc = 0;
    for (let k = 0; k < shares.length; k++) if (r < (acc += shares[k]!)) return `v${k}`;
    return `v${shares.length - 1}`;
  });
};

describe("column type inference (the Data area's rules)", () => {
  it("float, small-integer, string, text, bool and datetime columns", () => {
    expect(inferColumnType(new Float64Array([1, 2, 3]))).toBe("numeric");
    expect(inferColumnType([1.5, 2, 3])).toBe("numeric");
    expect(inferColumnType([1, 2, 3, 1, 2, 3])).toBe("categorical");
    expect(inferColumnType(Array.from({ length: 50 }, (_, i) => i))).toBe("numeric");
    expect(inferColumnType(["a", "b", "a", "a"])).toBe("categorical");
    expect(inferColumnType(["a b", "c d", "e f", "a b"])).toBe("text");
    expect(inferColumnType([true, false, null])).toBe("categorical");
    expect(inferColumnType(["2024-05-01", "2024-05-02T10:00:00Z", null])).toBe("datetime");
    expect(inferColumnType([new Date(0), new Date(1)])).toBe("datetime");
    // Mixed kinds fall back to strings, as in profiles: then the distinct-count rule decides.
    expect(inferColumnType([1, "a", 2, "b"])).toBe("text");
    expect(inferColumnType([1, "a", 1, "a", 1, "a"])).toBe("categorical");
    expect(inferColumnType(["2024-05-01", "soon", "2024-05-01", "soon"])).toBe("categorical");
  });
});

describe("computeDrift follows Evidently's default test selection", () => {
  it("small reference: KS for numeric, chi-square for > 2 values, Z for two", () => {
    const ref = { x: normals(500, 1), c: cats(500, [0.5, 0.3, 0.2], 1), b: cats(500, [0.5, 0.5], 2) };
    const cur = { x: normals(400, 2, 1), c: cats(400, [0.5, 0.3, 0.2], 3), b: cats(400, [0.5, 0.5], 4) };
    const r = computeDrift(ref, cur);
    expect(r.columns.map((c) => [c.name, c.test])).toEqual([
      ["x", "ks"],
      ["c", "chisquare"],
      ["b", "z"],
    ]);
    const x = r.columns[0]!;
    expect(x.drift).toBe(true);
    expect(x.threshold).toBe(0.05);
    expect(x.pValue).toBeLessThan(0.05);
    expect(r.columns[1]!.drift).toBe(false);
    expect(r.shareDrifted).toBeCloseTo(1 / 3);
    expect(r.datasetDrift).toBe(false);
  });

  it("large reference: normalised Wasserstein for numeric, Jensen-Shannon for categorical; ≥ half drifts the dataset", () => {
    const ref = { x: normals(3000, 5), c: cats(3000, [0.5, 0.3, 0.2], 5) };
    const cur = { x: normals(2000, 6, 0.5), c: cats(2000, [0.5, 0.3, 0.2], 7) };
    const r = computeDrift(ref, cur);
    expect(r.columns.map((c) => c.test)).toEqual(["wasserstein", "jensenshannon"]);
    expect(r.columns[0]!.pValue).toBeNull();
    expect(r.columns[0]!.threshold).toBe(0.1);
    expect(r.columns[0]!.drift).toBe(true);
    expect(r.columns[1]!.drift).toBe(false);
    expect(r.shareDrifted).toBe(0.5);
    expect(r.datasetDrift).toBe(true);
    const wire = driftReportToWire(r);
    expect(Object.keys(wire)).toEqual(["dataset_drift", "share_drifted", "columns"]);
    expect(Object.keys(wire.columns[0]!)).toEqual([
      "name",
      "type",
      "test",
      "statistic",
      "p_value",
      "threshold",
      "drift",
    ]);
  });

  it("numeric columns with ≤ 5 distinct values get the categorical tests", () => {
    const few = (n: number, s: number): number[] =>
      Array.from(normals(n, s), (v) => Math.abs(Math.round(v * 1000)) % 4);
    const small = computeDrift({ k: few(300, 1).map((v) => v + 0.5) }, { k: few(300, 2).map((v) => v + 0.5) });
    expect(small.columns[0]!.test).toBe("chisquare");
    const large = computeDrift({ k: few(3000, 1).map((v) => v + 0.5) }, { k: few(3000, 2).map((v) => v + 0.5) });
    expect(large.columns[0]!.test).toBe("jensenshannon");
  });

  it("drops NaN, ±inf and nulls first; skips text and datetime; honours overrides and PSI on request", () => {
    const x = Array.from(normals(200, 9));
    const r = computeDrift(
      { x: [...x, Number.NaN, Infinity, null], t: x.map((v) => `id ${v}`), d: x.map(() => "2024-01-01") },
      { x: [...x, -Infinity], t: x.map((v) => `id ${v}`), d: x.map(() => "2024-01-02") },
      { perColumn: { x: { threshold: 0.5 } } },
    );
    expect(r.columns).toHaveLength(1);
    expect(r.columns[0]).toMatchObject({
      name: "x",
      test: "ks",
      statistic: 0,
      pValue: 1,
      threshold: 0.5,
      drift: false,
    });
    expect(r.skipped.map((s) => [s.name, s.type])).toEqual([
      ["t", "text"],
      ["d", "datetime"],
    ]);
    const p = computeDrift({ x: normals(2000, 1) }, { x: normals(2000, 2, 0.3) }, { test: "psi" });
    expect(p.columns[0]!.test).toBe("psi");
    expect(p.columns[0]!.statistic).toBeGreaterThan(0);
  });

  it("names a missing column clearly", () => {
    expect(() => computeDrift({ a: [1] }, { b: [1] }, { columns: ["a"] })).toThrow(
      /column "a" is not in the current data/,
    );
  });
});
