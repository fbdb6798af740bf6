import type { TandemMigration } from "../migration-kit.js";

/**
 * Serving: endpoints (with an optimistic-concurrency revision), the change counter every serving
 * process polls, deployment records, serving events (alerts), the prediction log, per-flush latency
 * and error aggregates for SLO checks, and feedback.
 */
export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema
      .createTable("serving_endpoints")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("name", t.id, (c) => c.notNull())
      .addColumn("model", t.text, (c) => c.notNull())
      .addColumn("primary_selector", t.json, (c) => c.notNull())
      .addColumn("canary", t.json)
      .addColumn("shadow_selector", t.json)
      .addColumn("slo", t.json, (c) => c.notNull())
      .addColumn("policy", t.text)
      .addColumn("primary_version", t.integer)
      .addColumn("canary_version", t.integer)
      .addColumn("shadow_version", t.integer)
      .addColumn("rollout", t.json)
      .addColumn("canary_state", t.json)
      .addColumn("blocked_canary_version", t.integer)
      .addColumn("status", t.text, (c) => c.notNull())
      .addColumn("revision", t.integer, (c) => c.notNull())
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .addColumn("updated_at", t.bigint, (c) => c.notNull())
      .addColumn("created_by", t.text, (c) => c.notNull())
      .addPrimaryKeyConstraint("serving_endpoints_pk", ["project", "name"])
      .execute();
    await db.schema
      .createTable("serving_counters")
      .addColumn("name", t.id, (c) => c.primaryKey())
      .addColumn("value", t.bigint, (c) => c.notNull())
      .execute();
    await db.insertInto("serving_counters").values({ name: "endpoints", value: 0 }).execute();
    await db.schema
      .createTable("deployments")
      .addColumn("id", t.id, (c) => c.primaryKey())
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("kind", t.text, (c) => c.notNull())
      .addColumn("target", t.text, (c) => c.notNull())
      .addColumn("model", t.text)
      .addColumn("version", t.integer)
      .addColumn("previous_version", t.integer)
      .addColumn("commit_sha", t.text)
      .addColumn("environment", t.text)
      .addColumn("reason", t.text, (c) => c.notNull())
      .addColumn("actor", t.text, (c) => c.notNull())
      .addColumn("outcome", t.text, (c) => c.notNull())
      .addColumn("started_at", t.bigint, (c) => c.notNull())
      .addColumn("finished_at", t.bigint)
      .addColumn("details", t.json, (c) => c.notNull())
      .execute();
    await db.schema.createIndex("deployments_project").on("deployments").columns(["project", "started_at"]).execute();
    await db.schema
      .createTable("serving_events")
      .addColumn("id", t.id, (c) => c.primaryKey())
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("endpoint", t.text, (c) => c.notNull())
      .addColumn("at", t.bigint, (c) => c.notNull())
      .addColumn("kind", t.text, (c) => c.notNull())
      .addColumn("severity", t.text, (c) => c.notNull())
      .addColumn("message", t.text, (c) => c.notNull())
      .addColumn("deployment_id", t.text)
      .addColumn("details", t.json, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("serving_events_endpoint")
      .on("serving_events")
      .columns(["project", "endpoint", "at"])
      .execute();
    await db.schema
      .createTable("predictions")
      .addColumn("id", t.id, (c) => c.primaryKey())
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("endpoint", t.text, (c) => c.notNull())
      .addColumn("model", t.text, (c) => c.notNull())
      .addColumn("version", t.integer, (c) => c.notNull())
      .addColumn("slot", t.text, (c) => c.notNull())
      .addColumn("request_id", t.text, (c) => c.notNull())
      .addColumn("at", t.bigint, (c) => c.notNull())
      .addColumn("latency_ms", t.float, (c) => c.notNull())
      .addColumn("features", t.json, (c) => c.notNull())
      .addColumn("output", t.json)
      .addColumn("error", t.text)
      .execute();
    // Monitoring scans one endpoint's window in time order; retention deletes by time.
    await db.schema
      .createIndex("predictions_endpoint_at")
      .on("predictions")
      .columns(["project", "endpoint", "at"])
      .execute();
    await db.schema.createIndex("predictions_at").on("predictions").columns(["at"]).execute();
    await db.schema
      .createTable("prediction_stats")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("endpoint", t.text, (c) => c.notNull())
      .addColumn("slot", t.text, (c) => c.notNull())
      .addColumn("version", t.integer, (c) => c.notNull())
      .addColumn("at", t.bigint, (c) => c.notNull())
      .addColumn("requests", t.integer, (c) => c.notNull())
      .addColumn("errors", t.integer, (c) => c.notNull())
      .addColumn("latency_hist", t.json, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("prediction_stats_endpoint_at")
      .on("prediction_stats")
      .columns(["project", "endpoint", "at"])
      .execute();
    await db.schema
      .createTable("prediction_feedback")
      .addColumn("prediction_id", t.id, (c) => c.primaryKey())
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("endpoint", t.text, (c) => c.notNull())
      .addColumn("label", t.json, (c) => c.notNull())
      .addColumn("at", t.bigint, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("prediction_feedback_endpoint")
      .on("prediction_feedback")
      .columns(["project", "endpoint", "at"])
      .execute();
  },
};
