/**
 * Evaluating expressions and substituting templates. Nothing here runs code: a reference is looked
 * up by a resolver the caller supplies, and operators work on plain values.
 *
 * Substitution has two modes (DESIGN.md):
 *   - shell (inside `run:`): every value is shell-quoted, so `$(touch pwned)` stays a string.
 *   - plain (`inputs:`, `with:`): values are replaced as they are; a string that is exactly one
 *     expression keeps the value's type (a number stays a number).
 */
import { parseExpression, parseTemplate, type Expr, type Literal, type TemplatePart } from "./parse.js";

export type Value = Literal | Value[] | { [key: string]: Value };

/** Looks up one reference, e.g. `params.lr`; throws when it names nothing at run time. */
export type Resolver = (ref: Extract<Expr, { kind: "ref" }>) => Value;

export function truthy(v: Value): boolean {
  if (v === null || v === false || v === 0 || v === "") return false;
  return true;
}

function asNumber(v: Value): number | null {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))) return Number(v);
  return null;
}

function compare(op: string, a: Value, b: Value): boolean {
  const na = asNumber(a);
  const nb = asNumber(b);
  // Numbers (or numeric strings, since -p values and env vars arrive as text) compare as numbers.
  const numeric = na !== null && nb !== null && (typeof a === "number" || typeof b === "number");
  if (op === "==" || op === "!=") {
    const eq = numeric
      ? na === nb
      : typeof a === "object" || typeof b === "object"
        ? JSON.stringify(a) === JSON.stringify(b)
        : a === b;
    return op === "==" ? eq : !eq;
  }
  let x: number | string;
  let y: number | string;
  if (na !== null && nb !== null) {
    x = na;
    y = nb;
  } else {
    x = stringify(a);
    y = stringify(b);
  }
  switch (op) {
    case "<":
      return x < y;
    case "<=":
      return x <= y;
    case ">":
      return x > y;
    default:
      return x >= y;
  }
}

export function evaluate(e: Expr, resolve: Resolver): Value {
  switch (e.kind) {
    case "literal":
      return e.value;
    case "ref":
      return resolve(e);
    case "not":
      return !truthy(evaluate(e.operand, resolve));
    case "and": {
      const l = evaluate(e.left, resolve);
      return truthy(l) ? evaluate(e.right, resolve) : l;
    }
    case "or": {
      const l = evaluate(e.left, resolve);
      return truthy(l) ? l : evaluate(e.right, resolve);
    }
    case "compare":
      return compare(e.op, evaluate(e.left, resolve), evaluate(e.right, resolve));
  }
}

/** How a value reads as text: numbers as JavaScript writes them, null as "", objects as JSON. */
export function stringify(v: Value): string {
  if (v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

const SHELL_SAFE = /^[A-Za-z0-9_./:=@%+,-]+$/;

/**
 * POSIX single-quoting: the one quoting where the shell interprets nothing, not `$`, not backticks,
 * not backslashes, not newlines. A `'` inside ends the quote, adds an escaped quote and reopens it.
 */
export function shellQuote(s: string): string {
  if (s !== "" && SHELL_SAFE.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Substitutes a `run:` script: every expression becomes one shell word, whatever its value. */
export function renderShell(script: string | TemplatePart[], resolve: Resolver): string {
  const parts = typeof script === "string" ? parseTemplate(script) : script;
  return parts.map((p) => (p.kind === "text" ? p.text : shellQuote(stringify(evaluate(p.expr, resolve))))).join("");
}

/** Substitutes a plain value; a string that is one whole expression keeps the value's type. */
export function renderPlain(s: string, resolve: Resolver): Value {
  const parts = parseTemplate(s);
  const only = parts.length === 1 ? parts[0] : undefined;
  if (only?.kind === "expr" && s.trim() === s) return evaluate(only.expr, resolve);
  return parts.map((p) => (p.kind === "text" ? p.text : stringify(evaluate(p.expr, resolve)))).join("");
}

/** Substitutes every string inside a `with:` value tree. */
export function renderDeep(v: unknown, resolve: Resolver): Value {
  if (typeof v === "string") return renderPlain(v, resolve);
  if (Array.isArray(v)) return v.map((x) => renderDeep(x, resolve));
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, renderDeep(x, resolve)]));
  }
  return (v ?? null) as Value;
}

/** An `if:` condition: `${{ expr }}` or a bare expression (as GitHub Actions allows); booleans as is. */
export function parseCondition(cond: string | boolean): Expr {
  if (typeof cond === "boolean") return { kind: "literal", value: cond };
  const trimmed = cond.trim();
  const whole = /^\$\{\{([\s\S]*)\}\}$/.exec(trimmed);
  if (whole && !whole[1]!.includes("}}")) return parseExpression(whole[1]!);
  return parseExpression(trimmed);
}
