import { describe, expect, it } from "vitest";
import { arrayElementTexts, copyChunks, featureTexts, type WireRequest } from "./prediction-log-rows.mjs";

describe("arrayElementTexts", () => {
  it("slices a JSON array's text into each element's own JSON text, as JSON.stringify writes it", () => {
    const elements: unknown[] = [
      { label: "a,b]", probabilities: { "x}": 0.5, 'q"': [1, [2, "]"]] } },
      null,
      'back\\slash " quote, [bracket',
      [],
      {},
      -0.5,
      true,
    ];
    const texts = arrayElementTexts(JSON.stringify(elements), elements.length);
    expect(texts).toEqual(elements.map((e) => (e === null ? null : JSON.stringify(e))));
  });

  it("gives null for rows the array does not hold", () => {
    expect(arrayElementTexts("[]", 2)).toEqual([null, null]);
    expect(arrayElementTexts("[1]", 2)).toEqual(["1", null]);
  });
});

describe("copyChunks", () => {
  const request = (over: Partial<WireRequest>): WireRequest => ({
    project: "p",
    endpoint: "e",
    model: "m",
    version: 1,
    slot: "primary",
    requestId: "r",
    at: 5,
    latencyMs: 1.5,
    error: null,
    ids: ["a", "b"],
    names: ["x"],
    values: new Float64Array([1, 0.25]),
    others: null,
    featureJson: null,
    outputs: '[{"v":1},null]',
    ...over,
  });

  it("writes one COPY text line per row, escaping only where a special character can be", () => {
    const text = [
      ...copyChunks(
        [
          request({}),
          request({ ids: ["c"], names: ["t\tb"], values: new Float64Array([2]), outputs: '["n\\\\l"]', error: "x\ty" }),
        ],
        1,
      ),
    ].join("");
    expect(text.split("\n")).toEqual([
      'a\tp\te\tm\t1\tprimary\tr\t5\t1.5\t{"x":1}\t{"v":1}\t\\N',
      'b\tp\te\tm\t1\tprimary\tr\t5\t1.5\t{"x":0.25}\t\\N\t\\N',
      'c\tp\te\tm\t1\tprimary\tr\t5\t1.5\t{"t\\\\tb":2}\t"n\\\\\\\\l"\tx\\ty',
      "",
    ]);
  });

  it("yields chunks of about the size asked for", () => {
    const requests = Array.from({ length: 10 }, () => request({}));
    const chunks = [...copyChunks(requests, 200)];
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.join("").split("\n")).toHaveLength(21);
  });
});

describe("featureTexts", () => {
  /** What a row's text must be: each name's JSON, a colon, the value's JSON, in the list's order. */
  const oracle = (names: string[], values: unknown[]) =>
    `{${names.map((name, i) => `${JSON.stringify(name)}:${JSON.stringify(values[i])}`).join(",")}}`;
  const columns = (names: string[], rows: unknown[][]): WireRequest => {
    const values = new Float64Array(rows.length * names.length);
    const others: unknown[] = [];
    rows.flat().forEach((v, i) => {
      if (typeof v === "number") values[i] = v;
      else {
        values[i] = Number.NaN;
        others.push(i, v);
      }
    });
    return {
      project: "p",
      endpoint: "e",
      model: "m",
      version: 1,
      slot: "primary",
      requestId: "r",
      at: 1,
      latencyMs: 1,
      error: null,
      ids: rows.map((_, i) => `id${i}`),
      names,
      values,
      others: others.length ? others : null,
      featureJson: null,
      outputs: null,
    };
  };
  const numbers = [
    0,
    -0,
    1,
    -1,
    0.1 + 0.2,
    1e21,
    1e-7,
    -1.5e-300,
    5e-324,
    Number.MAX_VALUE,
    2 ** 53 + 2,
    123456789.125,
    -0.001,
    1 / 3,
  ];

  it("writes numbers as JSON.stringify does, names in the list's order, whichever way the row is made", () => {
    // Plain names (one object per row), then names an object literal cannot stand for (per value).
    for (const names of [
      ["f0", "f1", "a b", 'q"uote', "tab\t", "Zürich", "constructor"],
      ["f0", "1", "b", "0", "x", "y", "z"],
      ["f0", "__proto__", "b", "c", "d", "e", "g"],
      ["f0", "f0", "b", "c", "d", "e", "g"],
    ]) {
      const rows = [0, 1].map((r) => names.map((_, c) => numbers[(r * names.length + c) % numbers.length]!));
      expect(featureTexts(columns(names, rows))).toEqual(rows.map((row) => oracle(names, row)));
    }
  });

  it("writes null, booleans and strings beside the numbers", () => {
    const names = ["n", "city", "flag"];
    const rows = [
      [1.5, 'Zürich "q"', true],
      [null, 7, false],
    ];
    expect(featureTexts(columns(names, rows))).toEqual(rows.map((row) => oracle(names, row)));
  });
});
