/**
 * JSON Lines as column chunks: one JSON object per line, blank lines skipped. Keys may differ between
 * lines; a key a row lacks is missing in that row. Nested values are kept and profiled as JSON text.
 */
import { createReadStream } from "node:fs";
import { fileReadError, TabularFileError } from "./errors.js";
import type { TableChunk, TableReader } from "./types.js";

export function openJsonl(path: string, file: string, options: { chunkRows: number }): TableReader {
  return {
    format: "jsonl",
    text: false,
    declared: Object.create(null) as TableReader["declared"],
    chunks: () => jsonlChunks(path, file, options.chunkRows),
  };
}

async function* jsonlChunks(path: string, file: string, chunkRows: number): AsyncGenerator<TableChunk> {
  const names: string[] = [];
  let columns = new Map<string, unknown[]>();
  /** The keys of the last row in their order, and their columns (of this chunk). */
  let lastKeys: string[] = [];
  let lastColumns: unknown[][] = [];
  let rows = 0;
  let firstRow = 1;
  let row = 0;
  let line = 0;
  let rest = "";

  const take = (text: string, last: boolean): void => {
    line++;
    if (text.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const hint = last ? " — the last line has no newline: is the file truncated?" : "";
      throw new TabularFileError(`invalid JSON: ${(error as Error).message}${hint}`, { file, row: row + 1, line });
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      const found = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
      throw new TabularFileError(`expected a JSON object per line, found ${found}`, { file, row: row + 1, line });
    }
    row++;
    const object = value as Record<string, unknown>;
    // One array of keys per row, where Object.entries made one per key too; a key at the place the
    // last row had it reuses that row's column without a lookup.
    const keys = Object.keys(object);
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      let col: unknown[];
      if (lastKeys[k] === key) {
        col = lastColumns[k]!;
      } else {
        let found = columns.get(key);
        if (!found) {
          found = new Array<unknown>(rows);
          columns.set(key, found);
          if (!names.includes(key)) names.push(key);
        }
        col = found;
        lastKeys[k] = key;
        lastColumns[k] = found;
      }
      col[rows] = object[key];
    }
    rows++;
  };

  const flush = (): TableChunk => {
    // No prototype: a key `__proto__` is a column like any other (csv.ts toColumns).
    const out = Object.create(null) as Record<string, unknown[]>;
    for (const name of names) {
      const col = columns.get(name) ?? [];
      col.length = rows;
      out[name] = col;
    }
    const chunk = { names: [...names], columns: out, rows, firstRow };
    firstRow += rows;
    rows = 0;
    columns = new Map();
    lastKeys = [];
    lastColumns = [];
    return chunk;
  };

  const stream = createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 });
  try {
    for await (const piece of stream as AsyncIterable<string>) {
      const text = rest + piece;
      let start = 0;
      for (let nl = text.indexOf("\n", start); nl !== -1; nl = text.indexOf("\n", start)) {
        take(text.slice(start, nl), false);
        start = nl + 1;
        if (rows === chunkRows) yield flush();
      }
      rest = text.slice(start);
    }
  } catch (error) {
    stream.destroy();
    if (error instanceof TabularFileError) throw error;
    fileReadError(error, file);
  }
  if (rest !== "") take(rest, true);
  if (rows > 0 || firstRow === 1) yield flush();
}
