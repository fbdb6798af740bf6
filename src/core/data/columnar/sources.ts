/**
 * A tabular file as a DuckDB table expression whose column names and text are Tandem's, not DuckDB's
 * sniffer's: CSV/TSV is read as text with the header Tandem's reader would give (same delimiter
 * sniffing, blank and repeated names renamed the same way), so typing stays Tandem's own (issue 18).
 */
import { open } from "node:fs/promises";
import type { DuckDBConnection } from "@duckdb/node-api";
import { parse } from "csv-parse/sync";
import { normaliseHeader, sniffDelimiter } from "../readers/csv.js";
import type { TabularFormat } from "../readers/types.js";
import { openColumnarEngine, sqlString } from "./engine.js";

const HEADER_BYTES = 64 * 1024;
/** Records kept from the first HEADER_BYTES as TableSource.sample. */
const SAMPLE_ROWS = 1000;

export interface TableSource {
  /** A FROM-clause expression reading the file. */
  sql: string;
  /** Values are untyped text (CSV), as TableReader.text. */
  text: boolean;
  /**
   * CSV: up to SAMPLE_ROWS records after the header, from the file's first 64 KiB as csv-parse reads
   * them (none where they do not parse). A hint for choosing how to read a column, never its type.
   */
  sample?: string[][];
  /**
   * CSV: the row count the file's size suggests at the sample's bytes per row (a little over, so
   * buffers sized from it rarely grow); 0 when unknown.
   */
  estimatedRows?: number;
}

/**
 * The header record of a CSV file and the records after it in its first 64 KiB, or null when the
 * header does not end there (the caller then reads the file the row-wise way).
 */
async function csvHead(
  path: string,
  delimiter: string,
): Promise<{ header: string[]; sample: string[][]; estimatedRows: number } | null> {
  const handle = await open(path, "r");
  try {
    const buf = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(buf, 0, HEADER_BYTES, 0);
    const text = buf.subarray(0, bytesRead).toString("utf8");
    const records = parse(text, {
      bom: true,
      delimiter,
      skip_empty_lines: true,
      relax_quotes: true,
      to_line: 1,
      relax_column_count: true,
    }) as string[][];
    const header = records[0];
    // A header must be followed by a line break to be known complete.
    if (!header || !/\r?\n/.test(text)) return null;
    const sample = sampleRecords(text, delimiter);
    const sampledBytes = Buffer.byteLength(text.slice(0, text.lastIndexOf("\n") + 1));
    const { size } = await handle.stat();
    // The header is counted as a row and 5% added: over-reserved pages are never touched.
    const estimatedRows = sample.length > 0 ? Math.ceil((size / sampledBytes) * (sample.length + 1) * 1.05) : 0;
    return { header: normaliseHeader(header), sample, estimatedRows };
  } catch {
    return null;
  } finally {
    await handle.close();
  }
}

/** The records after the header in `text`, up to its last line break (the last line may be cut). */
function sampleRecords(text: string, delimiter: string): string[][] {
  try {
    const records = parse(text.slice(0, text.lastIndexOf("\n") + 1), {
      bom: true,
      delimiter,
      skip_empty_lines: true,
      relax_quotes: true,
      relax_column_count: true,
      to: SAMPLE_ROWS + 1,
    }) as string[][];
    return records.slice(1);
  } catch {
    return []; // a quoted field cut at 64 KiB, or text csv-parse rejects: no hint
  }
}

/**
 * The file as a table expression, or null where only the row-wise readers can read it as Tandem
 * means (JSON Lines; a CSV whose header is unusual, or with one column, where csv-parse skips blank
 * lines that DuckDB would read as missing values).
 */
export async function tableSource(path: string, format: TabularFormat): Promise<TableSource | null> {
  switch (format) {
    case "parquet":
      return { sql: `read_parquet(${sqlString(path)})`, text: false };
    case "csv":
    case "tsv": {
      const delimiter = format === "tsv" ? "\t" : await sniffDelimiter(path, path);
      const head = await csvHead(path, delimiter);
      if (!head || head.header.length < 2) return null;
      const { header, sample, estimatedRows } = head;
      const columns = header.map((name) => `${sqlString(name)}: 'VARCHAR'`).join(", ");
      const options = [
        `delim=${sqlString(delimiter)}`,
        "quote='\"'",
        "escape='\"'",
        "header=true",
        "auto_detect=false",
        "strict_mode=true",
        "null_padding=false",
        `columns={${columns}}`,
      ];
      return { sql: `read_csv(${sqlString(path)}, ${options.join(", ")})`, text: true, sample, estimatedRows };
    }
    case "jsonl":
      return null;
  }
}

/**
 * Loads a source into the temp table `t` of a fresh engine and runs `use` with its columns (as DuckDB
 * describes them) and row count; the engine is closed afterwards. Profiles and scans both start here.
 */
export async function withLoadedTable<T>(
  source: TableSource,
  use: (con: DuckDBConnection, columns: Array<{ name: string; type: string }>, rows: number) => Promise<T>,
  options: { threads?: number } = {},
): Promise<T> {
  const engine = await openColumnarEngine(options);
  try {
    const con = engine.connection;
    await con.run(`CREATE TEMP TABLE t AS SELECT * FROM ${source.sql}`);
    const described = (await con.runAndReadAll("DESCRIBE t")).getRowObjects();
    const columns = described.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
    const rows = Number((await con.runAndReadAll("SELECT count(*) FROM t")).getRows()[0]![0]);
    return await use(con, columns, rows);
  } finally {
    engine.close();
  }
}
