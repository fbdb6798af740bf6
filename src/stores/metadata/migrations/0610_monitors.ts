import type { TandemMigration } from "../migration-kit.js";

/** Monitors (definitions with their schedule state) and one result per monitored window. */
export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema
      .createTable("monitors")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("name", t.id, (c) => c.notNull())
      .addColumn("definition", t.json, (c) => c.notNull())
      .addColumn("next_run_at", t.bigint)
      .addColumn("last_run_at", t.bigint)
      .addColumn("updated_at", t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint("monitors_pk", ["project", "name"])
      .execute();
    await db.schema.createIndex("monitors_due").on("monitors").columns(["next_run_at"]).execute();
    await db.schema
      .createTable("monitor_results")
      .addColumn("id", t.id, (c) => c.primaryKey())
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("monitor", t.id, (c) => c.notNull())
      .addColumn("window_start", t.bigint, (c) => c.notNull())
      .addColumn("window_end", t.bigint, (c) => c.notNull())
      .addColumn("computed_from", t.text, (c) => c.notNull())
      .addColumn("status", t.text, (c) => c.notNull())
      .addColumn("rows", t.integer, (c) => c.notNull())
      .addColumn("labelled_rows", t.integer, (c) => c.notNull())
      .addColumn("checks", t.json, (c) => c.notNull())
      .addColumn("error", t.text)
      .addColumn("alert_id", t.text)
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("monitor_results_series")
      .on("monitor_results")
      .columns(["project", "monitor", "window_end"])
      .execute();
  },
};
