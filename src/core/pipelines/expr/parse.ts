/**
 * The expression language inside `${{ … }}` and `if:` — small on purpose and never eval'd:
 *
 *   expr    := or
 *   or      := and ("||" and)*
 *   and     := unary ("&&" unary)*
 *   unary   := "!" unary | compare
 *   compare := primary (("==" | "!=" | "<" | "<=" | ">" | ">=") primary)?
 *   primary := number | 'string' | "string" | true | false | null | ref | "(" expr ")"
 *   ref     := ident ("." ident | "." ident "(" literal ("," literal)* ")" | "[" 'string' "]")*
 *
 * References start at a context: params, inputs, outputs, matrix, env, steps, trigger. The one call is
 * `steps.<name>.best('<metric>'[, 'max'|'min'])`, which picks the matrix instance with the best metric.
 */

export type Literal = string | number | boolean | null;

export type Segment = { kind: "prop"; name: string } | { kind: "call"; name: string; args: Literal[] };

export type Expr =
  | { kind: "literal"; value: Literal }
  | { kind: "ref"; root: string; path: Segment[]; text: string }
  | { kind: "not"; operand: Expr }
  | { kind: "and" | "or"; left: Expr; right: Expr }
  | { kind: "compare"; op: CompareOp; left: Expr; right: Expr };

export type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

export class ExpressionSyntaxError extends Error {
  constructor(
    message: string,
    /** Offset inside the expression text. */
    readonly offset: number,
  ) {
    super(message);
    this.name = "ExpressionSyntaxError";
  }
}

type Token =
  | { t: "num"; v: number; at: number }
  | { t: "str"; v: string; at: number }
  | { t: "id"; v: string; at: number }
  | { t: "op"; v: string; at: number }
  | { t: "end"; at: number };

const OPS = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", ".", ",", "[", "]"];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      // GitHub Actions style: a quote inside is doubled ('it''s').
      let j = i + 1;
      let v = "";
      for (;;) {
        if (j >= src.length) throw new ExpressionSyntaxError("unterminated string", i);
        if (src[j] === c) {
          if (src[j + 1] === c) {
            v += c;
            j += 2;
            continue;
          }
          break;
        }
        v += src[j];
        j++;
      }
      out.push({ t: "str", v, at: i });
      i = j + 1;
      continue;
    }
    const num = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(src.slice(i));
    if (num && (c !== "-" || out.length === 0 || out[out.length - 1]!.t === "op")) {
      out.push({ t: "num", v: Number(num[0]), at: i });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(src.slice(i));
    if (id) {
      out.push({ t: "id", v: id[0], at: i });
      i += id[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new ExpressionSyntaxError(`unexpected character ${JSON.stringify(c)}`, i);
    out.push({ t: "op", v: op, at: i });
    i += op.length;
  }
  out.push({ t: "end", at: src.length });
  return out;
}

/** Parses one expression (the text between `${{` and `}}`, or a bare `if:`). */
export function parseExpression(src: string): Expr {
  const tokens = tokenize(src);
  let pos = 0;
  const peek = () => tokens[pos]!;
  const isOp = (v: string) => {
    const t = peek();
    return t.t === "op" && t.v === v;
  };
  const expectOp = (v: string) => {
    if (!isOp(v)) throw new ExpressionSyntaxError(`expected "${v}"`, peek().at);
    pos++;
  };

  const literal = (): Literal => {
    const t = peek();
    if (t.t === "num" || t.t === "str") {
      pos++;
      return t.v;
    }
    if (t.t === "id" && (t.v === "true" || t.v === "false" || t.v === "null")) {
      pos++;
      return t.v === "null" ? null : t.v === "true";
    }
    throw new ExpressionSyntaxError("expected a literal", t.at);
  };

  const primary = (): Expr => {
    const t = peek();
    if (isOp("(")) {
      pos++;
      const e = or();
      expectOp(")");
      return e;
    }
    if (t.t === "num" || t.t === "str") return { kind: "literal", value: literal() };
    if (t.t === "id") {
      if (t.v === "true" || t.v === "false" || t.v === "null") return { kind: "literal", value: literal() };
      pos++;
      const path: Segment[] = [];
      for (;;) {
        if (isOp(".")) {
          pos++;
          const name = peek();
          if (name.t !== "id") throw new ExpressionSyntaxError("expected a name after '.'", name.at);
          pos++;
          if (isOp("(")) {
            pos++;
            const args: Literal[] = [];
            if (!isOp(")")) {
              args.push(literal());
              while (isOp(",")) {
                pos++;
                args.push(literal());
              }
            }
            expectOp(")");
            path.push({ kind: "call", name: name.v, args });
          } else path.push({ kind: "prop", name: name.v });
        } else if (isOp("[")) {
          pos++;
          const key = peek();
          if (key.t !== "str") throw new ExpressionSyntaxError("expected a quoted name inside [ ]", key.at);
          pos++;
          expectOp("]");
          path.push({ kind: "prop", name: key.v });
        } else break;
      }
      const end = peek().at;
      return { kind: "ref", root: t.v, path, text: src.slice(t.at, end).trim() };
    }
    throw new ExpressionSyntaxError(
      t.t === "end" ? "expression ends too early" : "expected a value or a reference",
      t.at,
    );
  };

  const compare = (): Expr => {
    const left = primary();
    const t = peek();
    if (t.t === "op" && ["==", "!=", "<", "<=", ">", ">="].includes(t.v)) {
      pos++;
      return { kind: "compare", op: t.v as CompareOp, left, right: primary() };
    }
    return left;
  };
  const unary = (): Expr => {
    if (isOp("!")) {
      pos++;
      return { kind: "not", operand: unary() };
    }
    return compare();
  };
  const and = (): Expr => {
    let left = unary();
    while (isOp("&&")) {
      pos++;
      left = { kind: "and", left, right: unary() };
    }
    return left;
  };
  const or = (): Expr => {
    let left = and();
    while (isOp("||")) {
      pos++;
      left = { kind: "or", left, right: and() };
    }
    return left;
  };

  const e = or();
  if (peek().t !== "end") throw new ExpressionSyntaxError("unexpected text after the expression", peek().at);
  return e;
}

/** Every reference in an expression, left to right. */
export function refsOf(e: Expr): Array<Extract<Expr, { kind: "ref" }>> {
  switch (e.kind) {
    case "literal":
      return [];
    case "ref":
      return [e];
    case "not":
      return refsOf(e.operand);
    case "and":
    case "or":
    case "compare":
      return [...refsOf(e.left), ...refsOf(e.right)];
  }
}

/** A piece of a template string: literal text or one `${{ … }}` with its offsets in the string. */
export type TemplatePart =
  { kind: "text"; text: string } | { kind: "expr"; source: string; expr: Expr; start: number; end: number };

/** Splits a string into text and `${{ … }}` parts. Throws ExpressionSyntaxError with the offset in `s`. */
export function parseTemplate(s: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let i = 0;
  while (i < s.length) {
    const open = s.indexOf("${{", i);
    if (open < 0) {
      parts.push({ kind: "text", text: s.slice(i) });
      break;
    }
    if (open > i) parts.push({ kind: "text", text: s.slice(i, open) });
    // Find the closing "}}" outside string literals.
    let j = open + 3;
    let quote: string | null = null;
    while (j < s.length) {
      const c = s[j]!;
      if (quote) {
        if (c === quote) quote = null;
      } else if (c === "'" || c === '"') quote = c;
      else if (c === "}" && s[j + 1] === "}") break;
      j++;
    }
    if (j >= s.length) throw new ExpressionSyntaxError("'${{' without a closing '}}'", open);
    const source = s.slice(open + 3, j);
    let expr: Expr;
    try {
      expr = parseExpression(source);
    } catch (error) {
      if (error instanceof ExpressionSyntaxError)
        throw new ExpressionSyntaxError(error.message, open + 3 + error.offset);
      throw error;
    }
    parts.push({ kind: "expr", source: source.trim(), expr, start: open, end: j + 2 });
    i = j + 2;
  }
  return parts;
}

/** True when the string holds at least one `${{`. */
export function hasExpressions(s: string): boolean {
  return s.includes("${{");
}
