/**
 * SQL over one dataset version (`tandem data query NAME@V "SELECT …"`, the UI's SQL preview): the
 * version's tabular files are views in an in-memory DuckDB, and the user's statement runs in a box.
 *
 * Read-only is not enough: DuckDB's read_text, ATTACH, COPY … TO and INSTALL reach any file the
 * server can read or write. So, in this order:
 *  1. each file is registered as a view (and `dataset` as all of them stacked by column name);
 *  2. file access is then switched off (enable_external_access=false) except for exactly those
 *     files (allowed_paths), extension installs stay off, memory is capped, and the configuration is
 *     locked so the user's SQL cannot switch any of it back;
 *  3. the user's text must be one SELECT statement (DuckDB's own parser says which kind it is, before
 *     anything is bound, and the prepared statement's type must agree), and may not name DuckDB's
 *     catalog and settings (duckdb_views(), information_schema, current_setting …): they would show
 *     where the server keeps the files (the views' SQL, allowed_paths) and the process's home;
 *  4. rows stream out up to the row limit, and a query still running at the deadline is interrupted.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { InvalidInputError } from "../errors.js";
import type { TabularFormat } from "./readers/types.js";
import { loadDuckDB, openColumnarEngine, sqlIdentifier, sqlString } from "./columnar/engine.js";

/** Rows returned when the caller names no limit. */
export const DEFAULT_QUERY_ROWS = 100;
/** The most rows one query returns, whatever the caller asks. */
export const MAX_QUERY_ROWS = 10_000;
/** A query still running after this long is interrupted (default 30 s). */
export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
/** DuckDB's memory cap for one query (a server runs other work too). */
const QUERY_MEMORY_LIMIT = "1GB";

export interface QueryFile {
  /** The file's path inside the version (names its view). */
  path: string;
  /** Where its bytes are on this machine. */
  local: string;
  format: TabularFormat;
}

export interface QueryOptions {
  /** Rows to return at most (default 100, at most 10 000). */
  limit?: number;
  /** (default 30 s) */
  timeoutMs?: number;
}

export interface QueryResult {
  /** The views the query could use, by file. */
  views: Array<{ name: string; file: string | null }>;
  columns: Array<{ name: string; type: string }>;
  /** Values as JSON: numbers, strings (big integers, decimals and dates as text), booleans, null. */
  rows: unknown[][];
  /** More rows existed than the limit. */
  truncated: boolean;
  limit: number;
}

/** A view name from a file's path: its base name without extension, as an identifier. */
function viewNameOf(path: string, taken: Set<string>): string {
  const base = path
    .split("/")
    .pop()!
    .replace(/\.[^.]*$/, "");
  let name = base.replace(/[^A-Za-z0-9_]/g, "_").replace(/^(?=[0-9])/, "_") || "file";
  // `dataset` is taken, and a name that looks like DuckDB's catalog would be refused (step 3).
  if (name.toLowerCase() === "dataset") name = "dataset_file";
  else if (SYSTEM_NAME.test(name.toLowerCase())) name = `file_${name}`;
  for (let i = 2; taken.has(name.toLowerCase()); i++) name = `${name.replace(/_\d+$/, "")}_${i}`;
  taken.add(name.toLowerCase());
  return name;
}

function readerSql(file: QueryFile): string {
  const path = sqlString(file.local);
  switch (file.format) {
    case "parquet":
      return `read_parquet(${path})`;
    case "jsonl":
      return `read_json(${path}, format='newline_delimited')`;
    case "tsv":
      return `read_csv(${path}, delim='\t', header=true)`;
    case "csv":
      return `read_csv(${path}, header=true)`;
  }
}

/** The SQL as errors quote it: one line, cut at 200 characters. */
function quoted(sql: string): string {
  const flat = sql.replace(/\s+/g, " ").trim();
  return JSON.stringify(flat.length > 200 ? `${flat.slice(0, 200)}…` : flat);
}

/**
 * A DuckDB failure as the caller's error, naming their SQL and DuckDB's reason, with the files named
 * by their place in the version, never where the server stores them.
 */
function queryError(sql: string, error: unknown, files: QueryFile[]): InvalidInputError {
  let reason = ((error as Error)?.message ?? String(error)).split("\n")[0]!;
  for (const file of files) reason = reason.replaceAll(file.local, file.path);
  const hint = /file system operations are disabled|external/i.test(reason)
    ? " (a query may read only this version's files, through its views)"
    : "";
  return new InvalidInputError(`query ${quoted(sql)} failed: ${reason}${hint}`);
}

/** DuckDB's introspection: its catalog functions and views, settings and secrets. */
const SYSTEM_NAME = /^(duckdb_|pragma_|sqlite_|pg_)|^(current_setting|which_secret|getvariable)$/;
const SYSTEM_SCHEMA = /^(information_schema|pg_catalog)$/;

/** The first function, table or schema in a parsed statement that belongs to DuckDB's introspection. */
function systemNameIn(node: unknown): string | null {
  if (Array.isArray(node)) {
    for (const child of node) {
      const found = systemNameIn(child);
      if (found) return found;
    }
    return null;
  }
  if (node === null || typeof node !== "object") return null;
  const n = node as Record<string, unknown>;
  for (const key of ["function_name", "table_name"]) {
    const name = typeof n[key] === "string" ? (n[key] as string).toLowerCase() : "";
    if (SYSTEM_NAME.test(name)) return name;
  }
  const schema = typeof n.schema_name === "string" ? n.schema_name.toLowerCase() : "";
  if (SYSTEM_SCHEMA.test(schema)) return schema;
  return systemNameIn(Object.values(n));
}

/**
 * Step 3, before anything is bound: DuckDB's parser serialises SELECT statements only, so a statement
 * that writes (INSERT, CREATE, COPY, ATTACH, SET, INSTALL …) is refused by name, whatever it refers to.
 * The parsed SELECT is then searched for DuckDB's introspection, refused by name too.
 */
async function assertOneSelect(con: DuckDBConnection, sql: string): Promise<void> {
  const reader = await con.runAndReadAll(`SELECT json_serialize_sql(${sqlString(sql)})`);
  const parsed = JSON.parse(String(reader.getRows()[0]![0])) as {
    error?: boolean;
    error_type?: string;
    error_message?: string;
    statements?: unknown[];
  };
  if (parsed.error && parsed.error_type === "parser") {
    throw new InvalidInputError(`query ${quoted(sql)} failed: Parser Error: ${parsed.error_message}`);
  }
  if (parsed.error) {
    const statements = (await con.extractStatements(sql)).count;
    if (statements > 1) {
      throw new InvalidInputError(`query ${quoted(sql)}: expected one SELECT statement, found ${statements}`);
    }
    const kind = /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? "this statement";
    throw new InvalidInputError(`query ${quoted(sql)} is refused: only SELECT is allowed (read-only), not ${kind}`);
  }
  const count = parsed.statements?.length ?? 0;
  if (count !== 1) {
    throw new InvalidInputError(`query ${quoted(sql)}: expected one SELECT statement, found ${count}`);
  }
  const system = systemNameIn(parsed.statements);
  if (system) {
    throw new InvalidInputError(
      `query ${quoted(sql)} is refused: ${system} is DuckDB's own catalog or settings; a query may read only this version's views`,
    );
  }
}

/** Steps 1 and 2: the views, then the box closed around them. */
async function prepareSandbox(con: DuckDBConnection, files: QueryFile[]): Promise<QueryResult["views"]> {
  const taken = new Set<string>();
  const views: QueryResult["views"] = [];
  for (const file of files) {
    const name = viewNameOf(file.path, taken);
    await con.run(`CREATE VIEW ${sqlIdentifier(name)} AS SELECT * FROM ${readerSql(file)}`);
    views.push({ name, file: file.path });
  }
  const all = views.map((v) => `SELECT * FROM ${sqlIdentifier(v.name)}`).join(" UNION ALL BY NAME ");
  await con.run(`CREATE VIEW dataset AS ${all}`);
  views.unshift({ name: "dataset", file: null });
  const paths = files.map((f) => sqlString(f.local)).join(", ");
  for (const setting of [
    "SET allowed_directories = []",
    `SET allowed_paths = [${paths}]`,
    "SET enable_external_access = false",
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    `SET memory_limit = '${QUERY_MEMORY_LIMIT}'`,
    "SET lock_configuration = true",
  ]) {
    await con.run(setting);
  }
  return views;
}

/** Run one read-only SELECT over the files; see the module comment for the order of things. */
export async function queryFiles(files: QueryFile[], sql: string, options: QueryOptions = {}): Promise<QueryResult> {
  if (files.length === 0)
    throw new InvalidInputError("there are no tabular files (CSV, TSV, JSON Lines, Parquet) to query");
  const requested = options.limit ?? DEFAULT_QUERY_ROWS;
  if (!Number.isInteger(requested) || requested < 1) {
    throw new InvalidInputError(`limit: expected a whole number of rows ≥ 1, got ${requested}`);
  }
  const limit = Math.min(requested, MAX_QUERY_ROWS);
  if (sql.trim() === "") throw new InvalidInputError("query: the SQL is empty");
  const engine = await openColumnarEngine();
  const timer = setTimeout(() => engine.connection.interrupt(), options.timeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS);
  try {
    const con = engine.connection;
    const views = await prepareSandbox(con, files).catch((error: unknown) => {
      const reason = queryError("", error, files).message.replace(/^query "" failed: /, "");
      throw new InvalidInputError(`the version's files cannot be read as tables: ${reason}`);
    });
    await assertOneSelect(con, sql);
    const statement = await con.prepare(sql).catch((e: unknown) => {
      throw queryError(sql, e, files);
    });
    // Twice checked: DuckDB's parser said SELECT, and so does the bound statement.
    const { StatementType } = await loadDuckDB();
    if (statement.statementType !== StatementType.SELECT) {
      const kind = StatementType[statement.statementType] ?? `statement type ${statement.statementType}`;
      throw new InvalidInputError(`query ${quoted(sql)} is refused: only SELECT is allowed (read-only), not ${kind}`);
    }
    const result = await statement.stream().catch((e: unknown) => {
      throw queryError(sql, e, files);
    });
    const columns = result.columnNames().map((name, i) => ({ name, type: result.columnType(i).toString() }));
    const rows: unknown[][] = [];
    let truncated = false;
    try {
      for await (const batch of result.yieldRowsJson()) {
        for (const row of batch) {
          if (rows.length === limit) {
            truncated = true;
            break;
          }
          rows.push(row);
        }
        if (truncated) break;
      }
    } catch (e) {
      throw queryError(sql, e, files);
    }
    return { views, columns, rows, truncated, limit };
  } finally {
    clearTimeout(timer);
    engine.close();
  }
}
