import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  sql,
} from "kysely";
import { describe, expect, it } from "vitest";
import { definedColumns, StatementShapes } from "./statement-shapes.js";

// Compile-only Kysely instances: the oracle is Kysely's own compile of the same statement with its values.
const dialects = {
  sqlite: new Kysely<Record<string, Record<string, unknown>>>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  }),
  postgres: new Kysely<Record<string, Record<string, unknown>>>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  }),
};

/** Rows of varied columns and values: nulls, numbers, JSON text, quotes, text that looks like SQL or a placeholder. */
function rows(seed: number): Array<Record<string, unknown>> {
  const values: unknown[] = [
    null,
    0,
    -1.5,
    2 ** 53 - 1,
    "",
    "it's",
    '{"a":[1,2]}',
    "?",
    "$1",
    "\u0000tandem-slot-0\u0000x",
    "ünïcode ✓",
    undefined,
  ];
  const columns = ["status", "pid", "host", "error", "command", "outputs", "finished_at", "attempt"];
  const out: Array<Record<string, unknown>> = [];
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31);
  for (let n = 0; n < 60; n++) {
    const row: Record<string, unknown> = {};
    for (const c of columns) if (next() % 3) row[c] = values[next() % values.length];
    out.push(row);
  }
  return out;
}

describe("statement shapes", () => {
  for (const [name, db] of Object.entries(dialects)) {
    it(`an update compiles as Kysely compiles it with its values (${name})`, () => {
      const shapes = new StatementShapes();
      for (const row of rows(7)) {
        const { columns, values } = definedColumns(row);
        if (columns.length === 0) continue;
        const id = `step-${columns.length}`;
        const shaped = shapes.compiled(`u ${columns.join(",")}`, [...values, id], (slots) =>
          db
            .updateTable("t")
            .set(Object.fromEntries(columns.map((c, i) => [c, slots[i]])))
            .where("id", "=", slots[columns.length]!),
        );
        const direct = db.updateTable("t").set(row).where("id", "=", id).compile();
        expect(shaped.sql).toBe(direct.sql);
        expect(shaped.parameters).toEqual(direct.parameters);
      }
    });

    it(`a multi-row insert with an upsert and constants compiles as Kysely's (${name})`, () => {
      const shapes = new StatementShapes();
      for (let count = 1; count <= 4; count++) {
        for (const seed of [1, 2, 3]) {
          const tags = Array.from({ length: count }, (_, i) => [`k${i}`, `v${seed}-${i}'`] as const);
          const shaped = shapes.compiled(
            `tags ${count}`,
            tags.flatMap(([k, v]) => ["run", k, v]),
            (slots) =>
              db
                .insertInto("tags")
                .values(tags.map((_, r) => ({ run_id: slots[r * 3], key: slots[r * 3 + 1], value: slots[r * 3 + 2] })))
                .onConflict((oc) => oc.columns(["run_id", "key"]).doUpdateSet({ value: sql.ref("excluded.value") }))
                .returning("key"),
          );
          const direct = db
            .insertInto("tags")
            .values(tags.map(([key, value]) => ({ run_id: "run", key, value })))
            .onConflict((oc) => oc.columns(["run_id", "key"]).doUpdateSet({ value: sql.ref("excluded.value") }))
            .returning("key")
            .compile();
          expect(shaped.sql).toBe(direct.sql);
          expect(shaped.parameters).toEqual(direct.parameters);
        }
      }
      // A constant the builder adds (LIMIT 1) stays in the parameters.
      const newest = shapes.compiled("newest", [], () =>
        db.selectFrom("e").select("hash").orderBy("seq", "desc").limit(1),
      );
      const direct = db.selectFrom("e").select("hash").orderBy("seq", "desc").limit(1).compile();
      expect(newest.sql).toBe(direct.sql);
      expect(newest.parameters).toEqual(direct.parameters);
    });

    it(`refuses a shape whose builder leaves a value out of the parameters (${name})`, () => {
      const shapes = new StatementShapes();
      expect(() => shapes.compiled("ignores its value", ["x"], () => db.selectFrom("t").selectAll())).toThrow(
        /not every value became a parameter/,
      );
    });
  }

  it("definedColumns leaves out undefined values, as Kysely's set() does, and keeps null", () => {
    expect(definedColumns({ a: 1, b: undefined, c: null })).toEqual({ columns: ["a", "c"], values: [1, null] });
  });
});
