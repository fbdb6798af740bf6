/**
 * Kysely's compiled SQL, kept per statement shape. Building a query with Kysely's builder and
 * compiling it costs ~75 µs of CPU per statement, about three times what executing the compiled
 * statement costs (~27 µs through Kysely's executor to a cached better-sqlite3 statement; load 6).
 * A pipeline step writes ~13 statements (its state, its log, its tracking run, the audit event), so
 * the builder was ~1 ms of each step's CPU in the driving process.
 *
 * A shape is one statement with its values left out: a table, the columns set or inserted, the
 * number of rows. Its query is built and compiled by Kysely once, with a placeholder in each value's
 * place; later uses reuse that SQL text and put the values into the parameters. The SQL is therefore
 * Kysely's own, for either dialect, and runs through the same executor (the SQLite driver's
 * connection lock, transactions, Postgres' pool), so nothing changes but the builder's cost.
 */
import type { CompiledQuery, Compilable, Kysely } from "kysely";

/** A parameter of the compiled shape: one of the caller's values, or a constant the builder put there. */
type Parameter = { slot: number } | { constant: unknown };

interface Shape {
  compiled: CompiledQuery;
  parameters: Parameter[];
}

/** Shapes kept per cache (a store has a few dozen; the limit only guards against a runaway key). */
const SHAPE_LIMIT = 2000;

/** The placeholder of slot `i`: a string no caller's value can be (it is never sent to a database). */
const placeholder = (i: number): string => `\u0000tandem-slot-${i}\u0000`;

export class StatementShapes {
  private readonly shapes = new Map<string, Shape>();

  /**
   * The compiled statement of shape `key` with `values` as its parameters. `build` is called (once
   * per key) with one placeholder per value, in order, and must build the same statement for the
   * same key: every value it takes from outside must come from `slots`, and everything else in the
   * key. A placeholder that is not passed through as a parameter (Kysely wrote it into the SQL text
   * or changed it) is refused, so a shape can never leave a value in its SQL.
   */
  compiled<R>(key: string, values: readonly unknown[], build: (slots: string[]) => Compilable<R>): CompiledQuery<R> {
    let shape = this.shapes.get(key);
    if (!shape) {
      shape = compileShape(values.length, build);
      if (this.shapes.size >= SHAPE_LIMIT) this.shapes.clear();
      this.shapes.set(key, shape);
    }
    const parameters = shape.parameters.map((p) => ("slot" in p ? values[p.slot] : p.constant));
    return { ...shape.compiled, parameters } as CompiledQuery<R>;
  }
}

function compileShape(count: number, build: (slots: string[]) => Compilable): Shape {
  const slots = Array.from({ length: count }, (_, i) => placeholder(i));
  const compiled = build(slots).compile();
  const index = new Map(slots.map((s, i) => [s, i]));
  const seen = new Set<number>();
  const parameters = compiled.parameters.map((value): Parameter => {
    const slot = typeof value === "string" ? index.get(value) : undefined;
    if (slot === undefined) return { constant: value };
    seen.add(slot);
    return { slot };
  });
  if (seen.size !== count || compiled.sql.includes("\u0000tandem-slot-"))
    throw new Error(`statement shape: not every value became a parameter of ${compiled.sql}`);
  return { compiled, parameters };
}

/**
 * A row's columns and values, leaving out undefined ones as Kysely's set() and values() do (a
 * placeholder is never undefined, so the shape would otherwise keep a column Kysely drops).
 */
export function definedColumns(row: object): { columns: string[]; values: unknown[] } {
  const columns: string[] = [];
  const values: unknown[] = [];
  for (const [column, value] of Object.entries(row)) {
    if (value === undefined) continue;
    columns.push(column);
    values.push(value);
  }
  return { columns, values };
}

/**
 * UPDATE `table` SET the row's defined columns WHERE `idColumn` = `id`, one shape per set of
 * columns; null when the row sets nothing. The stores' run and step updates are this statement.
 */
export function updateByIdQuery(
  shapes: StatementShapes,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any store's database: the table is named by the caller
  db: Kysely<any>,
  table: string,
  idColumn: string,
  row: object,
  id: string,
): CompiledQuery | null {
  const { columns, values } = definedColumns(row);
  if (columns.length === 0) return null;
  return shapes.compiled(`update ${table} ${columns.join(",")}`, [...values, id], (slots) =>
    db
      .updateTable(table)
      .set(Object.fromEntries(columns.map((c, i) => [c, slots[i]])))
      .where(idColumn, "=", slots[columns.length]!),
  );
}
