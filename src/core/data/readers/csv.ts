/**
 * CSV/TSV as column chunks, streamed through csv-parse: memory stays at one chunk of rows whatever the
 * file's size. The first record is the header; every later record must have as many fields.
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { parse } from "csv-parse";
import { fileReadError, TabularFileError } from "./errors.js";
import type { TableChunk, TableReader } from "./types.js";

const SNIFF_BYTES = 64 * 1024;

/** The delimiter the header line uses most of: comma, semicolon, tab or pipe. */
export async function sniffDelimiter(path: string, file: string): Promise<string> {
  const handle = await open(path, "r").catch((e: unknown) => fileReadError(e, file));
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buf, 0, SNIFF_BYTES, 0).catch((e: unknown) => fileReadError(e, file));
    const firstLine = buf.subarray(0, bytesRead).toString("utf8").split(/\r?\n/, 1)[0] ?? "";
    let best = ",";
    let bestCount = 0;
    for (const d of [",", ";", "\t", "|"]) {
      const count = firstLine.split(d).length - 1;
      if (count > bestCount) [best, bestCount] = [d, count];
    }
    return best;
  } finally {
    await handle.close();
  }
}

/** Header names made usable: blanks become column_N, repeats get a suffix (pandas does the same: a.1). */
export function normaliseHeader(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((raw, i) => {
    let name = raw.trim() || `column_${i + 1}`;
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    if (n > 0) name = `${name}.${n}`;
    return name;
  });
}

export async function openCsv(
  path: string,
  file: string,
  options: { tsv: boolean; chunkRows: number },
): Promise<TableReader> {
  const delimiter = options.tsv ? "\t" : await sniffDelimiter(path, file);
  return {
    format: options.tsv ? "tsv" : "csv",
    text: true,
    declared: Object.create(null) as TableReader["declared"],
    chunks: () => csvChunks(path, file, delimiter, options.chunkRows),
  };
}

async function* csvChunks(
  path: string,
  file: string,
  delimiter: string,
  chunkRows: number,
): AsyncGenerator<TableChunk> {
  const input = createReadStream(path, { highWaterMark: 1 << 20 });
  const records = input.pipe(parse({ bom: true, delimiter, skip_empty_lines: true, relax_quotes: true }));
  input.on("error", (e) => records.destroy(e));
  let header: string[] | null = null;
  let columns: string[][] = [];
  let rows = 0;
  let firstRow = 1;
  try {
    for await (const record of records as AsyncIterable<string[]>) {
      if (!header) {
        header = normaliseHeader(record);
        columns = header.map(() => []);
        continue;
      }
      for (let c = 0; c < record.length; c++) columns[c]!.push(record[c]!);
      if (++rows === chunkRows) {
        yield { names: header, columns: toColumns(header, columns), rows, firstRow };
        firstRow += rows;
        rows = 0;
        columns = header.map(() => []);
      }
    }
  } catch (error) {
    throw csvError(error, file);
  }
  if (!header) throw new TabularFileError("is empty: a CSV file needs at least a header line", { file });
  if (rows > 0 || firstRow === 1) yield { names: header, columns: toColumns(header, columns), rows, firstRow };
}

/**
 * A header is the user's: without a prototype, a column named `__proto__` is an own key like any
 * other (in `{}` the assignment set the map's prototype and the column vanished from profiles and
 * drift), and a lookup of `constructor` finds only a column of that name.
 */
function toColumns(header: string[], columns: string[][]): Record<string, string[]> {
  const out = Object.create(null) as Record<string, string[]>;
  header.forEach((name, i) => (out[name] = columns[i]!));
  return out;
}

interface CsvParseError {
  code?: string;
  message: string;
  lines?: number;
  records?: number;
  record?: string[];
  invalid_field_length?: number;
}

function csvError(error: unknown, file: string): Error {
  if (error instanceof TabularFileError) return error;
  const e = error as CsvParseError;
  if (!e || typeof e.code !== "string" || !e.code.startsWith("CSV_")) {
    try {
      fileReadError(error, file);
    } catch (mapped) {
      return mapped as Error;
    }
  }
  const line = e.lines;
  // csv-parse counts the header and the good records before the fault: that is the bad data row's number.
  const row = e.records;
  switch (e.code) {
    case "CSV_RECORD_INCONSISTENT_FIELDS_LENGTH": {
      const m = /expect (\d+), got (\d+)/.exec(e.message);
      const expected = m?.[1] ?? "?";
      const found = m?.[2] ?? String(e.record?.length ?? "?");
      return new TabularFileError(`ragged row: expected ${expected} fields as in the header, found ${found}`, {
        file,
        row,
        line,
      });
    }
    case "CSV_QUOTE_NOT_CLOSED":
      return new TabularFileError("a quoted field is never closed (is the file truncated?)", { file, row, line });
    default:
      return new TabularFileError(`not valid CSV: ${e.message}`, { file, row, line });
  }
}
