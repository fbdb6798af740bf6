/**
 * Step 2 of the columnar scan (scan-table.ts): the kind of each text column of the loaded table `t`,
 * and how it is read back (read-columns.ts).
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { inferType, resolveKind, type ColumnKind, type ValueKind } from "../profile/model.js";
import { classifyString, FLOAT_RE2, INTEGER_RE2, parseIsoDatetime, type Classified } from "../profile/values.js";
import { sqlIdentifier as id } from "./engine.js";
import type { ColumnPlan } from "./read-columns.js";
import { FALSE_TEXTS, missingSql, oneOfSql, TRUE_TEXTS } from "./text-sql.js";

// classifyString's date expression in RE2 syntax (no \d shorthand ambiguity).
const ISO_RE =
  "[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,9})?)?(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?";
/** Categories up to this many distinct labels cross as ENUM codes; more (text columns) as strings. */
const DICTIONARY_MAX = 65_536;

type KindCounts = Record<ValueKind, number> & { present: number };

/**
 * Step 2: the kind of each text column. Most columns of real tables are all numbers, so one pass asks
 * only how many present values are not numbers: the CASE tests for null tokens only where the number
 * expression fails (DuckDB runs a CASE's ELSE on the rows its WHEN rejects), so an all-number column
 * costs one regular expression per value. Such a column is float when any value has '.', 'e' or 'E'
 * (FLOAT_RE2 without them is INTEGER_RE2) and integer otherwise, found by probes that stop at the first
 * row. The other columns are classified from their distinct values (see planFromDistinct). On bench/drift's
 * 1 M × 25 CSV this typing took 4.8 s of CPU per file with a count of every kind per value (load 17).
 * Columns in `notAllNumbers` are known to hold a present non-number (csv-scan.ts met one) and skip
 * that pass.
 */
export async function planTextColumns(
  con: DuckDBConnection,
  names: string[],
  text: boolean,
  notAllNumbers: ReadonlySet<string> = new Set(),
): Promise<ColumnPlan[]> {
  if (names.length === 0) return [];
  const missing = (c: string): string => missingSql(c, text);
  const plans: ColumnPlan[] = [];
  const rest = names.filter((name) => notAllNumbers.has(name));
  const unknown = names.filter((name) => !notAllNumbers.has(name));
  if (text && unknown.length > 0) {
    const notNumbers = unknown.map((name) => {
      const c = id(name);
      return `count(*) FILTER (CASE WHEN regexp_full_match(${c}, '${FLOAT_RE2}') THEN false ELSE NOT ${missing(c)} END)`;
    });
    const row = (await con.runAndReadAll(`SELECT ${notNumbers.join(", ")} FROM t`)).getRows()[0]!.map(Number);
    for (const [i, name] of unknown.entries()) {
      if (row[i]! > 0) rest.push(name);
      else plans.push({ name, kind: await numbersKind(con, id(name), missing), read: "double" });
    }
  } else rest.push(...unknown);
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
 * counts (planFromGroups). Null (undefined) for wider columns.
 */
async function planFromDistinct(con: DuckDBConnection, name: string, text: boolean): Promise<ColumnPlan | undefined> {
  const c = id(name);
  const groups = (
    await con.runAndReadAll(
      `SELECT ${c}, count(*) FROM t WHERE ${c} IS NOT NULL GROUP BY ${c} LIMIT ${DICTIONARY_MAX + 1}`,
    )
  ).getRows();
  if (groups.length > DICTIONARY_MAX) return undefined;
  return planFromGroups(
    name,
    groups.map(([value, count]) => [String(value), Number(count)]),
    text,
  );
}

/**
 * A column planned from its distinct present texts and how often each occurs (`groups`, counts > 0,
 * any order): each distinct text is classified by classifyString itself (so every rule — null
 * tokens, booleans, ISO dates, mixed kinds as text — is Tandem's by construction), and the column is
 * read back as codes into those classified values. Also csv-scan.ts's, for label columns it read as
 * codes of the texts its sample saw.
 */
export function planFromGroups(name: string, groups: Iterable<[string, number]>, text: boolean): ColumnPlan {
  const kinds: Record<ValueKind, number> = { integer: 0, float: 0, bool: 0, datetime: 0, string: 0 };
  const texts: string[] = [];
  const classified: Classified[] = [];
  let present = 0;
  for (const [s, count] of groups) {
    const k = classifyString(s, text);
    if (k.kind === "missing") continue;
    kinds[k.kind] += count;
    present += count;
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
          `count(*) FILTER (${oneOfSql(c, [...TRUE_TEXTS, ...FALSE_TEXTS])})`,
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
