/**
 * A column's exact duplicate count across CSV/TSV files through DuckDB, for the `unique` expectation
 * when the profile's distinct count is only an estimate (more than 1 024 distinct values). It counts
 * what the row-wise check counts: CSV fields as their text, empty fields left out, every file's values
 * in one set; count(non-empty) − count(DISTINCT non-empty) is its "a value seen before" tally.
 */
import type { TableReader, TabularFormat } from "../readers/types.js";
import { openColumnarEngine, sqlIdentifier } from "./engine.js";
import { tableSource } from "./sources.js";

export interface DuplicatesInput {
  path: string;
  format: TabularFormat;
}

/**
 * Duplicates of `column` over `files`, or null when the row-wise check must answer: a file that is
 * not CSV/TSV (typed values compare as numbers and dates there) or whose header the columnar reader
 * leaves to the row-wise one. A file without the column adds nothing, as in the row-wise check.
 */
export async function countDuplicatesColumnar(files: DuplicatesInput[], column: string): Promise<number | null> {
  const sources: string[] = [];
  for (const file of files) {
    if (file.format !== "csv" && file.format !== "tsv") return null;
    const source = await tableSource(file.path, file.format);
    if (!source) return null;
    sources.push(source.sql);
  }
  if (sources.length === 0) return 0;
  const engine = await openColumnarEngine();
  try {
    const con = engine.connection;
    const c = sqlIdentifier(column);
    const parts: string[] = [];
    for (const sql of sources) {
      const names = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${sql}`)).getRows().map((r) => String(r[0]));
      if (names.includes(column)) parts.push(`SELECT ${c} AS v FROM ${sql}`);
    }
    if (parts.length === 0) return 0;
    const counted = await con.runAndReadAll(
      `SELECT count(v) - count(DISTINCT v) FROM (${parts.join(" UNION ALL ")}) WHERE v <> ''`,
    );
    return Number(counted.getRows()[0]![0]);
  } finally {
    engine.close();
  }
}

/**
 * The row-wise count, file by file through the readers (typed files, and whatever the columnar count
 * leaves): every file's non-empty values in one set, a value seen before counted once per repeat.
 * Integers and dates compare by value (a bigint as its number, a date as its time).
 */
export class DuplicateTally {
  private readonly seen = new Set<unknown>();
  duplicates = 0;

  async add(reader: TableReader, column: string): Promise<void> {
    for await (const chunk of reader.chunks()) {
      const values = chunk.columns[column];
      if (!values) continue;
      for (let i = 0; i < chunk.rows; i++) {
        const raw = values[i];
        if (raw === null || raw === undefined || raw === "") continue;
        const key = typeof raw === "bigint" ? Number(raw) : raw instanceof Date ? raw.getTime() : raw;
        if (this.seen.has(key)) this.duplicates++;
        else this.seen.add(key);
      }
    }
  }
}
