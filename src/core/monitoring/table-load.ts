/**
 * Loading a tabular file (CSV, TSV, JSON Lines, Parquet — the Data area's readers) into columns for a
 * drift check. Values are classified as the Data area's profiles classify them (numbers out of CSV
 * text, ISO-8601 strings as datetimes, null tokens as missing) and each column's type follows the same
 * rules (resolveKind + inferType), so `tandem monitors drift` and dataset profiles agree on what a
 * column is.
 */
import { inferType, resolveKind, type ValueKind } from "../data/profile/model.js";
import { classifyString } from "../data/profile/values.js";
import { scanTable, type ScanOptions } from "../data/columnar/scan-table.js";
import { openTable, tabularFormatOf, type TabularFormat } from "../data/readers/index.js";
import type { ColumnType, Table } from "./columns.js";

export interface LoadedTable {
  /**
   * Column values: numbers (datetimes as ms since the epoch), booleans, strings or null; numeric
   * columns may be a Float64Array with NaN where a value is missing.
   */
  table: Table;
  types: Record<string, ColumnType>;
  rows: number;
}

type Value = number | boolean | string | null;

function classify(v: unknown, text: boolean, declared: ValueKind | undefined): [ValueKind | null, Value] {
  if (v === null || v === undefined) return [null, null];
  switch (typeof v) {
    case "number":
      if (!Number.isFinite(v)) return [null, null];
      return [
        declared === "float" || declared === "datetime" ? declared : Number.isInteger(v) ? "integer" : "float",
        v,
      ];
    case "bigint":
      return [declared === "float" ? "float" : "integer", Number(v)];
    case "boolean":
      return ["bool", v];
    case "string": {
      const c = classifyString(v, text);
      return c.kind === "missing" ? [null, null] : [c.kind, c.value];
    }
    default:
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? [null, null] : ["datetime", v.getTime()];
      return ["string", JSON.stringify(v)];
  }
}

/**
 * Read a whole tabular file; `label` names it in errors (default: the path). CSV, TSV and Parquet go
 * through the columnar engine (DuckDB), typed by the same rules; whatever it cannot read as Tandem
 * means (JSON Lines, unusual headers, nested Parquet types) or fails on is read row by row, so errors
 * name the file, row and line exactly as the readers do.
 */
export async function loadTable(
  path: string,
  label?: string,
  format?: TabularFormat,
  options: ScanOptions = {},
): Promise<LoadedTable> {
  const resolved = format ?? tabularFormatOf(label ?? path);
  if (resolved !== null) {
    const scanned = await scanTable(path, resolved, options).catch(() => null);
    if (scanned) return scanned;
  }
  return loadTableRowWise(path, label, format);
}

/** The row-wise loader: every reader, every value through classifyString. */
export async function loadTableRowWise(path: string, label?: string, format?: TabularFormat): Promise<LoadedTable> {
  const reader = await openTable(path, {
    label,
    format: format ?? (label ? (tabularFormatOf(label) ?? undefined) : undefined),
  });
  const columns = new Map<string, Value[]>();
  const kinds = new Map<string, Record<ValueKind, number>>();
  let rows = 0;
  for await (const chunk of reader.chunks()) {
    for (const name of chunk.names) {
      if (!columns.has(name)) {
        // A column first seen in a later chunk (JSON Lines) was missing in the rows before it.
        columns.set(name, new Array<Value>(rows).fill(null));
        kinds.set(name, { integer: 0, float: 0, bool: 0, datetime: 0, string: 0 });
      }
      const out = columns.get(name)!;
      const tally = kinds.get(name)!;
      const src = chunk.columns[name];
      for (let i = 0; i < chunk.rows; i++) {
        const [kind, value] = classify(src?.[i], reader.text, reader.declared[name]);
        if (kind !== null) tally[kind]++;
        out.push(value);
      }
    }
    rows += chunk.rows;
  }
  // Keyed by the file's column names: no prototype, so `__proto__` is a column like any other.
  const table = Object.create(null) as Record<string, ArrayLike<unknown>>;
  const types = Object.create(null) as Record<string, ColumnType>;
  for (const [name, values] of columns) {
    const kind = resolveKind(kinds.get(name)!);
    // Mixed kinds fall back to strings, as profiles do.
    const vals = kind === "string" ? values.map((v) => (v === null ? null : String(v))) : values;
    let nonMissing = 0;
    const distinct = new Set<Value>();
    for (const v of vals) {
      if (v === null) continue;
      nonMissing++;
      distinct.add(v);
    }
    table[name] = vals;
    types[name] = inferType(kind, distinct.size, nonMissing);
  }
  return { table, types, rows };
}
