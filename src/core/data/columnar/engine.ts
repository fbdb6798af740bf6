/**
 * The columnar engine: DuckDB (through @duckdb/node-api, whose Linux binary comes from npm with
 * Parquet, JSON and ICU built in) for scanning tabular files. Like hyparquet and csv-parse, it is a
 * file reader to the Data area, not a metadata store: each use opens its own in-memory database and
 * closes it when done.
 *
 * Nothing downloads at run time: extension auto-install and auto-load are off from the moment the
 * database opens, so a query that would need an extension fails instead of fetching one.
 */
import type { DuckDBConnection, DuckDBResult, DuckDBVector } from "@duckdb/node-api";

/**
 * DuckDB's module, loaded on first use: its native library is 70 MB, and a CLI command that never
 * scans a table should not pay for loading it.
 */
export const loadDuckDB = (() => {
  let loading: Promise<typeof import("@duckdb/node-api")> | undefined;
  return () => (loading ??= import("@duckdb/node-api"));
})();

/** DuckDB options every engine opens with. */
const SAFE_OPTIONS: Record<string, string> = {
  autoinstall_known_extensions: "false",
  autoload_known_extensions: "false",
  // The engine never spills to disk here (inputs are files it scans, results stream out), and the
  // default temp directory (".tmp" under the working directory) is one more path it could reach.
  temp_directory: "",
};

export interface ColumnarEngine {
  connection: DuckDBConnection;
  close(): void;
}

/** An in-memory DuckDB with extension downloads off; `threads` defaults to DuckDB's (one per core). */
export async function openColumnarEngine(options: { threads?: number } = {}): Promise<ColumnarEngine> {
  const config = { ...SAFE_OPTIONS };
  if (options.threads !== undefined) config.threads = String(options.threads);
  const { DuckDBInstance } = await loadDuckDB();
  const instance = await DuckDBInstance.create(":memory:", config);
  const connection = await instance.connect();
  return {
    connection,
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** A SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** A SQL identifier (column or view name), quoted whatever it holds. */
export function sqlIdentifier(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/** Every chunk of a result (2048 rows each), as its column vectors. */
export async function forEachChunk(
  result: DuckDBResult,
  take: (vectors: DuckDBVector[], rowCount: number) => void,
): Promise<void> {
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) return;
    take(
      Array.from({ length: chunk.columnCount }, (_, i) => chunk.getColumnVector(i)),
      chunk.rowCount,
    );
  }
}
