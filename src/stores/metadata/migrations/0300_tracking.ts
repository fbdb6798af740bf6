/**
 * Tracking: experiments, runs, params, metrics (full series + latest point per key for fast search),
 * tags, dataset inputs and the per-project artifact path → blob index.
 */
import type { TandemMigration } from "../migration-kit.js";

export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema
      .createTable("tracking_experiments")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("experiment_id", t.id, (c) => c.notNull())
      // The numeric value of the id, so the next id is max + 1 without casting text on each dialect.
      .addColumn("seq", t.bigint, (c) => c.notNull())
      .addColumn("name", t.text, (c) => c.notNull())
      .addColumn("artifact_location", t.text, (c) => c.notNull())
      .addColumn("lifecycle_stage", t.text, (c) => c.notNull())
      .addColumn("creation_time", t.bigint, (c) => c.notNull())
      .addColumn("last_update_time", t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint("tracking_experiments_pk", ["project", "experiment_id"])
      .addUniqueConstraint("tracking_experiments_name", ["project", "name"])
      .execute();
    await db.schema
      .createTable("tracking_experiment_tags")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("experiment_id", t.id, (c) => c.notNull())
      .addColumn("key", t.text, (c) => c.notNull())
      .addColumn("value", t.text, (c) => c.notNull())
      .addPrimaryKeyConstraint("tracking_experiment_tags_pk", ["project", "experiment_id", "key"])
      .execute();
    await db.schema
      .createTable("tracking_runs")
      .addColumn("run_id", t.id, (c) => c.primaryKey())
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("experiment_id", t.id, (c) => c.notNull())
      .addColumn("run_name", t.text, (c) => c.notNull())
      .addColumn("user_id", t.text, (c) => c.notNull())
      .addColumn("status", t.text, (c) => c.notNull())
      .addColumn("start_time", t.bigint, (c) => c.notNull())
      .addColumn("end_time", t.bigint)
      .addColumn("lifecycle_stage", t.text, (c) => c.notNull())
      .addColumn("artifact_uri", t.text, (c) => c.notNull())
      .addColumn("parent_run_id", t.id)
      .addColumn("deleted_time", t.bigint)
      .execute();
    await db.schema
      .createIndex("tracking_runs_search")
      .on("tracking_runs")
      .columns(["project", "experiment_id", "lifecycle_stage", "start_time"])
      .execute();
    await db.schema.createIndex("tracking_runs_parent").on("tracking_runs").column("parent_run_id").execute();
    await db.schema
      .createIndex("tracking_runs_deleted")
      .on("tracking_runs")
      .columns(["lifecycle_stage", "deleted_time"])
      .execute();
    for (const table of ["tracking_params", "tracking_tags"]) {
      await db.schema
        .createTable(table)
        .addColumn("run_id", t.id, (c) => c.notNull())
        .addColumn("key", t.text, (c) => c.notNull())
        .addColumn("value", t.text, (c) => c.notNull())
        .addPrimaryKeyConstraint(`${table}_pk`, ["run_id", "key"])
        .execute();
    }
    // Points are appended without a primary key: one index serves get-history and keeps log-batch fast.
    // NaN is stored as value NULL + is_nan 1 (SQLite has no NaN; Postgres would sort it above +inf).
    await db.schema
      .createTable("tracking_metrics")
      .addColumn("run_id", t.id, (c) => c.notNull())
      .addColumn("key", t.text, (c) => c.notNull())
      .addColumn("value", t.float)
      .addColumn("is_nan", t.bool, (c) => c.notNull())
      .addColumn("step", t.bigint, (c) => c.notNull())
      .addColumn("timestamp", t.bigint, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("tracking_metrics_history")
      .on("tracking_metrics")
      .columns(["run_id", "key", "step"])
      .execute();
    await db.schema
      .createTable("tracking_latest_metrics")
      .addColumn("run_id", t.id, (c) => c.notNull())
      .addColumn("key", t.text, (c) => c.notNull())
      .addColumn("value", t.float)
      .addColumn("is_nan", t.bool, (c) => c.notNull())
      .addColumn("step", t.bigint, (c) => c.notNull())
      .addColumn("timestamp", t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint("tracking_latest_metrics_pk", ["run_id", "key"])
      .execute();
    await db.schema
      .createTable("tracking_inputs")
      .addColumn("run_id", t.id, (c) => c.notNull())
      .addColumn("name", t.text, (c) => c.notNull())
      .addColumn("digest", t.text, (c) => c.notNull())
      .addColumn("payload", t.json, (c) => c.notNull())
      .addPrimaryKeyConstraint("tracking_inputs_pk", ["run_id", "name", "digest"])
      .execute();
    await db.schema
      .createTable("tracking_artifacts")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("path", t.text, (c) => c.notNull())
      .addColumn("sha256", t.text, (c) => c.notNull())
      .addColumn("size", t.bigint, (c) => c.notNull())
      .addColumn("run_id", t.id)
      .addColumn("updated_at", t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint("tracking_artifacts_pk", ["project", "path"])
      .execute();
    await db.schema.createIndex("tracking_artifacts_run").on("tracking_artifacts").column("run_id").execute();
    await db.schema.createIndex("tracking_artifacts_sha").on("tracking_artifacts").column("sha256").execute();
  },
};
