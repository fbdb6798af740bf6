import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  evaluate,
  parseCondition,
  renderDeep,
  renderPlain,
  renderShell,
  shellQuote,
  truthy,
  type Resolver,
  type Value,
} from "./evaluate.js";
import { parseExpression, parseTemplate } from "./parse.js";

const ctx =
  (values: Record<string, Value>): Resolver =>
  (ref) => {
    const key = [
      ref.root,
      ...ref.path.map((s) => (s.kind === "prop" ? s.name : `${s.name}(${s.args.join(",")})`)),
    ].join(".");
    if (!(key in values)) throw new Error(`no ${key}`);
    return values[key]!;
  };

describe("expressions", () => {
  it("parses references, calls and operators", () => {
    expect(parseExpression("steps.train.best('roc_auc', 'max').outputs.model")).toMatchObject({
      kind: "ref",
      root: "steps",
      path: [
        { kind: "prop", name: "train" },
        { kind: "call", name: "best", args: ["roc_auc", "max"] },
        { kind: "prop", name: "outputs" },
        { kind: "prop", name: "model" },
      ],
    });
    const e = parseExpression("!(params.a > 3) && params.b == 'x' || false");
    expect(evaluate(e, ctx({ "params.a": 1, "params.b": "x" }))).toBe(true);
    expect(evaluate(e, ctx({ "params.a": 5, "params.b": "x" }))).toBe(false);
  });

  it("compares numbers numerically, also numeric strings against numbers", () => {
    expect(evaluate(parseExpression("params.n >= 10"), ctx({ "params.n": "9" }))).toBe(false);
    expect(evaluate(parseExpression("params.n >= 10"), ctx({ "params.n": 10 }))).toBe(true);
    expect(evaluate(parseExpression("params.s == 'it''s'"), ctx({ "params.s": "it's" }))).toBe(true);
    expect(truthy(evaluate(parseExpression("params.x || 'fallback'"), ctx({ "params.x": "" })))).toBe(true);
  });

  it("rejects what it does not know, never evaluating JavaScript", () => {
    // A call is data for the resolver (which knows only best()), never code.
    expect(parseExpression("process.exit(1)")).toMatchObject({ kind: "ref", root: "process" });
    expect(() => parseExpression("params.a; rm -rf /")).toThrow();
    expect(() => parseExpression("params.a + 1")).toThrow(/unexpected character/);
    expect(() => parseExpression("a ==")).toThrow(/ends too early/);
    expect(() => parseTemplate("echo ${{ params.a")).toThrow(/without a closing/);
  });

  it("splits templates, with '}}' inside strings", () => {
    const parts = parseTemplate("a ${{ params.x == '}}' }} b");
    expect(parts.map((p) => p.kind)).toEqual(["text", "expr", "text"]);
  });

  it("accepts if: with or without ${{ }}", () => {
    const r = ctx({ "params.deploy": true });
    expect(evaluate(parseCondition("${{ params.deploy }}"), r)).toBe(true);
    expect(evaluate(parseCondition("!params.deploy"), r)).toBe(false);
    expect(evaluate(parseCondition(false), r)).toBe(false);
  });

  it("keeps a value's type when a plain string is one whole expression", () => {
    const r = ctx({ "params.lr": 0.1, "params.name": "m" });
    expect(renderPlain("${{ params.lr }}", r)).toBe(0.1);
    expect(renderPlain("lr-${{ params.lr }}", r)).toBe("lr-0.1");
    expect(renderDeep({ a: ["${{ params.name }}", 3] }, r)).toEqual({ a: ["m", 3] });
  });
});

describe("shell-quoted substitution", () => {
  const HOSTILE = [
    "$(touch pwned)",
    "`touch pwned`",
    "'; touch pwned; echo '",
    '"; touch pwned; echo "',
    "a\nb; touch pwned\n",
    "$HOME ${PATH} \\ * ? [a] ~ # & | ; < > ( )",
    "",
    "it's",
  ];

  it("quotes only what needs quoting", () => {
    expect(shellQuote("abc/def-1.0")).toBe("abc/def-1.0");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote("")).toBe("''");
  });

  it("passes hostile values through bash and sh as one literal word", () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-quote-"));
    for (const shell of ["bash", "sh"]) {
      for (const value of HOSTILE) {
        const script = renderShell(`printf '%s' \${{ params.v }}`, ctx({ "params.v": value }));
        const out = execFileSync(shell, ["-c", script], { cwd: dir, encoding: "utf8" });
        expect(out).toBe(value);
        const script2 = renderShell(`printf '%s' \${{ params.v }}/file`, ctx({ "params.v": value }));
        expect(execFileSync(shell, ["-c", script2], { cwd: dir, encoding: "utf8" })).toBe(`${value}/file`);
      }
    }
    expect(existsSync(join(dir, "pwned"))).toBe(false);
  });
});
