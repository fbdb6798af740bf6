/**
 * --tag and --metric as the registry receives them: every KEY=VALUE an own key, names that
 * Object.prototype has included (in {} `__proto__` vanished and the tag was lost without a word).
 */
import { describe, expect, it } from "vitest";
import { parseMetrics, parseTags } from "./models-kit.js";

describe("parseTags and parseMetrics", () => {
  it("keep __proto__, constructor and toString as keys of their own", () => {
    const tags = parseTags(["__proto__=x", "constructor=c", "toString=t", "a=b=c"], "--tag");
    expect(Object.keys(tags)).toEqual(["__proto__", "constructor", "toString", "a"]);
    expect(tags.a).toBe("b=c");
    // What the CLI sends: the server refuses __proto__ naming the key (app.ts), instead of never seeing it.
    expect(JSON.stringify(tags)).toBe('{"__proto__":"x","constructor":"c","toString":"t","a":"b=c"}');
    expect(Object.keys(parseMetrics(["__proto__=1", "auc=0.5"]))).toEqual(["__proto__", "auc"]);
  });

  it("refuses what is not KEY=VALUE or not a number, naming the flag", () => {
    expect(() => parseTags(["=x"], "--tag")).toThrow(/--tag: expected KEY=VALUE, got "=x"/);
    expect(() => parseMetrics(["auc=high"])).toThrow(/--metric auc: expected a number, got "high"/);
  });
});
