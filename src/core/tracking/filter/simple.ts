/**
 * The small filter language of MLflow's registry searches (`name LIKE 'fl%' AND tags.team = 'ml'`,
 * `run_id IN ('a', 'b')`): `key op value` clauses joined by AND, on a fixed set of keys plus `tags.*`.
 * Shares the run filter's tokenizer, so errors carry positions the same way.
 */
import { compareStrings } from "./evaluate.js";
import { syntaxError, tokenize } from "./lexer.js";
import type { StringOp } from "./ast.js";

export type SimpleClause =
  { key: string; op: StringOp; value: string } | { key: string; op: "IN" | "NOT IN"; value: string[] };

export function parseSimpleFilter(input: string | undefined, keys: readonly string[]): SimpleClause[] {
  if (!input || !input.trim()) return [];
  const tokens = tokenize(input, "filter");
  let i = 0;
  const fail = (at: number, message: string): never => {
    throw syntaxError("filter", input, tokens[at]!.start, message);
  };
  const clauses: SimpleClause[] = [];
  while (true) {
    const nameAt = i;
    let raw = "";
    while (["word", "backtick", "dquote"].includes(tokens[i]!.kind) && (i === nameAt || !tokens[i]!.spaced))
      raw += tokens[i++]!.text;
    const key = raw.replace(/^(attribute|attributes|attr)\./, "").replace(/^tag\./, "tags.");
    if (!key || (!keys.includes(key) && !(key.startsWith("tags.") && key.length > 5))) {
      fail(nameAt, `expected one of ${[...keys, "tags.<key>"].join(", ")}`);
    }
    const opTok = tokens[i++]!;
    let op = opTok.kind === "op" ? opTok.text : opTok.kind === "word" ? opTok.text.toUpperCase() : "";
    if (op === "NOT" && tokens[i]!.kind === "word" && tokens[i]!.text.toUpperCase() === "IN") {
      i++;
      op = "NOT IN";
    }
    if (op === "IN" || op === "NOT IN") {
      if (tokens[i]!.kind !== "lparen") fail(i, "expected ( after IN");
      i++;
      const values: string[] = [];
      while (true) {
        const v = tokens[i]!;
        if (v.kind !== "squote" && v.kind !== "dquote") fail(i, "expected a quoted string");
        values.push(v.text);
        i++;
        if (tokens[i]!.kind === "comma") i++;
        else break;
      }
      if (tokens[i]!.kind !== "rparen") fail(i, "expected , or )");
      i++;
      clauses.push({ key, op, value: values });
    } else {
      if (!["=", "!=", "LIKE", "ILIKE"].includes(op)) fail(i - 1, "expected =, !=, LIKE, ILIKE, IN or NOT IN");
      const v = tokens[i]!;
      if (v.kind !== "squote" && v.kind !== "dquote") fail(i, "expected a quoted string");
      i++;
      clauses.push({ key, op: op as StringOp, value: v.text });
    }
    if (tokens[i]!.kind === "eof") return clauses;
    if (tokens[i]!.kind !== "word" || tokens[i]!.text.toUpperCase() !== "AND")
      fail(i, "expected AND or the end of the filter");
    i++;
  }
}

/** Whether `get(key)` satisfies every clause (a missing value fails, as in run search). */
export function matchesSimple(clauses: SimpleClause[], get: (key: string) => string | undefined): boolean {
  return clauses.every((c) => {
    const v = get(c.key);
    if (v === undefined) return false;
    switch (c.op) {
      case "IN":
        return c.value.includes(v);
      case "NOT IN":
        return !c.value.includes(v);
      default:
        return compareStrings(v, c.op, c.value);
    }
  });
}
