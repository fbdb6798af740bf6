/**
 * Tokenizer for MLflow's search language. Every token keeps its start offset so that parse errors
 * can say exactly where the input went wrong ("at column 17"), which MLflow's sqlparse-based parser
 * cannot do.
 */
import { InvalidInputError } from "../../errors.js";

export type TokenKind =
  | "word" // bare name or keyword: metrics.auc, AND, LIKE, status
  | "backtick" // `quoted name`
  | "dquote" // "quoted name or string"
  | "squote" // 'string'
  | "number"
  | "op" // = != <> == < <= > >=
  | "lparen"
  | "rparen"
  | "comma"
  | "eof";

export interface Token {
  kind: TokenKind;
  /** The token's meaning: unquoted content for quoted tokens, the operator, the raw number text. */
  text: string;
  /** Offset of the first character in the input (0-based). */
  start: number;
  end: number;
  /** True when whitespace separates this token from the previous one. */
  spaced: boolean;
}

/** A parse or tokenize error with the 1-based column of the offending character. */
export function syntaxError(what: string, input: string, offset: number, message: string): InvalidInputError {
  const near = input.slice(offset, offset + 20);
  const where = offset >= input.length ? "at the end" : `at column ${offset + 1} (near '${near}')`;
  return new InvalidInputError(`Invalid ${what} '${input}': ${message} ${where}`, { position: offset });
}

const WORD_START = /[A-Za-z_]/;
const WORD_PART = /[A-Za-z0-9_.:/$]/;
const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;

export function tokenize(input: string, what = "filter"): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let spaced = false;
  const push = (kind: TokenKind, text: string, start: number, end: number) => {
    tokens.push({ kind, text, start, end, spaced });
    spaced = false;
  };
  while (i < input.length) {
    const c = input[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      spaced = true;
      i++;
      continue;
    }
    if (c === "\0") throw syntaxError(what, input, i, "a NUL character is not allowed");
    const start = i;
    if (c === "'" || c === '"' || c === "`") {
      const [text, end] = readQuoted(input, i, c, what);
      push(c === "'" ? "squote" : c === '"' ? "dquote" : "backtick", text, start, end);
      i = end;
      continue;
    }
    const num = NUMBER.exec(input.slice(i, i + 400));
    if (num && (c !== "-" || /[\d.]/.test(input[i + 1] ?? "")) && !WORD_START.test(c)) {
      // A number glued to letters (`1abc`) is not a number MLflow accepts.
      const end = i + num[0].length;
      if (end < input.length && WORD_START.test(input[end]!)) {
        throw syntaxError(what, input, end, "unexpected character after a number");
      }
      push("number", num[0], start, end);
      i = end;
      continue;
    }
    const prev = tokens[tokens.length - 1];
    // `\`tags\`.x`: a dot right after a quoted prefix continues the name.
    const afterQuotedName = c === "." && !spaced && (prev?.kind === "backtick" || prev?.kind === "dquote");
    if (WORD_START.test(c) || afterQuotedName) {
      let j = i + 1;
      while (j < input.length && WORD_PART.test(input[j]!)) j++;
      push("word", input.slice(i, j), start, j);
      i = j;
      continue;
    }
    const two = input.slice(i, i + 2);
    if (two === "!=" || two === "<>" || two === "<=" || two === ">=" || two === "==") {
      push("op", two === "<>" ? "!=" : two === "==" ? "=" : two, start, i + 2);
      i += 2;
      continue;
    }
    if (c === "=" || c === "<" || c === ">") {
      push("op", c, start, i + 1);
      i++;
      continue;
    }
    if (c === "(" || c === ")" || c === ",") {
      push(c === "(" ? "lparen" : c === ")" ? "rparen" : "comma", c, start, i + 1);
      i++;
      continue;
    }
    throw syntaxError(what, input, i, `unexpected character '${c}'`);
  }
  push("eof", "", input.length, input.length);
  return tokens;
}

/**
 * Reads a quoted token starting at `at`. A doubled quote stands for one quote character (SQL's rule),
 * and so does a backslash-escaped one, as sqlparse accepts both; other backslash pairs stay as written.
 */
function readQuoted(input: string, at: number, quote: string, what: string): [string, number] {
  let text = "";
  let i = at + 1;
  while (i < input.length) {
    const c = input[i]!;
    if (c === "\0") throw syntaxError(what, input, i, "a NUL character is not allowed");
    if (c === "\\" && i + 1 < input.length) {
      // `\'` is a quote; any other escape is kept as written (LIKE gives `\%` and `\_` meaning).
      const next = input[i + 1]!;
      if (next === "\0") throw syntaxError(what, input, i + 1, "a NUL character is not allowed");
      text += next === quote ? quote : c + next;
      i += 2;
      continue;
    }
    if (c === quote) {
      if (input[i + 1] === quote) {
        text += quote;
        i += 2;
        continue;
      }
      return [text, i + 1];
    }
    text += c;
    i++;
  }
  throw syntaxError(what, input, at, `unterminated ${quote} quote`);
}
