import type { TandemMigration } from "../migration-kit.js";

/**
 * Each monitor result keeps the profile of the traffic it read (a blob), covering
 * [profile_start, window_end), so long windows merge stored profiles instead of rereading rows.
 */
export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema.alterTable("monitor_results").addColumn("profile_sha", t.text).execute();
    await db.schema.alterTable("monitor_results").addColumn("profile_start", t.bigint).execute();
  },
};
