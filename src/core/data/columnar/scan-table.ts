/**
 * A whole tabular file into columns through DuckDB, typed by Tandem's rules exactly as the row-wise
 * `loadTable` types them (issue 18: drift results must not move):
 *  1. the file is read once into an in-memory table (CSV as text, Parquet with its schema);
 *  2. one SQL pass finds the text columns whose present values are all numbers (classifyString's
 *     number expression); every other text column of up to DICTIONARY_MAX distinct texts is planned
 *     from its distinct texts, each classified by `classifyString` itself; wider ones are counted per
 *     kind in SQL with classifyString's expressions (ISO candidates checked by `parseIsoDatetime`);
 *  3. each column's kind is resolved by `resolveKind`, and one SQL pass returns it typed: numbers as a
 *     Float64Array (NaN where missing), dictionary columns as ENUM codes (a million labels cross from
 *     C++ as small integers instead of a million strings) mapped to their classified values.
 * Wide columns of mixed kinds or datetimes are read as text and classified in TypeScript. Returns null
 * where the file must be read the row-wise way.
 */
import type { DuckDBConnection, DuckDBVector } from "@duckdb/node-api";
import { inferType, resolveKind, type ColumnKind, type ColumnType, type ValueKind } from "../profile/model.js";
import {
  classifyString,
  FLOAT_RE2,
  INTEGER_RE2,
  NULL_TOKENS,
  parseIsoDatetime,
  type Classified,
} from "../profile/values.js";
import type { TabularFormat } from "../readers/types.js";
import { forEachChunk, sqlIdentifier as id, sqlString } from "./engine.js";
import { tableSource, withLoadedTable } from "./sources.js";

export interface ScannedTable {
  /** Numbers (datetimes as ms since the epoch; NaN or null where missing), booleans, strings or null. */
  table: Record<string, ArrayLike<unknown>>;
  types: Record<string, ColumnType>;
  rows: number;
}

// classifyString's date expression in RE2 syntax (no \d shorthand ambiguity).
const ISO_RE =
  "[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?";
const TRUE_TEXTS = ["true", "True", "TRUE"];
const FALSE_TEXTS = ["false", "False", "FALSE"];
/** Categories up to this many distinct labels cross as ENUM codes; more (text columns) as strings. */
const DICTIONARY_MAX = 65_536;

const list = (xs: Iterable<string>): string => [...xs].map(sqlString).join(", ");
const NULLS = list(NULL_TOKENS);

/** How DuckDB's type of a typed (Parquet) column maps to a Tandem kind; undefined: not readable here. */
function declaredKind(duckType: string): ValueKind | "text" | undefined {
  if (duckType === "BOOLEAN") return "bool";
  if (/^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?)$/.test(duckType)) return "integer";
  if (duckType === "FLOAT" || duckType === "DOUBLE" || duckType.startsWith("DECIMAL")) return "float";
  if (duckType === "DATE" || duckType.startsWith("TIMESTAMP")) return "datetime";
  if (duckType === "VARCHAR") return "text";
  return undefined;
}

interface ColumnPlan {
  name: string;
  kind: ColumnKind;
  /** How the column's values are read back. */
  read: "double" | "bool" | "dictionary" | "strings" | "classify" | "datetime-text" | "nulls";
  /** For "dictionary": the distinct present texts (an ENUM's labels), their values and the column's type. */
  dictionary?: string[];
  values?: unknown[];
  type?: ColumnType;
}

/** Read `path` into columns, or null when only the row-wise readers read it as Tandem means. */
export async function scanTable(path: string, format: TabularFormat): Promise<ScannedTable | null> {
  const source = await tableSource(path, format);
  if (!source) return null;
  return withLoadedTable(source, async (con, columns, rows) => {
    const plans: ColumnPlan[] = [];
    const textColumns: string[] = [];
    for (const c of columns) {
      const declared = source.text ? "text" : declaredKind(c.type);
      if (declared === undefined) return null; // nested or exotic Parquet types: the row-wise reader's
      if (declared === "text") textColumns.push(c.name);
      else plans.push({ name: c.name, kind: declared, read: declared === "bool" ? "bool" : "double" });
    }
    const textPlans = await planTextColumns(con, textColumns, source.text);
    const byName = new Map([...plans, ...textPlans].map((p) => [p.name, p]));
    const ordered = columns.map((c) => byName.get(c.name)!);
    return await readColumns(con, ordered, rows, source.text);
  });
}

type KindCounts = Record<ValueKind, number> & { present: number };

/**
 * Step 2: the kind of each text column. Most columns of real tables are all numbers, so one pass asks
 * only how many present values are not numbers: the CASE tests for null tokens only where the number
 * expression fails (DuckDB runs a CASE's ELSE on the rows its WHEN rejects), so an all-number column
 * costs one regular expression per value. Such a column is float when any value has '.', 'e' or 'E'
 * (FLOAT_RE2 without them is INTEGER_RE2) and integer otherwise, found by probes that stop at the first
 * row. The other columns are classified from their distinct values (see planFromDistinct). On bench/drift's
 * 1 M × 25 CSV this typing took 4.8 s of CPU per file with a count of every kind per value (load 17).
 */
async function planTextColumns(con: DuckDBConnection, names: string[], text: boolean): Promise<ColumnPlan[]> {
  if (names.length === 0) return [];
  const missing = (c: string): string => (text ? `(${c} IS NULL OR ${c} IN (${NULLS}))` : `(${c} IS NULL)`);
  const plans: ColumnPlan[] = [];
  const rest: string[] = [];
  if (text) {
    const notNumbers = names.map((name) => {
      const c = id(name);
      return `count(*) FILTER (CASE WHEN regexp_full_match(${c}, '${FLOAT_RE2}') THEN false ELSE NOT ${missing(c)} END)`;
    });
    const row = (await con.runAndReadAll(`SELECT ${notNumbers.join(", ")} FROM t`)).getRows()[0]!.map(Number);
    for (const [i, name] of names.entries()) {
      if (row[i]! > 0) rest.push(name);
      else plans.push({ name, kind: await numbersKind(con, id(name), missing), read: "double" });
    }
  } else rest.push(...names);
  const wide: string[] = [];
  for (const name of rest) {
    const plan = await planFromDistinct(con, name, text);
    if (plan) plans.push(plan);
    else wide.push(name);
  }
  const counts = await countEveryKind(con, wide, text, missing);
  for (const name of wide) {
    const { present, ...kinds } = counts.get(name)!;
    const kind = resolveKind(kinds);
    const pure = kind !== "string" || kinds.string === present;
    plans.push({ name, kind, read: readOf(kind, pure) });
  }
  return plans;
}

/** The kind of a column whose present values are all numbers. */
async function numbersKind(con: DuckDBConnection, c: string, missing: (c: string) => string): Promise<ColumnKind> {
  const any = async (where: string): Promise<boolean> =>
    (await con.runAndReadAll(`SELECT 1 FROM t WHERE ${where} LIMIT 1`)).currentRowCount > 0;
  // "None", a null token, has an 'e': the probe skips missing values.
  if (await any(`NOT ${missing(c)} AND (contains(${c}, '.') OR contains(${c}, 'e') OR contains(${c}, 'E'))`))
    return "float";
  return (await any(`NOT ${missing(c)}`)) ? "integer" : "null";
}

/**
 * A column of at most DICTIONARY_MAX distinct texts, planned from its distinct values and their
 * counts: each distinct text is classified by classifyString itself (so every rule — null tokens,
 * booleans, ISO dates, mixed kinds as text — is Tandem's by construction), and the column is read back
 * as codes into those classified values. Null (undefined) for wider columns.
 */
async function planFromDistinct(con: DuckDBConnection, name: string, text: boolean): Promise<ColumnPlan | undefined> {
  const c = id(name);
  const groups = (
    await con.runAndReadAll(
      `SELECT ${c}, count(*) FROM t WHERE ${c} IS NOT NULL GROUP BY ${c} LIMIT ${DICTIONARY_MAX + 1}`,
    )
  ).getRows();
  if (groups.length > DICTIONARY_MAX) return undefined;
  const kinds: Record<ValueKind, number> = { integer: 0, float: 0, bool: 0, datetime: 0, string: 0 };
  const texts: string[] = [];
  const classified: Classified[] = [];
  let present = 0;
  for (const [value, count] of groups) {
    const s = String(value);
    const k = classifyString(s, text);
    if (k.kind === "missing") continue;
    kinds[k.kind] += Number(count);
    present += Number(count);
    texts.push(s);
    classified.push(k);
  }
  const kind = resolveKind(kinds);
  // Only CSV text can hold numbers; all-number columns are the double read's (they never get here).
  if (kind === "integer" || kind === "float") return { name, kind, read: "double" };
  if (kind === "null") return { name, kind, read: "nulls" };
  // Mixed kinds become strings of each value's classified form ("1.50" → "1.5"), as profiles do.
  const values = classified.map((k) =>
    kind === "string" && k.kind !== "missing" ? String(k.value) : (k as { value: unknown }).value,
  );
  const type = inferType(kind, new Set(values).size, present);
  return { name, kind, read: "dictionary", dictionary: texts, values, type };
}

/** Counts of every kind of value (classifyString's rules) in each of `names`. */
async function countEveryKind(
  con: DuckDBConnection,
  names: string[],
  text: boolean,
  missing: (c: string) => string,
): Promise<Map<string, KindCounts>> {
  const out = new Map<string, KindCounts>();
  if (names.length === 0) return out;
  const isoCandidate = (c: string): string =>
    `(length(${c}) BETWEEN 10 AND 40 AND ${c}[5] = '-' AND regexp_full_match(${c}, '${ISO_RE}'))`;
  const counts = names.flatMap((name) => {
    const c = id(name);
    const typed = text
      ? [
          `count(*) FILTER (regexp_full_match(${c}, '${INTEGER_RE2}'))`,
          `count(*) FILTER (regexp_full_match(${c}, '${FLOAT_RE2}'))`,
          `count(*) FILTER (${c} IN (${list([...TRUE_TEXTS, ...FALSE_TEXTS])}))`,
        ]
      : ["0", "0", "0"];
    return [`count(*) FILTER (NOT ${missing(c)})`, ...typed, `count(*) FILTER (${isoCandidate(c)})`];
  });
  const row = (await con.runAndReadAll(`SELECT ${counts.join(", ")} FROM t`)).getRows()[0]!.map(Number);
  for (const [i, name] of names.entries()) {
    const [present, integers, numbers, bools, candidates] = row.slice(i * 5, i * 5 + 5) as number[];
    // ISO-looking texts that parseIsoDatetime rejects (month 13, …) are strings: check each distinct one.
    let datetimes = 0;
    if (candidates! > 0) {
      const c = id(name);
      const found = await con.runAndReadAll(`SELECT ${c}, count(*) FROM t WHERE ${isoCandidate(c)} GROUP BY ${c}`);
      for (const [value, n] of found.getRows()) if (parseIsoDatetime(String(value)) !== null) datetimes += Number(n);
    }
    out.set(name, {
      present: present!,
      integer: integers!,
      float: numbers! - integers!,
      bool: bools!,
      datetime: datetimes,
      string: present! - numbers! - bools! - datetimes,
    });
  }
  return out;
}

function readOf(kind: ColumnKind, pure: boolean): ColumnPlan["read"] {
  switch (kind) {
    case "integer":
    case "float":
      return "double";
    case "bool":
      return "bool";
    case "datetime":
      return "datetime-text";
    case "string":
      // Mixed kinds become strings of each value's classified form ("1.50" → "1.5"): Tandem's rule, in TS.
      return pure ? "strings" : "classify";
    case "null":
      return "nulls";
  }
}

/** Step 3: every column, typed, in one pass. */
async function readColumns(
  con: DuckDBConnection,
  plans: ColumnPlan[],
  rows: number,
  text: boolean,
): Promise<ScannedTable> {
  const select: string[] = [];
  for (const [i, p] of plans.entries()) {
    const c = id(p.name);
    switch (p.read) {
      case "double":
        select.push(
          text
            ? `coalesce(TRY_CAST(${c} AS DOUBLE), 'NaN'::DOUBLE)`
            : p.kind === "datetime"
              ? `coalesce(epoch_ms(${c}::TIMESTAMP)::DOUBLE, 'NaN'::DOUBLE)`
              : `coalesce(CASE WHEN isfinite(${c}::DOUBLE) THEN ${c}::DOUBLE END, 'NaN'::DOUBLE)`,
        );
        break;
      case "bool":
        select.push(
          text
            ? `CASE WHEN ${c} IN (${list(TRUE_TEXTS)}) THEN true WHEN ${c} IN (${list(FALSE_TEXTS)}) THEN false END`
            : c,
        );
        break;
      case "dictionary":
        await con.run(`CREATE TYPE ${id(`dict_${i}`)} AS ENUM (${list(p.dictionary!)})`);
        select.push(`coalesce(enum_code(TRY_CAST(${c} AS ${id(`dict_${i}`)}))::INTEGER, -1)`);
        break;
      case "strings":
      case "classify":
      case "datetime-text":
        select.push(text && p.read === "strings" ? `CASE WHEN ${c} NOT IN (${NULLS}) THEN ${c} END` : c);
        break;
      case "nulls":
        select.push("NULL");
        break;
    }
  }
  const out = plans.map((p) => columnBuffer(p, rows, text));
  let at = 0;
  const result = await con.run(`SELECT ${select.join(", ")} FROM t`);
  await forEachChunk(result, (vectors, n) => {
    for (let i = 0; i < plans.length; i++) out[i]!.take(vectors[i]!, n, at);
    at += n;
  });
  const table: Record<string, ArrayLike<unknown>> = {};
  const types: Record<string, ColumnType> = {};
  for (const [i, p] of plans.entries()) {
    const { values, type } = out[i]!.finish();
    table[p.name] = values;
    types[p.name] = type;
  }
  return { table, types, rows };
}

/**
 * A fixed-width vector's values as the typed array @duckdb/node-api keeps them in (`items`), or
 * undefined. Reading 2048 values at once instead of through getItem took the typed read of a 1 M × 25
 * CSV from about 1.1 s to almost nothing in the CPU profile (under load). Only for SELECTed expressions that can never be NULL.
 */
function rawItems(vector: DuckDBVector): unknown {
  return (vector as unknown as { items?: unknown }).items;
}

interface ColumnBuffer {
  take(vector: DuckDBVector, n: number, at: number): void;
  finish(): { values: ArrayLike<unknown>; type: ColumnType };
}

function columnBuffer(plan: ColumnPlan, rows: number, text: boolean): ColumnBuffer {
  switch (plan.read) {
    case "double": {
      const values = new Float64Array(rows);
      return {
        take: (v, n, at) => {
          // The SELECT coalesces missing values to NaN, so the vector has no NULLs: copy its doubles whole.
          const items = rawItems(v);
          if (items instanceof Float64Array && items.length >= n) values.set(items.subarray(0, n), at);
          else for (let i = 0; i < n; i++) values[at + i] = v.getItem(i) as number;
        },
        finish: () => numbersColumn(plan.kind, values),
      };
    }
    case "dictionary": {
      const dict = plan.values!;
      const values = new Array<unknown>(rows);
      return {
        take: (v, n, at) => {
          // Codes are INTEGER with -1 for missing (no NULLs): read them straight from the vector's data.
          const items = rawItems(v);
          const codes = items instanceof Int32Array && items.length >= n ? items : null;
          for (let i = 0; i < n; i++) {
            const code = codes ? codes[i]! : (v.getItem(i) as number);
            values[at + i] = code < 0 ? null : dict[code];
          }
        },
        finish: () => ({ values, type: plan.type! }),
      };
    }
    default: {
      const values = new Array<unknown>(rows);
      return {
        take: (v, n, at) => {
          for (let i = 0; i < n; i++) values[at + i] = v.getItem(i);
        },
        finish: () => valuesColumn(plan, values, text),
      };
    }
  }
}

/** Numbers with NaN where missing; category columns (integers with ≤ 10 distinct values) as numbers|null. */
function numbersColumn(kind: ColumnKind, values: Float64Array): { values: ArrayLike<unknown>; type: ColumnType } {
  const distinct = new Set<number>();
  let present = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    present++;
    // Only "more than 10 distinct" matters, and only for integers: a float column is decided by its
    // first value, an integer one by its eleventh distinct (the type needs no exact count of either).
    if (kind === "integer" && distinct.size <= 10) distinct.add(v);
    else break;
  }
  // A declared column with no values at all is of kind "null", as the row-wise loader finds.
  const type = inferType(present === 0 ? "null" : kind, distinct.size, present);
  if (type === "numeric") return { values, type };
  return { values: Array.from(values, (v) => (Number.isNaN(v) ? null : v)), type };
}

/** Columns read as values and typed by Tandem's per-value rules, as the row-wise loader does. */
function valuesColumn(
  plan: ColumnPlan,
  raw: unknown[],
  text: boolean,
): { values: ArrayLike<unknown>; type: ColumnType } {
  let values: unknown[] = raw;
  if (plan.read === "classify" || plan.read === "datetime-text") {
    const cache = new Map<string, unknown>();
    values = raw.map((v) => {
      if (v === null) return null;
      const s = String(v);
      let out = cache.get(s);
      if (out === undefined) {
        const c = classifyString(s, text);
        // Mixed kinds fall back to strings of each value's classified form, as profiles do.
        out = c.kind === "missing" ? null : plan.read === "classify" ? String(c.value) : c.value;
        cache.set(s, out);
      }
      return out;
    });
  }
  const distinct = new Set<unknown>();
  let present = 0;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    present++;
    distinct.add(v);
  }
  return { values, type: inferType(plan.kind, distinct.size, present) };
}
