/**
 * experiments/search: MLflow's experiment filter (`name LIKE 'x%' AND tags.team = 'ml'`, and the
 * times) and order_by (`name`, `experiment_id`, `creation_time`, `last_update_time`). A project has
 * few experiments, so they are filtered in memory with the run filter's tokenizer and LIKE meaning.
 */
import { InvalidInputError } from "../errors.js";
import { compareCodePoints, compareNumbers, compareStrings } from "./filter/evaluate.js";
import { syntaxError, tokenize } from "./filter/lexer.js";
import type { NumericOp, StringOp } from "./filter/ast.js";
import type { Experiment } from "./model.js";

type ExperimentClause =
  | { kind: "name"; op: StringOp; value: string }
  | { kind: "tag"; key: string; op: StringOp; value: string }
  | { kind: "time"; key: "creation_time" | "last_update_time"; op: NumericOp; value: number };

const STRING_OPS = ["=", "!=", "LIKE", "ILIKE"];
const NUMERIC_OPS = ["=", "!=", ">", ">=", "<", "<="];
const TIME_KEYS = ["creation_time", "last_update_time"] as const;

function splitName(raw: string): { entity: string; key: string } {
  const dot = raw.indexOf(".");
  if (dot < 0) return { entity: "attribute", key: raw };
  return { entity: raw.slice(0, dot), key: raw.slice(dot + 1) };
}

export function parseExperimentFilter(input: string | undefined): ExperimentClause[] {
  if (!input || !input.trim()) return [];
  const tokens = tokenize(input, "filter");
  const clauses: ExperimentClause[] = [];
  let i = 0;
  const fail = (at: number, message: string): never => {
    throw syntaxError("filter", input, tokens[at]!.start, message);
  };
  while (true) {
    // name: a word, or a word ending in "." glued to a quoted key (tags.`my tag`).
    let raw = "";
    const nameAt = i;
    while (["word", "backtick", "dquote"].includes(tokens[i]!.kind) && (i === nameAt || !tokens[i]!.spaced))
      raw += tokens[i++]!.text;
    if (!raw) fail(i, "expected a name such as name or tags.key");
    const { entity, key } = splitName(raw);
    const opTok = tokens[i]!;
    const op = opTok.kind === "op" ? opTok.text : opTok.kind === "word" ? opTok.text.toUpperCase() : "";
    i++;
    const value = tokens[i]!;
    i++;
    if (["attribute", "attributes", "attr"].includes(entity) && key === "name") {
      if (!STRING_OPS.includes(op)) fail(i - 2, `operator '${opTok.text}' is not allowed for name`);
      if (value.kind !== "squote" && value.kind !== "dquote") fail(i - 1, "expected a quoted string");
      clauses.push({ kind: "name", op: op as StringOp, value: value.text });
    } else if (["tag", "tags"].includes(entity)) {
      if (!STRING_OPS.includes(op)) fail(i - 2, `operator '${opTok.text}' is not allowed for tags`);
      if (value.kind !== "squote" && value.kind !== "dquote") fail(i - 1, "expected a quoted string");
      clauses.push({ kind: "tag", key, op: op as StringOp, value: value.text });
    } else if (["attribute", "attributes", "attr"].includes(entity) && (TIME_KEYS as readonly string[]).includes(key)) {
      if (!NUMERIC_OPS.includes(op)) fail(i - 2, `operator '${opTok.text}' is not allowed for ${key}`);
      if (value.kind !== "number" || !Number.isSafeInteger(Number(value.text))) fail(i - 1, "expected an integer");
      clauses.push({
        kind: "time",
        key: key as (typeof TIME_KEYS)[number],
        op: op as NumericOp,
        value: Number(value.text),
      });
    } else {
      fail(nameAt, `unknown key '${raw}' (valid: name, tags.<key>, creation_time, last_update_time)`);
    }
    if (tokens[i]!.kind === "eof") return clauses;
    if (tokens[i]!.kind !== "word" || tokens[i]!.text.toUpperCase() !== "AND")
      fail(i, "expected AND or the end of the filter");
    i++;
  }
}

export function filterExperiments(experiments: Experiment[], filter: string | undefined): Experiment[] {
  const clauses = parseExperimentFilter(filter);
  return experiments.filter((e) =>
    clauses.every((c) => {
      switch (c.kind) {
        case "name":
          return compareStrings(e.name, c.op, c.value);
        case "tag":
          return Object.prototype.hasOwnProperty.call(e.tags, c.key) && compareStrings(e.tags[c.key]!, c.op, c.value);
        case "time":
          return compareNumbers(c.key === "creation_time" ? e.creationTime : e.lastUpdateTime, c.op, c.value);
      }
    }),
  );
}

const ORDER_KEYS = ["name", "experiment_id", "creation_time", "last_update_time"] as const;
type OrderKey = (typeof ORDER_KEYS)[number];

function valueOf(e: Experiment, key: OrderKey): string | number {
  if (key === "name") return e.name;
  if (key === "experiment_id") return Number(e.experimentId);
  return key === "creation_time" ? e.creationTime : e.lastUpdateTime;
}

export function sortExperiments(experiments: Experiment[], orderBy: string[] | undefined): Experiment[] {
  return [...experiments].sort(experimentOrder(orderBy));
}

/** The order of experiments/search: `order_by`, then experiment_id, so no two experiments tie. */
export function experimentOrder(orderBy: string[] | undefined): (a: Experiment, b: Experiment) => number {
  const orders = (orderBy?.length ? orderBy : ["creation_time DESC", "experiment_id ASC"]).map((o) => {
    const m = /^\s*(?:(?:attribute|attributes|attr)\.)?(\w+)(?:\s+(ASC|DESC))?\s*$/i.exec(o);
    const key = m?.[1] as OrderKey | undefined;
    if (!m || !key || !(ORDER_KEYS as readonly string[]).includes(key)) {
      throw new InvalidInputError(
        `Invalid order_by clause '${o}' (valid keys: ${ORDER_KEYS.join(", ")}, with ASC or DESC)`,
      );
    }
    return { key, ascending: (m[2] ?? "ASC").toUpperCase() === "ASC" };
  });
  if (!orders.some((o) => o.key === "experiment_id")) orders.push({ key: "experiment_id", ascending: true });
  return (a, b) => {
    for (const o of orders) {
      const va = valueOf(a, o.key);
      const vb = valueOf(b, o.key);
      const c = typeof va === "number" ? va - (vb as number) : compareCodePoints(va, vb as string);
      if (c !== 0) return o.ascending ? c : -c;
    }
    return 0;
  };
}
