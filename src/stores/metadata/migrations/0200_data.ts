/**
 * Data: datasets, their versions (a manifest + a profile each), tags, the durable event feed the
 * `data` trigger polls, per-blob profile cache and stored validation reports.
 */
import type { TandemMigration } from "../migration-kit.js";

export const migration: TandemMigration = {
  async up(db, dialect, t) {
    await db.schema
      .createTable("datasets")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("name", t.id, (c) => c.notNull())
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .addColumn("created_by", t.text, (c) => c.notNull())
      .addPrimaryKeyConstraint("datasets_pk", ["project", "name"])
      .execute();
    await db.schema
      .createTable("dataset_versions")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("name", t.id, (c) => c.notNull())
      .addColumn("version", t.integer, (c) => c.notNull())
      .addColumn("manifest_sha", t.text, (c) => c.notNull())
      .addColumn("kind", t.text, (c) => c.notNull())
      .addColumn("file_count", t.integer, (c) => c.notNull())
      .addColumn("total_bytes", t.bigint, (c) => c.notNull())
      .addColumn("profile_sha", t.text)
      .addColumn("message", t.text)
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .addColumn("created_by", t.text, (c) => c.notNull())
      .addPrimaryKeyConstraint("dataset_versions_pk", ["project", "name", "version"])
      .execute();
    await db.schema
      .createIndex("dataset_versions_manifest")
      .on("dataset_versions")
      .columns(["project", "name", "manifest_sha"])
      .execute();
    await db.schema
      .createTable("dataset_tags")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("name", t.id, (c) => c.notNull())
      .addColumn("label", t.text, (c) => c.notNull())
      .addColumn("version", t.integer, (c) => c.notNull())
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .addColumn("created_by", t.text, (c) => c.notNull())
      .addPrimaryKeyConstraint("dataset_tags_pk", ["project", "name", "label"])
      .execute();
    await db.schema
      .createTable("dataset_events")
      .addColumn("seq", t.serial, (c) => (dialect === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey()))
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("name", t.id, (c) => c.notNull())
      .addColumn("version", t.integer, (c) => c.notNull())
      .addColumn("kind", t.text, (c) => c.notNull())
      .addColumn("at", t.bigint, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("dataset_file_profiles")
      .addColumn("blob_sha", t.id, (c) => c.primaryKey())
      .addColumn("profile_sha", t.text, (c) => c.notNull())
      .addColumn("format", t.text, (c) => c.notNull())
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("dataset_validations")
      .addColumn("id", t.id, (c) => c.primaryKey())
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("name", t.id, (c) => c.notNull())
      .addColumn("version", t.integer, (c) => c.notNull())
      .addColumn("ok", t.bool, (c) => c.notNull())
      .addColumn("report", t.json, (c) => c.notNull())
      .addColumn("run_id", t.text)
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .addColumn("created_by", t.text, (c) => c.notNull())
      .execute();
    // How far each consumer of the event feed has read (the pipelines' `data` trigger), so a
    // restarted or second server continues where the last one stopped instead of replaying history.
    await db.schema
      .createTable("dataset_event_cursors")
      .addColumn("consumer", t.id, (c) => c.primaryKey())
      .addColumn("seq", t.bigint, (c) => c.notNull())
      .addColumn("updated_at", t.bigint, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("dataset_validations_version")
      .on("dataset_validations")
      .columns(["project", "name", "version"])
      .execute();
  },
};
