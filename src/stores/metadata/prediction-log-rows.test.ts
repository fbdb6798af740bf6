import { describe, expect, it } from "vitest";
import {
  arrayElementTexts,
  BATCH_COLUMNS,
  batchesOf,
  copyChunks,
  featureTexts,
  idAt,
  idKey,
  idRuns,
  outputTexts,
  StoredBatch,
  valuesBlob,
  type StoredBatchRow,
  type WireRequest,
} from "./prediction-log-rows.mjs";

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

describe("batches", () => {
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
  const head = "0123456789abcdef01234567";
  const hex = (n: number) => `${head}${n.toString(16).padStart(8, "0")}`;
  /** A batch's values by column name, read back as a store reads them. */
  const stored = (batch: unknown[]) => {
    const row = Object.fromEntries(BATCH_COLUMNS.map((c, i) => [c, batch[i]])) as Record<string, unknown>;
    if (row.feature_values) row.feature_values = valuesBlob(row.feature_values as Float64Array);
    return new StoredBatch(row as unknown as StoredBatchRow);
  };

  it("keys 32-hex ids by their first 24 characters and the number the last 8 spell, any other id by itself", () => {
    expect(idKey(hex(0xfffffffe))).toEqual([head, 0xfffffffe]);
    expect(idKey("burst-1")).toEqual(["burst-1", -1]);
    expect(idKey(hex(7).toUpperCase())).toEqual([hex(7).toUpperCase(), -1]);
    expect(idAt(head, 0xfffffffe, 1)).toBe(hex(0xffffffff));
    expect(idAt("burst-1", -1, 0)).toBe("burst-1");
  });

  it("makes one batch of a request whose ids follow each other, and splits where they do not", () => {
    expect(idRuns([hex(1), hex(2), hex(3)])).toEqual([{ start: 0, end: 3, head, first: 1 }]);
    expect(idRuns([hex(1), hex(3), "x", "y", hex(0xffffffff), `${head.slice(0, 23)}9${"0".repeat(8)}`])).toEqual([
      { start: 0, end: 1, head, first: 1 },
      { start: 1, end: 2, head, first: 3 },
      { start: 2, end: 3, head: "x", first: -1 },
      { start: 3, end: 4, head: "y", first: -1 },
      { start: 4, end: 5, head, first: 0xffffffff },
      { start: 5, end: 6, head: `${head.slice(0, 23)}9`, first: 0 },
    ]);
  });

  it("gives back every row's id, features and output exactly as the per-row log stored them", () => {
    const names = ["n", 'odd "name"\t', "city"];
    const r = request({
      ids: [hex(10), hex(11), hex(13), hex(14)],
      names,
      values: new Float64Array([0.1, NaN, NaN, 1e21, 2, NaN, -0, NaN, 3, 4, 5, 6]),
      others: [1, null, 2, "Zürich\t\\", 5, true, 7, { nested: [1, "]"] }],
      outputs: '[{"v":1},null,"a,b]",[2]]',
    });
    const batches = batchesOf(r);
    expect(batches.map((b) => b[2])).toEqual([2, 2]);
    const rows = batches.flatMap((b) => {
      const s = stored(b);
      return [0, 1].map((i) => [s.id(i), s.featureText(i), s.outputText(i)]);
    });
    const texts = featureTexts(r);
    const outputs = outputTexts(r);
    expect(rows).toEqual(r.ids!.map((id, i) => [id, texts[i], outputs[i]]));
    // A records runner's request: its rows' texts, kept as they came.
    const records = request({ ids: ["p", "q"], featureJson: ['{"a": 1}', "{}"], names: null, values: null });
    expect(batchesOf(records).map((b) => [stored(b).featureText(0), stored(b).outputText(0)])).toEqual([
      ['{"a": 1}', '{"v":1}'],
      ["{}", null],
    ]);
  });

  it("writes one COPY text line per batch: the values as bytea hex, every text escaped", () => {
    const r = request({
      ids: [hex(1), hex(2)],
      names: ["t\tb"],
      values: new Float64Array([1, 0.25]),
      outputs: '["n\\\\l",null]',
      error: "x\ty",
    });
    const text = [...copyChunks([r], 1)].join("");
    expect(text.split("\n")).toEqual([
      [
        head,
        "1",
        "2",
        "p",
        "e",
        "m",
        "1",
        "primary",
        "r",
        "5",
        "1.5",
        "x\\ty",
        '["t\\\\tb"]',
        `\\\\x${Buffer.from(new Float64Array([1, 0.25]).buffer).toString("hex")}`,
        "\\N",
        "\\N",
        '["n\\\\\\\\l",null]',
      ].join("\t"),
      "",
    ]);
  });

  it("yields chunks of about the size asked for", () => {
    const requests = Array.from({ length: 10 }, (_, k) => request({ ids: [hex(2 * k), hex(2 * k + 1)] }));
    const chunks = [...copyChunks(requests, 200)];
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.join("").split("\n")).toHaveLength(11);
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
