import { describe, expect, it } from "vitest";
import { arrayElementTexts, copyChunks, type WireRequest } from "./prediction-log-rows.mjs";

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
