/**
 * Step 3 of the columnar scan (scan-table.ts): every planned column read back typed, in one pass —
 * numbers as a Float64Array (NaN where missing), dictionary columns as ENUM codes mapped to their
 * classified values, the rest as values typed by Tandem's per-value rules.
 */
import type { DuckDBConnection, DuckDBVector } from "@duckdb/node-api";
import { inferType, type ColumnKind, type ColumnType } from "../profile/model.js";
import { classifyString, NULL_TOKENS } from "../profile/values.js";
import { forEachChunk, sqlIdentifier as id } from "./engine.js";
import { FALSE_TEXTS, oneOfSql, sqlList, TRUE_TEXTS } from "./text-sql.js";

export interface ScannedTable {
  /** Numbers (datetimes as ms since the epoch; NaN or null where missing), booleans, strings or null. */
  table: Record<string, ArrayLike<unknown>>;
  types: Record<string, ColumnType>;
  rows: number;
}

export interface ColumnPlan {
  name: string;
  kind: ColumnKind;
  /** How the column's values are read back. */
  read: "double" | "bool" | "dictionary" | "strings" | "classify" | "datetime-text" | "nulls";
  /** For "dictionary": the distinct present texts (an ENUM's labels), their values and the column's type. */
  dictionary?: string[];
  values?: unknown[];
  type?: ColumnType;
}

/** Step 3: every column, typed, in one pass. */
export async function readColumns(
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
          text ? `CASE WHEN ${oneOfSql(c, TRUE_TEXTS)} THEN true WHEN ${oneOfSql(c, FALSE_TEXTS)} THEN false END` : c,
        );
        break;
      case "dictionary":
        await con.run(`CREATE TYPE ${id(`dict_${i}`)} AS ENUM (${sqlList(p.dictionary!)})`);
        select.push(`coalesce(enum_code(TRY_CAST(${c} AS ${id(`dict_${i}`)}))::INTEGER, -1)`);
        break;
      case "strings":
      case "classify":
      case "datetime-text":
        select.push(text && p.read === "strings" ? `CASE WHEN NOT ${oneOfSql(c, NULL_TOKENS)} THEN ${c} END` : c);
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
  // Keyed by the file's column names: no prototype, so `__proto__` is a column like any other.
  const table = Object.create(null) as Record<string, ArrayLike<unknown>>;
  const types = Object.create(null) as Record<string, ColumnType>;
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
export function rawItems(vector: DuckDBVector): unknown {
  return (vector as unknown as { items?: unknown }).items;
}

/** A never-NULL fixed-width vector's first `n` values as a typed array of `kind` (its own when it is one). */
export function typedItems<T extends Float64Array | Int32Array>(
  vector: DuckDBVector,
  n: number,
  kind: { new (length: number): T },
): T {
  const items = rawItems(vector);
  if (items instanceof kind && items.length >= n) return items;
  const values = new kind(n);
  for (let k = 0; k < n; k++) values[k] = vector.getItem(k) as number;
  return values;
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
export function numbersColumn(
  kind: ColumnKind,
  values: Float64Array,
): { values: ArrayLike<unknown>; type: ColumnType } {
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
