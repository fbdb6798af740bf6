/**
 * A CSV file into typed columns (scan-table.ts) without loading every column into a table first.
 * Loading bench/drift's 1 M × 25 CSV into a DuckDB table cost ~4.2 s of CPU, of which parsing was ~1 s
 * (load 10–13): storing 25 M texts, not reading them, was the cost. So numbers are read straight from
 * the file:
 *  1. the records of the file's first 64 KiB (TableSource.sample) pick the candidates: number
 *     columns, whose sampled texts are all numbers or missing, and label columns, of at most
 *     SAMPLED_LABELS_MAX distinct sampled texts (the sample only chooses the path; every value is
 *     still checked below);
 *  2. one pass over the file returns each number candidate's values as doubles, exactly as the table
 *     read gives them (`coalesce(TRY_CAST(c AS DOUBLE), 'NaN')`), and NULL where a present text is
 *     not a number by classifyString's expression; and each label candidate's values as codes of an
 *     ENUM of its sampled texts, NULL where a present text is not one of them. A NULL anywhere drops
 *     the column to step 3. A label column is then planned from its texts and their counts exactly
 *     as plan-columns.ts plans one from the table's GROUP BY (planFromGroups), so its values are the
 *     table read's;
 *  3. the other columns are loaded into the table `t` and planned and read as before
 *     (plan-columns.ts, read-columns.ts).
 * An all-number column is float when one of its texts has '.', 'e' or 'E': a finite non-integer double
 * says so, and only integer-valued columns of at most 10 distinct values (where integer and float give
 * different types) ask the file.
 */
import type { DuckDBConnection, DuckDBVector } from "@duckdb/node-api";
import { CATEGORICAL_INTEGER_MAX_DISTINCT, type ColumnKind, type ColumnType } from "../profile/model.js";
import { classifyString, FLOAT_RE2 } from "../profile/values.js";
import { forEachChunk, openColumnarEngine, sqlIdentifier as id } from "./engine.js";
import { planFromGroups, planTextColumns } from "./plan-columns.js";
import { numbersColumn, readColumns, typedItems, type ScannedTable } from "./read-columns.js";
import type { TableSource } from "./sources.js";
import { anyInvalid, CodeBuffer, NumberBuffer } from "./number-buffer.js";
import { missingSql, sqlList } from "./text-sql.js";

/**
 * A column the sample saw at most this many distinct texts in is read as codes in step 2. A column
 * with a text the sample missed falls back to step 3 having cost one ENUM lookup per value (~0.1 s
 * per 1 M values, far less than the table load step 3 pays for it).
 */
const SAMPLED_LABELS_MAX = 256;

/** The CSV `source` read into columns typed by Tandem's rules (see the module comment). */
export async function scanCsvSource(source: TableSource, options: { threads?: number }): Promise<ScannedTable> {
  const engine = await openColumnarEngine(options);
  try {
    const con = engine.connection;
    const names = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${source.sql}`))
      .getRowObjects()
      .map((r) => String(r.column_name));
    const candidates = numberCandidates(names, source.sample ?? []);
    const labels = labelCandidates(names, source.sample ?? [], new Set(candidates));
    const numbers = await readSampledColumns(con, source.sql, candidates, labels, source.estimatedRows ?? 0);
    const others = names.filter((name) => !numbers.values.has(name) && !numbers.labels.has(name));
    let rows = numbers.rows;
    let rest: ScannedTable | undefined;
    if (others.length > 0) {
      await con.run(`CREATE TEMP TABLE t AS SELECT ${others.map(id).join(", ")} FROM ${source.sql}`);
      if (candidates.length === 0 && labels.size === 0)
        rows = Number((await con.runAndReadAll("SELECT count(*) FROM t")).getRows()[0]![0]);
      // Columns the sample saw a non-number in skip planTextColumns' count of non-numbers (a regular
      // expression on every value: ~0.4 s of CPU per 1 M × 5 label columns). That set only picks
      // the path: planning from distinct texts or kind counts types every column exactly.
      const seenNonNumber = others.filter((name) => !candidates.includes(name));
      const plans = await planTextColumns(con, others, true, new Set([...numbers.failed, ...seenNonNumber]));
      const byName = new Map(plans.map((p) => [p.name, p]));
      rest = await readColumns(
        con,
        others.map((name) => byName.get(name)!),
        rows,
        true,
      );
    }
    const kinds = await numberKinds(con, source.sql, numbers.values);
    // Keyed by the header's names: no prototype, so `__proto__` is a column like any other.
    const table = Object.create(null) as Record<string, ArrayLike<unknown>>;
    const types = Object.create(null) as Record<string, ColumnType>;
    for (const name of names) {
      const values = numbers.values.get(name);
      const column = values ? numbersColumn(kinds.get(name)!, values) : numbers.labels.get(name);
      table[name] = column ? column.values : rest!.table[name]!;
      types[name] = column ? column.type : rest!.types[name]!;
    }
    return { table, types, rows };
  } finally {
    engine.close();
  }
}

/** Columns whose sampled texts (TableSource.sample) are all numbers or missing. */
function numberCandidates(names: string[], sample: string[][]): string[] {
  return names.filter((_, i) =>
    sample.every((row) => {
      const v = row[i];
      if (v === undefined) return true;
      const kind = classifyString(v, true).kind;
      return kind === "missing" || kind === "integer" || kind === "float";
    }),
  );
}

/** Columns the sample did not pick as numbers whose sampled texts are few: each one's distinct texts. */
function labelCandidates(names: string[], sample: string[][], numbers: ReadonlySet<string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [i, name] of names.entries()) {
    if (numbers.has(name)) continue;
    const texts = new Set<string>();
    for (const row of sample) {
      const v = row[i];
      if (v !== undefined) texts.add(v);
      if (texts.size > SAMPLED_LABELS_MAX) break;
    }
    if (texts.size > 0 && texts.size <= SAMPLED_LABELS_MAX) out.set(name, [...texts]);
  }
  return out;
}

interface SampledColumns {
  /** The all-number columns' values in file order, NaN where missing. */
  values: Map<string, Float64Array>;
  /** Number candidates with a present text that is not a number. */
  failed: Set<string>;
  /** Label candidates whose texts were all sampled, typed and valued as the table read gives them. */
  labels: Map<string, { values: unknown[]; type: ColumnType }>;
  rows: number;
}

/** Step 2: every candidate's values, or its failure, in one pass over the file. */
async function readSampledColumns(
  con: DuckDBConnection,
  from: string,
  names: string[],
  labels: Map<string, string[]>,
  estimatedRows: number,
): Promise<SampledColumns> {
  const out: SampledColumns = { values: new Map(), failed: new Set(), labels: new Map(), rows: 0 };
  if (names.length === 0 && labels.size === 0) return out;
  const select = names.map((name) => {
    const c = id(name);
    // A number's value is the table read's expression (read-columns.ts), so values are the same; the
    // null tokens, tested only where the number expression fails, are NaN there too ("NaN" casts to
    // NaN, the others to NULL). Written as one OR, this pass cost ~15% more CPU (1.76 vs 1.51 s on
    // 300 000 rows × 20 columns, one thread, load 14). A first-character test cannot stand in for the
    // regular expression before TRY_CAST: DuckDB's cast also reads '+-1', '1_000', '-inf', '-nan(1)'
    // and trailing whitespace ('1 ', '1\t', '1\r'), which classifyString reads as text. An exact cheap
    // test (a digit or '.' first, or '-' and one of them; no '_'; no whitespace suffix) with the
    // expression only where the cast fails took this pass on bench/drift's 1 M × 20 number columns
    // from 2.86 to 2.79 s of CPU (medians of 6 alternated rounds, one thread, load 12): not kept.
    return `CASE WHEN regexp_full_match(${c}, '${FLOAT_RE2}') THEN coalesce(TRY_CAST(${c} AS DOUBLE), 'NaN'::DOUBLE) WHEN ${missingSql(c, true)} THEN 'NaN'::DOUBLE END`;
  });
  const labelNames = [...labels.keys()];
  for (const [j, name] of labelNames.entries()) {
    const type = id(`sampled_${j}`);
    await con.run(`CREATE TYPE ${type} AS ENUM (${sqlList(labels.get(name)!)})`);
    // -1 where DuckDB reads no text (an empty field), NULL where a text is not one the sample saw.
    const c = id(name);
    select.push(`CASE WHEN ${c} IS NULL THEN -1 ELSE enum_code(TRY_CAST(${c} AS ${type}))::INTEGER END`);
  }
  const columns: Array<NumberBuffer | null> = names.map(() => new NumberBuffer(estimatedRows));
  const codes: Array<CodeBuffer | null> = labelNames.map(() => new CodeBuffer(estimatedRows));
  await forEachChunk(await con.stream(`SELECT ${select.join(", ")} FROM ${from}`), (vectors, n) => {
    takeChunk(columns, vectors, 0, n, Float64Array);
    takeChunk(codes, vectors, names.length, n, Int32Array);
    out.rows += n;
  });
  for (const [i, name] of names.entries()) {
    const column = columns[i];
    if (column) out.values.set(name, column.finish());
    else out.failed.add(name);
  }
  for (const [j, name] of labelNames.entries()) {
    const column = codes[j] && labelColumn(name, labels.get(name)!, codes[j].finish());
    if (column) out.labels.set(name, column);
  }
  return out;
}

/**
 * A label column from its codes into `texts` (-1: no text): planned from the texts that occur and
 * their counts as plan-columns.ts plans a table column from its GROUP BY, and valued as read-columns.ts
 * reads a dictionary column. Undefined where that plan is not a dictionary (the table path reads it).
 */
function labelColumn(
  name: string,
  texts: string[],
  codes: Int32Array,
): { values: unknown[]; type: ColumnType } | undefined {
  const counts = new Float64Array(texts.length);
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i]!;
    if (code >= 0) counts[code]!++;
  }
  const groups: Array<[string, number]> = [];
  texts.forEach((text, code) => {
    if (counts[code]! > 0) groups.push([text, counts[code]!]);
  });
  const plan = planFromGroups(name, groups, true);
  if (plan.read !== "dictionary") return undefined;
  const valueOf = new Map(plan.dictionary!.map((text, k) => [text, plan.values![k]]));
  // Texts classified as missing (null tokens) are in no dictionary: null, as the table read gives.
  const byCode = texts.map((text) => (valueOf.has(text) ? valueOf.get(text) : null));
  const values = new Array<unknown>(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i]!;
    values[i] = code < 0 ? null : byCode[code];
  }
  return { values, type: plan.type! };
}

/** Whether any of a vector's first `n` values is NULL, from its validity bits where they can be seen. */
/**
 * One chunk's vectors (from `first` on) into their buffers; a column that holds a NULL leaves the
 * pass (its buffer becomes null: the caller reads it the old way).
 */
function takeChunk<T extends Float64Array | Int32Array>(
  buffers: Array<{ push(values: T, n: number): void } | null>,
  vectors: readonly DuckDBVector[],
  first: number,
  n: number,
  kind: { new (length: number): T },
): void {
  for (let i = 0; i < buffers.length; i++) {
    const buffer = buffers[i];
    if (!buffer) continue;
    const vector = vectors[first + i]!;
    if (hasNull(vector, n)) buffers[i] = null;
    else buffer.push(typedItems(vector, n, kind), n);
  }
}

function hasNull(vector: DuckDBVector, n: number): boolean {
  const validity = (vector as unknown as { validity?: { data?: BigUint64Array | null } }).validity;
  if (validity && "data" in validity) return anyInvalid(validity.data ?? null, n);
  for (let k = 0; k < n; k++) if (vector.getItem(k) === null) return true;
  return false;
}

/**
 * The kind of each all-number column, as plan-columns.ts's numbersKind finds it from the texts. Only
 * where integer and float give different types does it matter: an integer-valued column with at most
 * CATEGORICAL_INTEGER_MAX_DISTINCT values (or with ±inf, which "1e999" and a 400-digit integer both
 * give) asks the file, all such columns in one pass.
 */
async function numberKinds(
  con: DuckDBConnection,
  from: string,
  columns: Map<string, Float64Array>,
): Promise<Map<string, ColumnKind>> {
  const kinds = new Map<string, ColumnKind>();
  const unsure: string[] = [];
  for (const [name, values] of columns) {
    const kind = kindFromValues(values);
    if (kind) kinds.set(name, kind);
    else unsure.push(name);
  }
  if (unsure.length === 0) return kinds;
  const floats = unsure.map((name) => {
    const c = id(name);
    return `count(*) FILTER (NOT ${missingSql(c, true)} AND (contains(${c}, '.') OR contains(${c}, 'e') OR contains(${c}, 'E')))`;
  });
  const row = (await con.runAndReadAll(`SELECT ${floats.join(", ")} FROM ${from}`)).getRows()[0]!;
  unsure.forEach((name, i) => kinds.set(name, Number(row[i]) > 0 ? "float" : "integer"));
  return kinds;
}

/**
 * A column's kind from its doubles where they settle it, else undefined. A finite non-integer comes
 * only from a text with '.', 'e' or 'E' (float); with nothing present the kind is not used
 * (numbersColumn types the column "null"); with more than CATEGORICAL_INTEGER_MAX_DISTINCT distinct
 * values integer and float are both "numeric" and the values are the same.
 */
function kindFromValues(values: Float64Array): ColumnKind | undefined {
  const distinct = new Set<number>();
  let present = false;
  let infinite = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    present = true;
    if (!Number.isFinite(v)) infinite = true;
    else if (!Number.isInteger(v)) return "float";
    else if (distinct.size <= CATEGORICAL_INTEGER_MAX_DISTINCT) distinct.add(v);
  }
  if (!present) return "null";
  if (infinite) return undefined;
  return distinct.size > CATEGORICAL_INTEGER_MAX_DISTINCT ? "integer" : undefined;
}
