import type { TandemMigration } from "../migration-kit.js";

/**
 * A monitor result says when its window held more rows than the monitor reads (`max_rows`) and the
 * checks ran on a uniform sample: `{"rows": N, "of": M}` as JSON (null: every row was read).
 */
export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema.alterTable("monitor_results").addColumn("sampled", t.json).execute();
  },
};
