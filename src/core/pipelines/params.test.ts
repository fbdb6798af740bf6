import { describe, expect, it } from "vitest";
import { parseParamArgs, resolveParams } from "./params.js";
import type { PipelineSpec } from "./spec/schema.js";

const pipeline: PipelineSpec = {
  params: {
    lr: 0.1,
    epochs: { type: "integer", default: 10 },
    name: "base",
    deploy: false,
    size: { default: "s", choices: ["s", "m", "l"] },
  },
  steps: { a: { run: "true" } },
};

describe("params", () => {
  it("uses defaults and typed overrides", () => {
    expect(resolveParams(pipeline, { lr: "0.5", epochs: "3", deploy: "true", name: "x=y" })).toEqual({
      lr: 0.5,
      epochs: 3,
      name: "x=y",
      deploy: true,
      size: "s",
    });
  });

  it("rejects wrong types, unknown params and values outside choices", () => {
    expect(() => resolveParams(pipeline, { lr: "fast" })).toThrow('param lr: expected a number, got "fast"');
    expect(() => resolveParams(pipeline, { epochs: "2.5" })).toThrow("param epochs: expected an integer");
    expect(() => resolveParams(pipeline, { deploy: "yes" })).toThrow("param deploy: expected true or false");
    expect(() => resolveParams(pipeline, { nope: "1" }, "train")).toThrow(
      "param nope: train declares no such param (params: lr, epochs, name, deploy, size)",
    );
    expect(() => resolveParams(pipeline, { size: "xl" })).toThrow('param size: "xl" is not one of "s", "m", "l"');
    // Object.prototype's names are undeclared params too (before, `-p toString=1` was accepted).
    for (const name of ["toString", "constructor", "valueOf", "__proto__"])
      expect(() => resolveParams(pipeline, JSON.parse(`{"${name}": "1"}`) as Record<string, unknown>, "train")).toThrow(
        `param ${name}: train declares no such param`,
      );
  });

  it("parses -p key=value at the first '='", () => {
    expect(parseParamArgs(["a=1", "b=x=y", "c="])).toEqual({ a: "1", b: "x=y", c: "" });
    expect(() => parseParamArgs(["=1"])).toThrow("expected key=value");
    // `-p __proto__=1` is kept as a key (then refused as undeclared), not silently dropped.
    expect(Object.keys(parseParamArgs(["__proto__=1"]))).toEqual(["__proto__"]);
  });
});
