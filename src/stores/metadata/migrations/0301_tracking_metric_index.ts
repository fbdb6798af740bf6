/**
 * Lets a search ordered by a metric it also filters on read that metric's rows in value order and
 * stop after one page (see drivingMetric in tracking-search-sql.ts).
 */
import type { TandemMigration } from "../migration-kit.js";

export const migration: TandemMigration = {
  async up(db) {
    await db.schema
      .createIndex("tracking_latest_metrics_value")
      .on("tracking_latest_metrics")
      .columns(["key", "is_nan", "value"])
      .execute();
  },
};
