import { describe, expect, it } from "vitest";
import { buildSignature } from "../training/signature.js";
import { buildCodec, FlatRows } from "./codec.js";

const signature = buildSignature({
  task: "binary_classification",
  algorithm: "t",
  features: [
    { name: "distance", type: "numeric" },
    { name: "carrier", type: "categorical", categories: ["AA", "UA"] },
  ],
  classLabels: ["on_time", "delayed"],
});

describe("codec", () => {
  const codec = buildCodec(signature);

  it("maps objects and arrays in signature order; unknown categories and null become NaN", () => {
    const b = codec.encode([{ distance: 100, carrier: "UA", extra: 1 }, [5, "zz"], { distance: null, carrier: "AA" }]);
    expect(b.rows).toBe(3);
    expect(Array.from(b.data.slice(0, 2))).toEqual([100, 1]);
    expect(b.data[2]).toBe(5);
    expect(Number.isNaN(b.data[3])).toBe(true);
    expect(Number.isNaN(b.data[4])).toBe(true);
    // Logged as sent: numbers in full precision in columns, anything else marked NaN and kept aside.
    expect(b.logged.names).toEqual(["distance", "carrier"]);
    expect(Array.from(b.logged.values.slice(0, 3))).toEqual([100, Number.NaN, 5]);
    expect(b.logged.others).toEqual([1, "UA", 3, "zz", 4, null, 5, "AA"]);
  });

  it("names the instance and feature of a missing feature or a wrong type (422)", () => {
    expect(() => codec.encode([{ distance: 1, carrier: "AA" }, { carrier: "AA" }])).toThrow(
      /instances\[1\]: missing feature "distance"/,
    );
    expect(() => codec.encode([{ distance: "far", carrier: "AA" }])).toThrow(
      /feature "distance" is numeric: expected a number, got the string "far"/,
    );
    expect(() => codec.encode([[1]])).toThrow(/expected 2 values in signature order \(distance, carrier\)/);
    try {
      codec.encode(["x"]);
    } catch (e) {
      expect((e as { code: string }).code).toBe("UNPROCESSABLE");
    }
  });

  it("encodes a flat tensor exactly as the same rows sent as arrays, errors included", () => {
    const rows = [
      [100, "UA"],
      [5.25, "zz"],
      [null, 2],
      [true, null],
    ];
    const flat = codec.encode(new FlatRows(rows.flat(), rows.length, 2));
    const asArrays = codec.encode(rows);
    expect(flat.rows).toBe(4);
    expect(Array.from(flat.data)).toEqual(Array.from(asArrays.data));
    expect(Array.from(flat.logged.values)).toEqual(Array.from(asArrays.logged.values));
    expect(flat.logged.others).toEqual(asArrays.logged.others);
    expect(() => codec.encode(new FlatRows([1, "AA", "far", "AA"], 2, 2))).toThrow(
      /instances\[1\]: feature "distance" is numeric: expected a number, got the string "far"/,
    );
    expect(() => codec.encode(new FlatRows([Number.NaN, "AA"], 1, 2))).toThrow(/instances\[0\].*finite number/);
    expect(() => codec.encode(new FlatRows([1, 2, 3], 1, 3))).toThrow(/expected 2 values per instance, got 3/);
  });

  it("takes plain numbers straight in when every feature is numeric, and still refuses the rest", () => {
    const numeric = buildCodec(
      buildSignature({
        task: "regression",
        algorithm: "t",
        features: [
          { name: "a", type: "numeric" },
          { name: "b", type: "numeric" },
        ],
      }),
    );
    const b = numeric.encode([{ a: 0.1, b: -2 }, [null, false], new Array(2).fill(1e300)]);
    expect(Array.from(b.data.slice(0, 4))).toEqual([Math.fround(0.1), -2, Number.NaN, 0]);
    expect(Array.from(b.logged.values.slice(0, 2))).toEqual([0.1, -2]);
    expect(b.logged.others).toEqual([2, null, 3, false]);
    expect(() => numeric.encode([{ a: Infinity, b: 1 }])).toThrow(/feature "a" must be a finite number/);
    expect(() => numeric.encode(new FlatRows([1, "2"], 1, 2))).toThrow(/feature "b" is numeric/);
  });

  it("decodes classifier outputs to {label, probabilities} keyed by class label", () => {
    const out = codec.decode(
      {
        label: { data: BigInt64Array.from([1n, 0n]), dims: [2] },
        probabilities: { data: Float32Array.from([0.25, 0.75, 0.5, 0.5]), dims: [2, 2] },
      },
      2,
    );
    expect(out[0]).toEqual({ label: "delayed", probabilities: { on_time: 0.25, delayed: 0.75 } });
    expect((out[1] as { label: string }).label).toBe("on_time");
  });

  it("decodes regressors to {value}", () => {
    const reg = buildCodec(
      buildSignature({ task: "regression", algorithm: "t", features: [{ name: "x", type: "numeric" }] }),
    );
    expect(reg.decode({ value: { data: Float32Array.from([1.5, 2]), dims: [2, 1] } }, 2)).toEqual([
      { value: 1.5 },
      { value: 2 },
    ]);
  });
});
