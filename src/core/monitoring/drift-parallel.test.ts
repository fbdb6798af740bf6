import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../../test/helpers/seeded.js";
import { computeDrift, type DriftOptions } from "./drift.js";
import { computeDriftParallel } from "./drift-parallel.js";
import type { Table } from "./columns.js";

/** 6 numeric columns (two of few values, NaN sprinkled) and 2 label columns, 200 000 rows. */
function table(seed: number, shift: number): Record<string, ArrayLike<unknown>> {
  const rnd = mulberry32(seed);
  const rows = 200_000;
  const out: Record<string, ArrayLike<unknown>> = {};
  for (let c = 0; c < 6; c++) {
    const col = new Float64Array(rows);
    for (let i = 0; i < rows; i++)
      col[i] = i % 97 === 0 ? Number.NaN : c < 2 ? Math.floor(rnd() * 4) : rnd() * 10 + (c % 2 ? shift : 0);
    out[`n${c}`] = col;
  }
  for (let c = 0; c < 2; c++)
    out[`l${c}`] = Array.from({ length: rows }, () => ["a", "b", "c", null][Math.floor(rnd() * 4)]);
  return out;
}

/** A fresh copy of both tables (the parallel run moves its worker's columns away). */
const fresh = (): [Table, Table] => [table(1, 0), table(2, 0.3)];

describe("computeDriftParallel", () => {
  it.each<[string, DriftOptions]>([
    ["default tests", {}],
    [
      "histograms, forced PSI, a per-column threshold",
      { histograms: true, test: "psi", perColumn: { n3: { threshold: 0.2 } } },
    ],
    ["a subset of columns in another order", { columns: ["l1", "n5", "n0", "n4"] }],
  ])("gives computeDrift's report: %s", async (_, options) => {
    const [ref, cur] = fresh();
    const expected = computeDrift(ref, cur, options);
    expect(await computeDriftParallel(...fresh(), options)).toEqual(expected);
  });

  it("throws computeDrift's error, for the first column in order that fails", async () => {
    // The Z-test refuses columns of more than two values: n0 (4 values, on the worker) and n5 (on this
    // thread) both fail; computeDrift names n0's, the first in column order.
    const options: DriftOptions = { perColumn: { n5: { test: "z" }, n0: { test: "z" } } };
    const [ref, cur] = fresh();
    expect(() => computeDrift(ref, cur, options)).toThrow(/Z-test needs at most two values, found 4/);
    await expect(computeDriftParallel(...fresh(), options)).rejects.toThrow(/Z-test needs at most two values, found 4/);
    await expect(computeDriftParallel(...fresh(), { columns: ["nope"] })).rejects.toThrow(/"nope" is not in/);
  });
});
