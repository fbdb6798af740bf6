/**
 * The oracle for output columns (output-rows.mjs): the predictions made from a request's columns,
 * and the log's text the writer thread makes from a copy of them, are exactly codec.decode's
 * predictions and JSON.stringify of them, for classifiers (label output or not, class labels or not,
 * labels out of range, numeric-looking and repeated class names, NaN) and regressors.
 */
import { describe, expect, it } from "vitest";
import { buildSignature, type ModelSignature } from "../training/signature.js";
import { buildCodec, type RawOutputs } from "./codec.js";
import { fastId, fastIdRun } from "./fast-id.js";
import { outputsJson } from "./output-rows.mjs";
import { idAt } from "../../stores/metadata/prediction-log-rows.mjs";

const features = [{ name: "x", type: "numeric" as const }];
const classifier = (classLabels?: (string | number)[]): ModelSignature =>
  buildSignature({
    task: "multiclass_classification",
    algorithm: "t",
    features,
    ...(classLabels ? { classLabels } : {}),
  });

/** A deterministic stream of numbers in [0, 1). */
function stream(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s / 2_147_483_648;
  };
}

function classifierOutputs(rows: number, k: number, random: () => number, withLabel: boolean): RawOutputs {
  const probabilities = Float32Array.from({ length: rows * k }, () => (random() < 0.05 ? Number.NaN : random()));
  const out: RawOutputs = { probabilities: { data: probabilities, dims: [rows, k] } };
  if (withLabel)
    out.label = {
      data: BigInt64Array.from({ length: rows }, () => BigInt(Math.floor(random() * (k + 2)) - 1)),
      dims: [rows],
    };
  return out;
}

describe("output columns", () => {
  const cases: Array<[string, ModelSignature, number]> = [
    ["class names", classifier(["no", "yes"]), 2],
    ["no class names", classifier(), 3],
    ["numeric-looking and repeated class names", classifier(["b", "1", "0", "b", 7]), 5],
    ["fewer names than classes", classifier(["a"]), 3],
    ["number class names in order", classifier([0, 1, 2]), 3],
    ["number class names out of order", classifier([1, 0]), 2],
    ["index-like names out of order", classifier(["10", "2", "0"]), 3],
    ['names with quotes, a backslash and "__proto__"', classifier(['a"b', "c\\d", "__proto__", "é"]), 4],
  ];
  for (const [name, signature, k] of cases) {
    for (const withLabel of [true, false]) {
      it(`classifier, ${name}, ${withLabel ? "with" : "without"} a label output: same predictions and text`, () => {
        const codec = buildCodec(signature);
        const random = stream(k * 31 + (withLabel ? 1 : 0));
        for (const rows of [0, 1, 7, 64]) {
          const out = classifierOutputs(rows, k, random, withLabel);
          const expected = codec.decode(out, rows);
          const { predictions, columns } = codec.decodeColumns(out, rows);
          expect(predictions).toEqual(expected);
          expect(columns).not.toBeNull();
          expect(outputsJson(structuredClone(columns!))).toBe(JSON.stringify(expected));
        }
      });
    }
  }

  it('keeps a class named "__proto__" in the answer and the log (it vanished: the name set the prototype)', () => {
    const codec = buildCodec(classifier(["a", "__proto__"]));
    const out: RawOutputs = { probabilities: { data: Float32Array.from([0.25, 0.75]), dims: [1, 2] } };
    const [answer] = codec.decode(out, 1) as Array<{ label: string; probabilities: Record<string, number> }>;
    expect(Object.keys(answer!.probabilities)).toEqual(["a", "__proto__"]);
    expect(answer!.label).toBe("__proto__");
    const { columns } = codec.decodeColumns(out, 1);
    expect(outputsJson(structuredClone(columns!))).toBe(
      '[{"label":"__proto__","probabilities":{"a":0.25,"__proto__":0.75}}]',
    );
  });

  it("regressor: same predictions and text", () => {
    const codec = buildCodec(buildSignature({ task: "regression", algorithm: "t", features }));
    const random = stream(3);
    const data = Float32Array.from({ length: 64 }, () => (random() - 0.5) * 1e6);
    data[3] = Number.NaN;
    data[4] = -0;
    const out: RawOutputs = { value: { data, dims: [64, 1] } };
    const { predictions, columns } = codec.decodeColumns(out, 64);
    expect(predictions).toEqual(codec.decode(out, 64));
    expect(outputsJson(structuredClone(columns!))).toBe(JSON.stringify(codec.decode(out, 64)));
  });

  it("the log's text matches for odd labels and values: fractional labels, infinities, -0", () => {
    const codec = buildCodec(classifier(["no", "yes"]));
    const label = { data: Float32Array.from([0.5, 1, Number.NaN, -0, 7]), dims: [5] };
    const probabilities = {
      data: Float32Array.from([0.25, 0.75, Infinity, 0, -0, 1, 0.5, 0.5, -Infinity, 1]),
      dims: [5, 2],
    };
    for (const out of [{ label, probabilities }, { label }, { probabilities }] as RawOutputs[]) {
      const { columns } = codec.decodeColumns(out, 5);
      expect(outputsJson(structuredClone(columns!))).toBe(JSON.stringify(codec.decode(out, 5)));
    }
    const regressor = buildCodec(buildSignature({ task: "regression", algorithm: "t", features }));
    const values: RawOutputs = { value: { data: Float64Array.from([Infinity, -0, 1e21, 5e-324]), dims: [4, 1] } };
    const { columns } = regressor.decodeColumns(values, 4);
    expect(outputsJson(structuredClone(columns!))).toBe(JSON.stringify(regressor.decode(values, 4)));
  });

  it("string labels keep decode's own path (no columns)", () => {
    const codec = buildCodec(classifier(["no", "yes"]));
    const out: RawOutputs = {
      label: { data: ["yes", "no"], dims: [2] },
      probabilities: { data: Float32Array.from([0.25, 0.75, 0.5, 0.5]), dims: [2, 2] },
    };
    const { predictions, columns } = codec.decodeColumns(out, 2);
    expect(columns).toBeNull();
    expect(predictions).toEqual(codec.decode(out, 2));
  });
});

describe("fastIdRun", () => {
  it("makes ids that follow each other, as the log's batches key them", () => {
    const before = fastId();
    const { ids, head, first } = fastIdRun(64);
    expect(ids).toHaveLength(64);
    expect(ids.every((id, i) => id === idAt(head, first, i))).toBe(true);
    expect(new Set([before, ...ids, fastId()]).size).toBe(66);
    expect(fastIdRun(0).ids).toEqual([]);
  });
});
