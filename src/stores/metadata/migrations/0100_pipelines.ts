/**
 * Pipelines: stored spec versions, runs and step runs (with leases), step logs, the step cache,
 * encrypted secrets and trigger bookkeeping (events seen, schedule/poll state).
 */
import type { TandemMigration } from "../migration-kit.js";

export const migration: TandemMigration = {
  async up(db, dialect, t) {
    await db.schema
      .createTable("pipeline_specs")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("version", t.integer, (c) => c.notNull())
      .addColumn("digest", t.text, (c) => c.notNull())
      .addColumn("source", t.text, (c) => c.notNull())
      .addColumn("file", t.text, (c) => c.notNull())
      .addColumn("workspace", t.text)
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .addColumn("created_by", t.text, (c) => c.notNull())
      .addPrimaryKeyConstraint("pipeline_specs_pk", ["project", "version"])
      .execute();
    await db.schema
      .createTable("pipeline_runs")
      .addColumn("id", t.id, (c) => c.primaryKey())
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("pipeline", t.text, (c) => c.notNull())
      .addColumn("spec_version", t.integer, (c) => c.notNull())
      .addColumn("status", t.text, (c) => c.notNull())
      .addColumn("params", t.json, (c) => c.notNull())
      .addColumn("trigger", t.json, (c) => c.notNull())
      .addColumn("no_cache", t.bool, (c) => c.notNull())
      .addColumn("concurrency", t.integer, (c) => c.notNull())
      .addColumn("workspace", t.text)
      .addColumn("env_digest", t.text)
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .addColumn("created_by", t.text, (c) => c.notNull())
      .addColumn("started_at", t.bigint)
      .addColumn("finished_at", t.bigint)
      .addColumn("error", t.text)
      .addColumn("cancel_requested", t.bool, (c) => c.notNull())
      .addColumn("lease_owner", t.text)
      .addColumn("lease_expires_at", t.bigint)
      .addColumn("tracking_run_id", t.id)
      .execute();
    await db.schema.createIndex("pipeline_runs_list").on("pipeline_runs").columns(["project", "created_at"]).execute();
    await db.schema
      .createIndex("pipeline_runs_active")
      .on("pipeline_runs")
      .columns(["status", "lease_expires_at"])
      .execute();
    await db.schema
      .createTable("pipeline_step_runs")
      .addColumn("id", t.id, (c) => c.primaryKey())
      .addColumn("run_id", t.id, (c) => c.notNull())
      .addColumn("seq", t.integer, (c) => c.notNull())
      .addColumn("name", t.text, (c) => c.notNull())
      .addColumn("step", t.text, (c) => c.notNull())
      .addColumn("matrix", t.json)
      .addColumn("needs", t.json, (c) => c.notNull())
      .addColumn("status", t.text, (c) => c.notNull())
      .addColumn("cached", t.bool, (c) => c.notNull())
      .addColumn("cache_key", t.text)
      .addColumn("attempt", t.integer, (c) => c.notNull())
      .addColumn("started_at", t.bigint)
      .addColumn("finished_at", t.bigint)
      .addColumn("exit_code", t.integer)
      .addColumn("error", t.text)
      .addColumn("command", t.text)
      .addColumn("inputs", t.json, (c) => c.notNull())
      .addColumn("outputs", t.json, (c) => c.notNull())
      .addColumn("metrics", t.json, (c) => c.notNull())
      .addColumn("lease_owner", t.text)
      .addColumn("lease_expires_at", t.bigint)
      .addColumn("pid", t.integer)
      .addColumn("host", t.text)
      .addColumn("tracking_run_id", t.id)
      .execute();
    await db.schema.createIndex("pipeline_step_runs_run").on("pipeline_step_runs").columns(["run_id", "seq"]).execute();
    await db.schema
      .createTable("pipeline_logs")
      .addColumn("seq", t.serial, (c) => (dialect === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey()))
      .addColumn("run_id", t.id, (c) => c.notNull())
      .addColumn("step_id", t.id, (c) => c.notNull())
      .addColumn("stream", t.text, (c) => c.notNull())
      .addColumn("text", t.text, (c) => c.notNull())
      .addColumn("at", t.bigint, (c) => c.notNull())
      .execute();
    await db.schema.createIndex("pipeline_logs_run").on("pipeline_logs").columns(["run_id", "seq"]).execute();
    await db.schema
      .createTable("pipeline_cache")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("cache_key", t.text, (c) => c.notNull())
      .addColumn("outputs", t.json, (c) => c.notNull())
      .addColumn("metrics", t.json, (c) => c.notNull())
      .addColumn("step_run_id", t.id, (c) => c.notNull())
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint("pipeline_cache_pk", ["project", "cache_key"])
      .execute();
    await db.schema
      .createTable("pipeline_secrets")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("name", t.text, (c) => c.notNull())
      .addColumn("sealed", t.text, (c) => c.notNull())
      .addColumn("updated_at", t.bigint, (c) => c.notNull())
      .addColumn("updated_by", t.text, (c) => c.notNull())
      .addPrimaryKeyConstraint("pipeline_secrets_pk", ["project", "name"])
      .execute();
    await db.schema
      .createTable("pipeline_trigger_events")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("event_key", t.text, (c) => c.notNull())
      .addColumn("run_id", t.id)
      .addColumn("at", t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint("pipeline_trigger_events_pk", ["project", "event_key"])
      .execute();
    await db.schema
      .createTable("pipeline_trigger_state")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("state_key", t.text, (c) => c.notNull())
      .addColumn("value", t.text, (c) => c.notNull())
      .addColumn("updated_at", t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint("pipeline_trigger_state_pk", ["project", "state_key"])
      .execute();
  },
};
