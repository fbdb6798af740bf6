import { beforeAll, describe, expect, it } from "vitest";
import type { FlightsTable } from "./flights.js";
import { flightsColumns, flightsParquetPath, readFlights, splitFlights } from "./flights.js";

let table: FlightsTable;
beforeAll(async () => {
  table = await readFlights({ file: flightsParquetPath(), rowStart: 0, rowEnd: 5000 });
});

describe("flights data", () => {
  it("reads the parquet columns; the local timestamp keeps its wall-clock hour", () => {
    expect(table.rows).toBe(5000);
    // First row: 2001-01-01 00:01 (a Monday), 33 min late, 2176 miles, LAS → PHL.
    expect(new Date(table.date[0]!).toISOString()).toBe("2001-01-01T00:01:00.000Z");
    expect([table.delay[0], table.distance[0]]).toEqual([33, 2176]);
    expect([table.airports[table.origin[0]!], table.airports[table.destination[0]!]]).toEqual(["LAS", "PHL"]);
    const cols = flightsColumns(table, "classification");
    expect(cols.hour![0]).toBeCloseTo(1 / 60, 6);
    expect(cols.weekday![0]).toBe(1);
    expect(cols.delayed![0]).toBe(1);
    expect(cols.origin![0]).toBe("LAS");
  });

  it("fits airport encodings on training rows only and splits reproducibly", () => {
    const a = splitFlights({ table, task: "classification", testFraction: 0.2, seed: 7 });
    const b = splitFlights({ table, task: "classification", testFraction: 0.2, seed: 7 });
    expect(a.train.x.rows + a.test.x.rows).toBe(5000);
    expect(a.test.x.data).toEqual(b.test.x.data);
    expect(a.featureNames).toEqual([
      "hour",
      "weekday",
      "distance",
      "origin_frequency",
      "destination_frequency",
      "origin_target",
      "destination_target",
    ]);
    // Frequencies are shares of the training rows: they sum to 1 over airports.
    expect(a.encoding.originFrequency.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 9);
  });
});
