import type { TandemMigration } from "../migration-kit.js";

/** Alerts (deduplicated by fingerprint), webhook receivers, and the delivery outbox. */
export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema
      .createTable("alerts")
      .addColumn("id", t.id, (c) => c.primaryKey())
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("name", t.text, (c) => c.notNull())
      .addColumn("fingerprint", t.text, (c) => c.notNull())
      .addColumn("status", t.text, (c) => c.notNull())
      .addColumn("severity", t.text, (c) => c.notNull())
      .addColumn("source", t.text, (c) => c.notNull())
      .addColumn("labels", t.json, (c) => c.notNull())
      .addColumn("annotations", t.json, (c) => c.notNull())
      .addColumn("evidence", t.json, (c) => c.notNull())
      .addColumn("starts_at", t.bigint, (c) => c.notNull())
      .addColumn("ends_at", t.bigint)
      .addColumn("updated_at", t.bigint, (c) => c.notNull())
      .addColumn("fire_count", t.integer, (c) => c.notNull())
      .addColumn("acked_by", t.text)
      .addColumn("acked_at", t.bigint)
      .addColumn("ack_comment", t.text)
      .addColumn("triggered_at", t.bigint)
      .execute();
    await db.schema.createIndex("alerts_open").on("alerts").columns(["project", "fingerprint", "status"]).execute();
    await db.schema.createIndex("alerts_project_time").on("alerts").columns(["project", "starts_at"]).execute();
    await db.schema
      .createTable("alert_receivers")
      .addColumn("id", t.id, (c) => c.primaryKey())
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("url", t.text, (c) => c.notNull())
      .addColumn("token", t.text)
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("alert_deliveries")
      .addColumn("id", t.id, (c) => c.primaryKey())
      .addColumn("alert_id", t.id, (c) => c.notNull())
      .addColumn("receiver_id", t.id, (c) => c.notNull())
      .addColumn("alert_status", t.text, (c) => c.notNull())
      .addColumn("status", t.text, (c) => c.notNull())
      .addColumn("attempts", t.integer, (c) => c.notNull())
      .addColumn("next_attempt_at", t.bigint, (c) => c.notNull())
      .addColumn("last_error", t.text)
      .addColumn("delivered_at", t.bigint)
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("alert_deliveries_due")
      .on("alert_deliveries")
      .columns(["status", "next_attempt_at"])
      .execute();
  },
};
