/**
 * A whole tabular file into columns through DuckDB, typed by Tandem's rules exactly as the row-wise
 * `loadTable` types them (issue 18: drift results must not move):
 *  1. the file is read (CSV as text, Parquet with its schema); CSV columns that hold only numbers, and
 *     label columns whose every text the file's first 64 KiB show, are typed and read in one pass over
 *     the file (csv-scan.ts), every other column is loaded into an in-memory table;
 *  2. one SQL pass finds the text columns whose present values are all numbers (classifyString's
 *     number expression); every other text column of up to DICTIONARY_MAX distinct texts is planned
 *     from its distinct texts, each classified by `classifyString` itself; wider ones are counted per
 *     kind in SQL with classifyString's expressions (ISO candidates checked by `parseIsoDatetime`)
 *     (plan-columns.ts);
 *  3. each column's kind is resolved by `resolveKind`, and one SQL pass returns it typed: numbers as a
 *     Float64Array (NaN where missing), dictionary columns as ENUM codes (a million labels cross from
 *     C++ as small integers instead of a million strings) mapped to their classified values
 *     (read-columns.ts).
 * Wide columns of mixed kinds or datetimes are read as text and classified in TypeScript. Returns null
 * where the file must be read the row-wise way.
 */
import type { ValueKind } from "../profile/model.js";
import type { TabularFormat } from "../readers/types.js";
import { scanCsvSource } from "./csv-scan.js";
import { planTextColumns } from "./plan-columns.js";
import { readColumns, type ColumnPlan, type ScannedTable } from "./read-columns.js";
import { tableSource, withLoadedTable } from "./sources.js";

export type { ScannedTable };

export interface ScanOptions {
  /** DuckDB threads for this scan (default: DuckDB's, one per core). */
  threads?: number;
}

/** How DuckDB's type of a typed (Parquet) column maps to a Tandem kind; undefined: not readable here. */
function declaredKind(duckType: string): ValueKind | "text" | undefined {
  if (duckType === "BOOLEAN") return "bool";
  if (/^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?)$/.test(duckType)) return "integer";
  if (duckType === "FLOAT" || duckType === "DOUBLE" || duckType.startsWith("DECIMAL")) return "float";
  if (duckType === "DATE" || duckType.startsWith("TIMESTAMP")) return "datetime";
  if (duckType === "VARCHAR") return "text";
  return undefined;
}

/** Read `path` into columns, or null when only the row-wise readers read it as Tandem means. */
export async function scanTable(
  path: string,
  format: TabularFormat,
  options: ScanOptions = {},
): Promise<ScannedTable | null> {
  const source = await tableSource(path, format);
  if (!source) return null;
  if (source.text) return scanCsvSource(source, options);
  return withLoadedTable(
    source,
    async (con, columns, rows) => {
      const plans: ColumnPlan[] = [];
      const textColumns: string[] = [];
      for (const c of columns) {
        const declared = declaredKind(c.type);
        if (declared === undefined) return null; // nested or exotic Parquet types: the row-wise reader's
        if (declared === "text") textColumns.push(c.name);
        else plans.push({ name: c.name, kind: declared, read: declared === "bool" ? "bool" : "double" });
      }
      const textPlans = await planTextColumns(con, textColumns, false);
      const byName = new Map([...plans, ...textPlans].map((p) => [p.name, p]));
      return await readColumns(
        con,
        columns.map((c) => byName.get(c.name)!),
        rows,
        false,
      );
    },
    options,
  );
}
