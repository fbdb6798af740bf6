import type { ValueKind } from "../profile/model.js";

export type TabularFormat = "csv" | "tsv" | "jsonl" | "parquet";

/** A run of rows as columns. Column arrays all have `rows` values. */
export interface TableChunk {
  /** Every column known so far, in file order (JSON Lines may add columns in later chunks). */
  names: string[];
  columns: Record<string, ArrayLike<unknown>>;
  rows: number;
  /** 1-based number of the chunk's first data row. */
  firstRow: number;
}

export interface TableReader {
  format: TabularFormat;
  /** Values are untyped text (CSV): numbers and dates are read out of strings. */
  text: boolean;
  /** Kinds the file's own schema declares (Parquet). */
  declared: Record<string, ValueKind>;
  /** Rows in the file when its metadata says (Parquet), else undefined. */
  rowCount?: number;
  chunks(): AsyncIterable<TableChunk>;
}
