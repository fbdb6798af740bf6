/**
 * Recursive-descent parser for MLflow's run search language:
 *
 *   filter   := ε | clause ("AND" clause)*
 *   clause   := name op value
 *   name     := adjacent parts: metrics.auc, metrics.`my metric`, params."lr", `tags`.x, status
 *   op       := = | != | > | >= | < | <= | LIKE | ILIKE | IN | NOT IN
 *   value    := number | 'string' | "string" | ( 'string' [, 'string']* )
 *   order_by := name [ASC | DESC]
 *
 * A name without a prefix is a run attribute, as in MLflow. Which operators and values fit is decided
 * by the entity (metrics compare numbers; params and tags compare strings; IN lists only for string
 * attributes). Every error is an InvalidInputError naming the column where the input went wrong.
 */
import { InvalidInputError } from "../../errors.js";
import {
  ATTRIBUTE_ALIASES,
  ENTITY_ALIASES,
  NUMERIC_ATTRIBUTES,
  NUMERIC_OPS,
  STRING_ATTRIBUTES,
  STRING_OPS,
  isNumericAttribute,
  isStringAttribute,
  type Attribute,
  type Clause,
  type OrderBy,
  type OrderKey,
} from "./ast.js";
import { syntaxError, tokenize, type Token } from "./lexer.js";

/** Longest filter or order_by accepted; MLflow has no limit, but a filter this long is a mistake or an attack. */
export const MAX_FILTER_LENGTH = 100_000;
/** Most clauses in one filter: SQLite nests `AND` chains and refuses expressions deeper than 1000. */
export const MAX_CLAUSES = 200;
/** Most values in all IN lists together: each one is a bound parameter (SQLite allows 32 766 per query). */
export const MAX_LIST_VALUES = 5000;

class Cursor {
  private i = 0;
  constructor(
    readonly input: string,
    readonly tokens: Token[],
    readonly what: string,
  ) {}
  peek(): Token {
    return this.tokens[this.i]!;
  }
  next(): Token {
    const t = this.tokens[this.i]!;
    if (t.kind !== "eof") this.i++;
    return t;
  }
  isKeyword(word: string): boolean {
    const t = this.peek();
    return t.kind === "word" && t.text.toUpperCase() === word;
  }
  fail(token: Token, message: string): never {
    throw syntaxError(this.what, this.input, token.start, message);
  }
}

function describe(t: Token): string {
  return t.kind === "eof" ? "the end of the input" : `'${t.text}'`;
}

/** Reads a name's adjacent parts and splits it into entity and key, as MLflow's `_get_identifier` does. */
function readName(c: Cursor): { entity: "metric" | "param" | "tag" | "attribute"; key: string; at: Token } {
  const first = c.peek();
  if (first.kind !== "word" && first.kind !== "backtick" && first.kind !== "dquote") {
    c.fail(first, `expected a name such as metrics.auc, found ${describe(first)}`);
  }
  const parts: Token[] = [c.next()];
  while (true) {
    const t = c.peek();
    if (t.spaced || (t.kind !== "word" && t.kind !== "backtick" && t.kind !== "dquote")) break;
    parts.push(c.next());
  }
  let prefix: string | undefined;
  let key: string;
  const rest = (from: number) =>
    parts
      .slice(from)
      .map((p) => p.text)
      .join("");
  if (first.kind === "word" && first.text.includes(".")) {
    const dot = first.text.indexOf(".");
    prefix = first.text.slice(0, dot);
    key = first.text.slice(dot + 1) + rest(1);
  } else if (parts.length > 1 && parts[1]!.kind === "word" && parts[1]!.text.startsWith(".")) {
    prefix = first.text;
    key = parts[1]!.text.slice(1) + rest(2);
  } else if (parts.length === 1) {
    key = first.text;
  } else {
    c.fail(parts[1]!, "expected '.' between the prefix and the key");
  }
  if (prefix === undefined) return { entity: "attribute", key: attributeKey(c, first, key), at: first };
  const entity = ENTITY_ALIASES.get(prefix);
  if (!entity) {
    if (prefix === "dataset" || prefix === "datasets") c.fail(first, "dataset filters are not supported");
    c.fail(first, `unknown prefix '${prefix}' (use metrics., params., tags. or attributes.)`);
  }
  if (key === "") c.fail(first, `missing key after '${prefix}.'`);
  return { entity, key: entity === "attribute" ? attributeKey(c, first, key) : key, at: first };
}

function attributeKey(c: Cursor, at: Token, key: string): Attribute {
  const resolved = ATTRIBUTE_ALIASES.get(key) ?? key;
  if (isStringAttribute(resolved) || isNumericAttribute(resolved)) return resolved;
  return c.fail(at, `unknown attribute '${key}' (valid: ${[...STRING_ATTRIBUTES, ...NUMERIC_ATTRIBUTES].join(", ")})`);
}

function readOperator(c: Cursor): string {
  const t = c.peek();
  if (t.kind === "op") return c.next().text;
  if (t.kind === "word") {
    const upper = t.text.toUpperCase();
    if (upper === "LIKE" || upper === "ILIKE" || upper === "IN") {
      c.next();
      return upper;
    }
    if (upper === "NOT") {
      c.next();
      if (!c.isKeyword("IN")) c.fail(c.peek(), `expected IN after NOT, found ${describe(c.peek())}`);
      c.next();
      return "NOT IN";
    }
  }
  return c.fail(
    t,
    `expected a comparison operator (=, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN), found ${describe(t)}`,
  );
}

function readNumber(c: Cursor, what: string, integer = false): number {
  const t = c.peek();
  if (t.kind !== "number") c.fail(t, `expected a number for ${what}, found ${describe(t)}`);
  c.next();
  const value = Number(t.text);
  if (!Number.isFinite(value)) c.fail(t, `number out of range for ${what}`);
  // Times are integer milliseconds; a fraction or a number past 2^53 cannot be compared exactly.
  if (integer && !Number.isSafeInteger(value)) c.fail(t, `expected an integer (milliseconds) for ${what}`);
  return value;
}

function readString(c: Cursor, what: string): string {
  const t = c.peek();
  if (t.kind !== "squote" && t.kind !== "dquote")
    c.fail(t, `expected a quoted string for ${what} (e.g. 'value'), found ${describe(t)}`);
  c.next();
  return t.text;
}

function readList(c: Cursor, what: string): string[] {
  const open = c.peek();
  if (open.kind !== "lparen") c.fail(open, `expected a list such as ('a', 'b') for ${what}, found ${describe(open)}`);
  c.next();
  const values = [readString(c, what)];
  while (c.peek().kind === "comma") {
    c.next();
    values.push(readString(c, what));
  }
  const close = c.peek();
  if (close.kind !== "rparen") c.fail(close, `expected ',' or ')' in the list, found ${describe(close)}`);
  c.next();
  return values;
}

function checkOp<T extends string>(c: Cursor, at: Token, op: string, allowed: readonly T[], what: string): T {
  if ((allowed as readonly string[]).includes(op)) return op as T;
  return c.fail(at, `operator '${op}' is not allowed for ${what} (allowed: ${allowed.join(", ")})`);
}

function readClause(c: Cursor): Clause {
  const { entity, key, at } = readName(c);
  const opToken = c.peek();
  const op = readOperator(c);
  switch (entity) {
    case "metric":
      return {
        type: "metric",
        key,
        op: checkOp(c, opToken, op, NUMERIC_OPS, "metrics"),
        value: readNumber(c, `metric '${key}'`),
      };
    case "param":
    case "tag":
      return {
        type: entity,
        key,
        op: checkOp(c, opToken, op, STRING_OPS, `${entity}s`),
        value: readString(c, `${entity} '${key}'`),
      };
    case "attribute": {
      if (isNumericAttribute(key)) {
        return {
          type: "numeric_attribute",
          key,
          op: checkOp(c, opToken, op, NUMERIC_OPS, `attribute '${key}'`),
          value: readNumber(c, `attribute '${key}'`),
        };
      }
      if (!isStringAttribute(key)) return c.fail(at, `unknown attribute '${key}'`);
      if (op === "IN" || op === "NOT IN")
        return { type: "list_attribute", key, op, value: readList(c, `attribute '${key}'`) };
      return {
        type: "string_attribute",
        key,
        op: checkOp(c, opToken, op, STRING_OPS, `attribute '${key}'`),
        value: readString(c, `attribute '${key}'`),
      };
    }
  }
}

function checkLength(input: string, what: string): void {
  if (input.length > MAX_FILTER_LENGTH)
    throw new InvalidInputError(`Invalid ${what}: longer than ${MAX_FILTER_LENGTH} characters`);
}

/** Parses a `filter_string`; an empty or blank filter matches every run. */
export function parseFilter(input: string | undefined | null): Clause[] {
  if (!input || input.trim() === "") return [];
  checkLength(input, "filter");
  const c = new Cursor(input, tokenize(input, "filter"), "filter");
  const clauses = [readClause(c)];
  const first = clauses[0]!;
  let listValues = first.type === "list_attribute" ? first.value.length : 0;
  if (listValues > MAX_LIST_VALUES)
    throw new InvalidInputError(`Invalid filter: an IN list may hold at most ${MAX_LIST_VALUES} values`);
  while (c.peek().kind !== "eof") {
    if (!c.isKeyword("AND")) {
      const t = c.peek();
      if (t.kind === "word" && t.text.toUpperCase() === "OR")
        c.fail(t, "OR is not supported (clauses can only be joined by AND)");
      c.fail(t, `expected AND or the end of the filter, found ${describe(t)}`);
    }
    const and = c.next();
    if (clauses.length >= MAX_CLAUSES) c.fail(and, `a filter may have at most ${MAX_CLAUSES} clauses`);
    const clause = readClause(c);
    if (clause.type === "list_attribute") listValues += clause.value.length;
    if (listValues > MAX_LIST_VALUES)
      c.fail(and, `the IN lists of a filter may hold at most ${MAX_LIST_VALUES} values together`);
    clauses.push(clause);
  }
  return clauses;
}

/** Parses one `order_by` entry such as `metrics.auc DESC` or `attributes.start_time`. */
export function parseOrderBy(input: string): OrderBy {
  checkLength(input, "order_by clause");
  const c = new Cursor(input, tokenize(input, "order_by clause"), "order_by clause");
  if (c.peek().kind === "eof") c.fail(c.peek(), "expected a name such as metrics.auc");
  const { entity, key } = readName(c);
  let ascending = true;
  if (c.isKeyword("ASC") || c.isKeyword("DESC")) ascending = c.next().text.toUpperCase() === "ASC";
  if (c.peek().kind !== "eof") c.fail(c.peek(), `expected ASC, DESC or the end, found ${describe(c.peek())}`);
  const orderKey: OrderKey =
    entity === "attribute" ? { type: "attribute", key: key as Attribute } : { type: entity, key };
  return { ...orderKey, ascending };
}

/** Parses a list of `order_by` entries, refusing a key that appears twice (as MLflow does). */
export function parseOrderByList(inputs: readonly string[] | undefined | null): OrderBy[] {
  const result: OrderBy[] = [];
  const seen = new Set<string>();
  for (const input of inputs ?? []) {
    const o = parseOrderBy(input);
    const id = `${o.type}\u0000${o.key}`;
    if (seen.has(id))
      throw new InvalidInputError(
        `Invalid order_by: '${o.type === "attribute" ? "" : `${o.type}s.`}${o.key}' appears twice`,
      );
    seen.add(id);
    result.push(o);
  }
  return result;
}
