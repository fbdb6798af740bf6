/**
 * Dataset profiles through DuckDB (issue 18): the file is read and grouped in SQL, and Tandem's own
 * accumulator builds the profile from what SQL hands back, so the profile is the row-wise one to the
 * bit (profile-file.test.ts compares the two on generated files):
 *  - the row-wise reader profiles chunks of rows (65 536 CSV rows, or one Parquet row group); the
 *    sketches and the moments depend on where chunks end, so the SQL groups by the same chunks;
 *  - within a chunk, the accumulator takes each distinct string once, in the order it first occurs
 *    (the mean and variance are merged in that order), so the SQL hands back each chunk's distinct
 *    values with their counts ordered by their first row. CSV texts that are numbers (classifyString's
 *    expressions) cross as doubles, the rest as text that classifyString types in TypeScript;
 *  - Parquet numbers, dates and booleans cross in file order, a row group at a time, as the row-wise
 *    reader hands them over; strings as distinct values per row group, as for CSV.
 * Returns null where only the row-wise reader reads the file as Tandem means (JSON Lines, unusual CSV
 * headers, Parquet types outside the list below); the caller then profiles it row by row, and any
 * error names the file, row and line as the readers do.
 */
import type { DuckDBConnection, DuckDBVector } from "@duckdb/node-api";
import { ColumnAccumulator } from "../profile/accumulator.js";
import { tableProfileOf } from "../profile/builder.js";
import type { TableProfile, ValueKind } from "../profile/model.js";
import { FLOAT_RE2, INTEGER_RE2 } from "../profile/values.js";
import { DEFAULT_CHUNK_ROWS, profileFile, type OpenTableOptions } from "../readers/index.js";
import type { TabularFormat } from "../readers/types.js";
import { forEachChunk, openColumnarEngine, sqlIdentifier as id, sqlString } from "./engine.js";
import { DistinctNumberTexts } from "./distinct-numbers.js";
import { tableSource, withLoadedTable } from "./sources.js";
import { rawItems, typedItems } from "./read-columns.js";
import { missingSql } from "./text-sql.js";

/**
 * Profiles a tabular file through DuckDB where it can, else row by row: the profile is the same either
 * way. `options.label` names the file in errors.
 */
export async function profileTabularFile(
  path: string,
  options: OpenTableOptions & { format: TabularFormat },
): Promise<TableProfile> {
  const columnar = await profileColumnar(path, options.format, options.label ?? path).catch(() => null);
  return columnar ?? profileFile(path, options);
}

/** The profile through DuckDB, or null where the row-wise reader must read the file. */
export async function profileColumnar(path: string, format: TabularFormat, label = path): Promise<TableProfile | null> {
  if (format === "parquet") return profileParquet(path, label);
  const source = await tableSource(path, format);
  if (!source) return null;
  return withLoadedTable(source, async (con, described, rows) => {
    const names = described.map((c) => c.name);
    const columns = names.map((name) => new ColumnAccumulator(name, { text: true }));
    const chunks = chunkBoundaries(rows, DEFAULT_CHUNK_ROWS);
    const numeric = await allNumberColumns(con, names);
    await addNumberColumns(
      con,
      columns.filter((_, i) => numeric[i]),
      chunks,
    );
    for (const [i, acc] of columns.entries())
      if (!numeric[i]) await addDistinctChunks(con, acc, csvDistinctSql(acc.name), chunks);
    return tableProfileOf(rows, columns);
  });
}

/** A text that is a number classifyString reads, and that DuckDB reads to a finite double. */
const isFiniteNumber = (c: string): string =>
  `(regexp_full_match(${c}, '${FLOAT_RE2}') AND isfinite(TRY_CAST(${c} AS DOUBLE)))`;

/**
 * Which columns hold only numbers besides missing values (as scan-table.ts: the CASE tests for null
 * tokens only where the number test fails, so an all-number column costs one expression per value).
 */
async function allNumberColumns(con: DuckDBConnection, names: string[]): Promise<boolean[]> {
  if (names.length === 0) return [];
  const others = names.map((name) => {
    const c = id(name);
    return `count(*) FILTER (CASE WHEN ${isFiniteNumber(c)} THEN false ELSE NOT ${missingSql(c, true)} END)`;
  });
  const row = (await con.runAndReadAll(`SELECT ${others.join(", ")} FROM t`)).getRows()[0]!;
  return row.map((n) => Number(n) === 0);
}

/**
 * All-number columns in file order: each row as its double (NaN where missing), whether its text is
 * an integer (a number text without '.', 'e' or 'E' is INTEGER_RE2's) and its text's hash, from which
 * DistinctNumberTexts finds each chunk's distinct texts.
 */
async function addNumberColumns(con: DuckDBConnection, columns: ColumnAccumulator[], chunks: number[]): Promise<void> {
  if (columns.length === 0) return;
  // The check above leaves each value either missing (NULL, or a null token: TRY_CAST gives NULL or
  // NaN) or a finite number text, so the cast needs no expression here.
  const select = columns.flatMap((acc) => {
    const c = id(acc.name);
    return [
      `coalesce(TRY_CAST(${c} AS DOUBLE), 'NaN'::DOUBLE)`,
      `coalesce(NOT (contains(${c}, '.') OR contains(${c}, 'e') OR contains(${c}, 'E')), false)::INTEGER`,
      `coalesce(hash(${c}), 0::UBIGINT)`,
    ];
  });
  const distinct = columns.map(() => new DistinctNumberTexts(DEFAULT_CHUNK_ROWS));
  let chunk = 0;
  let filled = 0;
  const flush = (): void => {
    while (chunk < chunks.length && filled === chunks[chunk]) {
      columns.forEach((acc, i) => {
        acc.addDistinct(distinct[i]!.chunk(filled));
        distinct[i]!.reset();
      });
      chunk++;
      filled = 0;
    }
  };
  await forEachChunk(await con.run(`SELECT ${select.join(", ")} FROM t`), (vectors, n) => {
    for (let at = 0; at < n;) {
      const take = Math.min(n - at, chunks[chunk]! - filled);
      columns.forEach((_, i) => {
        const values = typedItems(vectors[3 * i]!, n, Float64Array);
        const integers = typedItems(vectors[3 * i + 1]!, n, Int32Array);
        const hashes = hashHalves(vectors[3 * i + 2]!, n);
        const d = distinct[i]!;
        for (let k = at; k < at + take; k++) {
          const v = values[k]!;
          if (v === v) d.add(v, integers[k]!, hashes[2 * k]!, hashes[2 * k + 1]!);
        }
      });
      filled += take;
      at += take;
      flush();
    }
  });
}

/** Each chunk's distinct texts of column `name` with their counts, numbers as doubles, by first row. */
function csvDistinctSql(name: string): string {
  const c = id(name);
  // A text is sent as a double only where the cast is finite: DuckDB and JavaScript both round a
  // decimal text to the nearest double, and anything else (1e400) is left to classifyString.
  return `
    WITH g AS (
      SELECT rowid // ${DEFAULT_CHUNK_ROWS} AS chunk, ${c} AS v, count(*) AS n, min(rowid) AS first
      FROM t WHERE ${c} IS NOT NULL GROUP BY chunk, v
    ), typed AS (
      SELECT chunk, v, n, first,
        CASE WHEN regexp_full_match(v, '${FLOAT_RE2}') THEN TRY_CAST(v AS DOUBLE) END AS num
      FROM g
    )
    SELECT chunk::INTEGER, n::DOUBLE,
      CASE WHEN isfinite(num) THEN NULL ELSE v END,
      CASE WHEN isfinite(num) THEN num ELSE 0 END::DOUBLE,
      (isfinite(num) AND regexp_full_match(v, '${INTEGER_RE2}'))::INTEGER
    FROM typed ORDER BY first`;
}

/** Row counts of the chunks the row-wise reader would hand over. */
function chunkBoundaries(rows: number, chunkRows: number): number[] {
  const out: number[] = [];
  for (let at = 0; at < rows; at += chunkRows) out.push(Math.min(chunkRows, rows - at));
  return out;
}

/**
 * Streams `sql`'s rows (chunk, count, text, number, integer), ordered by first occurrence, into `acc`
 * one chunk at a time; chunks with no values (all missing) are added where they fall.
 */
async function addDistinctChunks(
  con: DuckDBConnection,
  acc: ColumnAccumulator,
  sql: string,
  chunks: number[],
): Promise<void> {
  let current = 0;
  let counts: number[] = [];
  let texts: Array<string | null> = [];
  let numbers: number[] = [];
  let integers: number[] = [];
  const flushTo = (chunk: number): void => {
    for (; current < chunk; current++) {
      acc.addDistinct({ rows: chunks[current]!, size: counts.length, counts, texts, numbers, integers });
      counts = [];
      texts = [];
      numbers = [];
      integers = [];
    }
  };
  await forEachChunk(await con.run(sql), (v, n) => {
    const chunkIds = typedItems(v[0]!, n, Int32Array);
    const ns = typedItems(v[1]!, n, Float64Array);
    const nums = typedItems(v[3]!, n, Float64Array);
    const isInt = typedItems(v[4]!, n, Int32Array);
    for (let i = 0; i < n; i++) {
      flushTo(chunkIds[i]!);
      counts.push(ns[i]!);
      texts.push(v[2]!.getItem(i) as string | null);
      numbers.push(nums[i]!);
      integers.push(isInt[i]!);
    }
  });
  flushTo(chunks.length);
}

/** A UBIGINT vector's values as 32-bit halves (low, high on this little-endian machine), without BigInts. */
function hashHalves(vector: DuckDBVector, n: number): Uint32Array {
  const items = rawItems(vector);
  if (items instanceof BigUint64Array && items.length >= n)
    return new Uint32Array(items.buffer, items.byteOffset, 2 * n);
  return new Uint32Array(BigUint64Array.from({ length: n }, (_, i) => vector.getItem(i) as bigint).buffer);
}

/** How a Parquet column crosses: as numbers, booleans or distinct strings; undefined: not here. */
type ParquetRead = { read: "numbers"; sql: string } | { read: "bools" } | { read: "strings" };

/**
 * The Parquet columns DuckDB reads to the same values as the row-wise reader (hyparquet), by DuckDB
 * type and the kind hyparquet declares: integers and floats as doubles, dates and timestamps as ms
 * since the epoch truncated toward zero (hyparquet divides bigints), UTF-8 strings. Decimals, INT96,
 * nanosecond and zoned times, binary, nested and other types are the row-wise reader's.
 */
function parquetRead(
  name: string,
  duckType: string,
  declared: ValueKind | undefined,
  annotated: boolean,
): ParquetRead | undefined {
  const c = id(name);
  const number = (expr: string): ParquetRead => ({
    read: "numbers",
    sql: `coalesce(CASE WHEN isfinite(${expr}) THEN ${expr} END, 'NaN'::DOUBLE)`,
  });
  if (duckType === "BOOLEAN") return declared === "bool" ? { read: "bools" } : undefined;
  if (/^U?(TINYINT|SMALLINT|INTEGER|BIGINT)$/.test(duckType))
    return declared === "integer" ? number(`${c}::DOUBLE`) : undefined;
  if (duckType === "FLOAT" || duckType === "DOUBLE") return declared === "float" ? number(`${c}::DOUBLE`) : undefined;
  if (duckType === "DATE" || duckType === "TIMESTAMP" || duckType === "TIMESTAMP_MS" || duckType === "TIMESTAMP_S")
    return declared === "datetime" ? number(`(epoch_us(${c}::TIMESTAMP) // 1000)::DOUBLE`) : undefined;
  if (duckType === "VARCHAR") return declared === undefined && annotated ? { read: "strings" } : undefined;
  return undefined;
}

async function profileParquet(path: string, label: string): Promise<TableProfile | null> {
  // hyparquet's footer read gives the kinds the row-wise profile declares, and checks the file as it does.
  const reader = await (await import("../readers/parquet.js")).openParquet(path, label);
  const engine = await openColumnarEngine();
  try {
    const con = engine.connection;
    const file = sqlString(path);
    const described = (await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${file})`)).getRows();
    const schema = (
      await con.runAndReadAll(
        `SELECT name, type, converted_type FROM parquet_schema(${file}) WHERE num_children IS NULL OR num_children = 0`,
      )
    ).getRows();
    const physical = new Map(schema.map((r) => [String(r[0]), { type: String(r[1]), utf8: r[2] === "UTF8" }]));
    const groups = (
      await con.runAndReadAll(
        `SELECT row_group_id, any_value(row_group_num_rows) FROM parquet_metadata(${file}) GROUP BY 1 ORDER BY 1`,
      )
    ).getRows();
    const groupRows = groups.map((g) => Number(g[1]));
    const plans: Array<{ name: string; plan: ParquetRead; acc: ColumnAccumulator }> = [];
    for (const [nameValue, typeValue] of described) {
      const name = String(nameValue);
      const p = physical.get(name);
      if (!p || p.type === "INT96") return null;
      const plan = parquetRead(name, String(typeValue), reader.declared[name], p.utf8);
      if (!plan) return null;
      plans.push({ name, plan, acc: new ColumnAccumulator(name, { declared: reader.declared[name], text: false }) });
    }
    if (new Set(plans.map((p) => p.name)).size !== plans.length) return null;
    await addRowGroups(
      con,
      file,
      plans.filter((p) => p.plan.read !== "strings"),
      groupRows,
    );
    const groupOf = groupCase(groupRows);
    for (const p of plans) {
      if (p.plan.read !== "strings") continue;
      const c = id(p.name);
      // No number crosses here: every value is text for classifyString (ISO dates become datetimes).
      const sql = `
        SELECT g::INTEGER, count(*)::DOUBLE, v, 0::DOUBLE, 0::INTEGER FROM (
          SELECT ${groupOf} AS g, file_row_number AS r, ${c} AS v
          FROM read_parquet(${file}, file_row_number=true) WHERE ${c} IS NOT NULL
        ) GROUP BY g, v ORDER BY min(r)`;
      await addDistinctChunks(con, p.acc, sql, groupRows);
    }
    return tableProfileOf(
      groupRows.reduce((a, b) => a + b, 0),
      plans.map((p) => p.acc),
    );
  } finally {
    engine.close();
  }
}

/** A SQL expression of `file_row_number` giving its row group's index. */
function groupCase(groupRows: number[]): string {
  if (groupRows.length <= 1) return "0";
  let end = 0;
  const whens = groupRows.slice(0, -1).map((rows, i) => `WHEN file_row_number < ${(end += rows)} THEN ${i}`);
  return `CASE ${whens.join(" ")} ELSE ${groupRows.length - 1} END`;
}

/** Numbers and booleans in file order, one row group per `add`, as hyparquet hands them over. */
async function addRowGroups(
  con: DuckDBConnection,
  file: string,
  plans: Array<{ name: string; plan: ParquetRead; acc: ColumnAccumulator }>,
  groupRows: number[],
): Promise<void> {
  if (plans.length === 0) return;
  const select = plans.map((p) => (p.plan.read === "numbers" ? p.plan.sql : id(p.name)));
  let group = 0;
  let filled = 0;
  const fresh = (): Array<Float64Array | Array<boolean | null>> =>
    plans.map((p) =>
      p.plan.read === "numbers"
        ? new Float64Array(groupRows[group] ?? 0)
        : new Array<boolean | null>(groupRows[group] ?? 0),
    );
  let buffers = fresh();
  const flush = (): void => {
    for (;;) {
      if (group >= groupRows.length || filled < groupRows[group]!) return;
      plans.forEach((p, i) => p.acc.add(buffers[i]!));
      group++;
      filled = 0;
      buffers = fresh();
    }
  };
  flush(); // row groups of no rows
  await forEachChunk(await con.run(`SELECT ${select.join(", ")} FROM read_parquet(${file})`), (vectors, n) => {
    for (let at = 0; at < n;) {
      const take = Math.min(n - at, groupRows[group]! - filled);
      plans.forEach((p, i) => {
        const out = buffers[i]!;
        const v = vectors[i]!;
        if (out instanceof Float64Array) {
          const items = rawItems(v);
          if (items instanceof Float64Array && items.length >= at + take)
            out.set(items.subarray(at, at + take), filled);
          else for (let k = 0; k < take; k++) out[filled + k] = v.getItem(at + k) as number;
        } else for (let k = 0; k < take; k++) out[filled + k] = v.getItem(at + k) as boolean | null;
      });
      filled += take;
      at += take;
      flush();
    }
  });
}
