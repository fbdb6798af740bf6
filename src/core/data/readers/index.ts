/**
 * Tabular files in, profiles out. `openTable` picks the reader by extension; `profileFile` streams a
 * file through it into a `ProfileBuilder`. Every failure is a TabularFileError naming the file (as
 * `label`, e.g. the path inside a dataset) and, where it can, the row and line.
 */
import { ProfileBuilder } from "../profile/builder.js";
import type { TableProfile } from "../profile/model.js";
import { openCsv } from "./csv.js";
import { openJsonl } from "./jsonl.js";
import type { TableReader, TabularFormat } from "./types.js";

export { TabularFileError } from "./errors.js";
export type { TableChunk, TableReader, TabularFormat } from "./types.js";

/** Rows per chunk of CSV and JSON Lines (default); Parquet chunks are its row groups. */
export const DEFAULT_CHUNK_ROWS = 65_536;

const EXTENSIONS: Array<[string, TabularFormat]> = [
  [".csv", "csv"],
  [".tsv", "tsv"],
  [".jsonl", "jsonl"],
  [".ndjson", "jsonl"],
  [".parquet", "parquet"],
  [".pq", "parquet"],
];

/** The tabular format a path's extension names, or null for files Tandem does not profile. */
export function tabularFormatOf(path: string): TabularFormat | null {
  const lower = path.toLowerCase();
  for (const [ext, format] of EXTENSIONS) if (lower.endsWith(ext)) return format;
  return null;
}

export interface OpenTableOptions {
  /** How errors name the file (default: the path). */
  label?: string;
  /** (default: from the extension) */
  format?: TabularFormat;
  /** Rows per chunk for CSV and JSON Lines (default 65 536). */
  chunkRows?: number;
}

export async function openTable(path: string, options: OpenTableOptions = {}): Promise<TableReader> {
  const file = options.label ?? path;
  const format = options.format ?? tabularFormatOf(path);
  const chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
  switch (format) {
    case "csv":
    case "tsv":
      return openCsv(path, file, { tsv: format === "tsv", chunkRows });
    case "jsonl":
      return openJsonl(path, file, { chunkRows });
    case "parquet":
      // hyparquet and its codecs load with the first Parquet file, not with every process that
      // wires the data services (each embedded CLI command).
      return (await import("./parquet.js")).openParquet(path, file);
    case null:
      throw new TypeError(`${file}: not a tabular file (expected .csv, .tsv, .jsonl, .ndjson or .parquet)`);
  }
}

/** Streams a tabular file into its profile. */
export async function profileFile(path: string, options: OpenTableOptions = {}): Promise<TableProfile> {
  const reader = await openTable(path, options);
  const builder = new ProfileBuilder({ declared: reader.declared, text: reader.text });
  for await (const chunk of reader.chunks()) {
    builder.declareColumns(chunk.names);
    builder.addColumns(chunk.columns as Record<string, ArrayLike<unknown>>, chunk.rows);
  }
  return builder.finish();
}
