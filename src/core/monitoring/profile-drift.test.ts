import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../../test/helpers/seeded.js";
import { mergeProfiles, profileTable } from "../data/profile/builder.js";
import { computeDrift } from "./drift.js";
import { computeDriftFromProfiles } from "./profile-drift.js";

function table(rows: number, seed: number, shift: number): Record<string, ArrayLike<unknown>> {
  const u = mulberry32(seed);
  const normal = (): number => u() + u() + u() + u() + u() + u() - 3;
  const x = new Float64Array(rows);
  const few = new Float64Array(rows);
  const color: string[] = [];
  for (let i = 0; i < rows; i++) {
    x[i] = i % 97 === 0 ? Number.NaN : 10 + shift + 2 * normal();
    few[i] = Math.floor(u() * (8 + shift)) + 0.5; // float column with ≤ 20 distinct values
    color.push(u() < 0.5 + shift / 10 ? "red" : u() < 0.5 ? "green" : "blue");
  }
  return { x, few, color };
}

/** A current window profiled in two halves and merged, as monitoring rolls windows up. */
function mergedProfile(t: Record<string, ArrayLike<unknown>>) {
  const half = (from: number, to: number) =>
    Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Array.prototype.slice.call(v, from, to) as unknown[]]));
  const n = (t.x as Float64Array).length;
  return mergeProfiles(profileTable(half(0, n / 2)), profileTable(half(n / 2, n)));
}

describe("drift from profiles stays within the sketches' stated error of the raw-row answer", () => {
  for (const [label, refRows, curRows, shift] of [
    ["small reference (KS, chi-square)", 800, 6000, 0.3],
    ["large reference (Wasserstein, Jensen-Shannon)", 20_000, 30_000, 0.3],
    ["large reference, no shift", 20_000, 30_000, 0],
  ] as const) {
    it(label, () => {
      const ref = table(refRows, 1, 0);
      const cur = table(curRows, 2, shift);
      const raw = computeDrift(ref, cur);
      const prof = computeDriftFromProfiles(profileTable(ref), mergedProfile(cur));
      expect(prof.computedFrom).toBe("profile");
      expect(prof.columns.map((c) => c.test)).toEqual(raw.columns.map((c) => c.test));
      for (const p of prof.columns) {
        const r = raw.columns.find((c) => c.name === p.name)!;
        if (p.errorBound !== null) {
          expect(Math.abs(p.statistic - r.statistic), `${p.name} ${p.test}`).toBeLessThanOrEqual(p.errorBound + 1e-9);
        } else {
          // Binned distances carry no derived bound; they still land close to the raw answer.
          expect(Math.abs(p.statistic - r.statistic), `${p.name} ${p.test}`).toBeLessThan(0.05);
        }
        if (p.errorBound === 0) expect(p.pValue ?? 0).toBeCloseTo(r.pValue ?? 0, 9);
      }
      expect(prof.datasetDrift).toBe(raw.datasetDrift);
    });
  }

  it("numeric columns with few distinct values are exact; binned PSI is refused, not guessed", () => {
    const ref = table(20_000, 3, 0);
    const cur = table(20_000, 4, 0.3);
    const prof = computeDriftFromProfiles(profileTable(ref), profileTable(cur), { test: "psi" });
    const raw = computeDrift(ref, cur, { test: "psi" });
    expect(prof.columns.map((c) => [c.name, c.errorBound])).toEqual([
      ["few", 0],
      ["color", 0],
    ]);
    for (const p of prof.columns)
      expect(p.statistic).toBeCloseTo(raw.columns.find((c) => c.name === p.name)!.statistic, 9);
    expect(prof.skipped).toEqual([
      expect.objectContaining({ name: "x", reason: expect.stringMatching(/needs raw rows/) }),
    ]);
    const js = computeDriftFromProfiles(profileTable(ref), profileTable(cur), {
      test: "jensenshannon",
      columns: ["x"],
    });
    expect(js.columns[0]).toMatchObject({ test: "jensenshannon", errorBound: null });
  });
});
