/**
 * Classifying raw values: what kind a string holds (CSV fields are all text) and ISO-8601 parsing.
 */
import type { ValueKind } from "./model.js";

/** CSV fields read as missing (pandas' defaults, minus the rarely meant ones such as "n/a" variants). */
export const NULL_TOKENS = new Set(["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "#N/A"]);

const INTEGER = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** INTEGER and FLOAT in RE2 syntax, for DuckDB's regexp_full_match (the columnar profile and scan). */
export const INTEGER_RE2 = "[+-]?[0-9]+";
export const FLOAT_RE2 = "[+-]?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?";
/** A Map: a CSV cell `constructor` or `toString` is text, not Object.prototype's member taken as a bool. */
const BOOL = new Map([
  ["true", true],
  ["false", false],
  ["True", true],
  ["False", false],
  ["TRUE", true],
  ["FALSE", false],
]);
/** Date, or date-time with optional seconds, fraction and zone. Zone-less times are read as UTC. */
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** Milliseconds since the epoch of an ISO-8601 date or date-time, or null if `s` is not one. */
export function parseIsoDatetime(s: string): number | null {
  if (s.length < 10 || s.length > 40 || s.charCodeAt(4) !== 45 /* - */) return null;
  const m = ISO.exec(s);
  if (!m) return null;
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = h === undefined ? 0 : Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = sec === undefined ? 0 : Number(sec);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || second > 60) return null;
  const ms = frac === undefined ? 0 : Number((frac + "00").slice(0, 3));
  let t = Date.UTC(Number(y), month - 1, day, hour, minute, second, ms);
  if (zone && zone !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    const offset = Number(digits.slice(0, 2)) * 60 + (digits.length > 2 ? Number(digits.slice(2)) : 0);
    t -= sign * offset * 60_000;
  }
  return Number.isFinite(t) ? t : null;
}

export type Classified =
  | { kind: "missing" }
  | { kind: "integer" | "float" | "datetime"; value: number }
  | { kind: "bool"; value: boolean }
  | { kind: "string"; value: string };

const MISSING: Classified = { kind: "missing" };

/**
 * What a string holds. `text` (CSV) reads numbers, booleans and null tokens out of it; typed sources
 * (JSON Lines, Parquet) keep strings as strings, except that ISO-8601 strings are datetimes everywhere.
 */
export function classifyString(s: string, text: boolean): Classified {
  if (text) {
    if (NULL_TOKENS.has(s)) return MISSING;
    if (INTEGER.test(s)) return { kind: "integer", value: Number(s) };
    if (FLOAT.test(s)) return { kind: "float", value: Number(s) };
    const b = BOOL.get(s);
    if (b !== undefined) return { kind: "bool", value: b };
  }
  const t = parseIsoDatetime(s);
  if (t !== null) return { kind: "datetime", value: t };
  return { kind: "string", value: s };
}

export function isValueKind(kind: string): kind is ValueKind {
  return kind === "integer" || kind === "float" || kind === "bool" || kind === "datetime" || kind === "string";
}
