/**
 * Params and tags found by key and value: `params.lr = '0.01'` and `tags.team = 'vision'` are what
 * MLflow users filter on most after metrics. Without these indexes Postgres read every row of the
 * table (a parallel sequential scan, ~80 ms at 100 000 runs on a loaded 2-core machine) to find a few.
 *
 * Postgres indexes a prefix of the value, not the value: a B-tree entry must fit in a third of a page
 * (2 704 bytes) and MLflow allows 6 000-character params and 8 000-character tags. The search SQL
 * (tracking-search-sql.ts) adds the matching `left(value, 200) = left($v, 200)` next to the exact
 * comparison so the planner can use it. SQLite has no such bound and indexes the whole value.
 */
import { sql } from "kysely";
import type { TandemMigration } from "../migration-kit.js";

/** Characters of a value Postgres indexes; tracking-search-sql.ts repeats the number. */
const INDEXED_VALUE_PREFIX = 200;

export const migration: TandemMigration = {
  async up(db, dialect) {
    for (const table of ["tracking_params", "tracking_tags"]) {
      const value = dialect === "postgres" ? sql`left(value, ${sql.lit(INDEXED_VALUE_PREFIX)})` : sql.ref("value");
      await sql`create index ${sql.ref(`${table}_key_value`)} on ${sql.table(table)} (key, ${value})`.execute(db);
    }
  },
};
