import type { TandemMigration } from "../migration-kit.js";

/** The model registry: models, immutable versions, aliases with history, evaluations, policies, approvals, decisions. */
export const migration: TandemMigration = {
  async up(db, dialect, t) {
    await db.schema
      .createTable("registry_models")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("name", t.id, (c) => c.notNull())
      .addColumn("description", t.text, (c) => c.notNull().defaultTo(""))
      .addColumn("owner", t.text, (c) => c.notNull())
      .addColumn("tags", t.json, (c) => c.notNull())
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .addColumn("updated_at", t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint("registry_models_pk", ["project", "name"])
      .execute();
    await db.schema
      .createTable("registry_versions")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("model_name", t.id, (c) => c.notNull())
      .addColumn("version", t.integer, (c) => c.notNull())
      .addColumn("description", t.text, (c) => c.notNull())
      .addColumn("intended_use", t.text, (c) => c.notNull())
      .addColumn("artifact_format", t.text, (c) => c.notNull())
      .addColumn("artifact_storage", t.text, (c) => c.notNull())
      .addColumn("artifact_sha256", t.text, (c) => c.notNull())
      .addColumn("artifact_size", t.bigint, (c) => c.notNull())
      .addColumn("artifact_file", t.text)
      .addColumn("signature", t.json, (c) => c.notNull())
      .addColumn("source_run_id", t.text)
      .addColumn("author", t.text, (c) => c.notNull())
      .addColumn("tags", t.json, (c) => c.notNull())
      .addColumn("stage", t.text, (c) => c.notNull())
      .addColumn("lineage", t.json, (c) => c.notNull())
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .addColumn("updated_at", t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint("registry_versions_pk", ["project", "model_name", "version"])
      .execute();
    await db.schema
      .createIndex("registry_versions_run")
      .on("registry_versions")
      .columns(["project", "source_run_id"])
      .execute();
    await db.schema
      .createTable("registry_version_datasets")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("dataset_ref", t.text, (c) => c.notNull())
      .addColumn("model_name", t.id, (c) => c.notNull())
      .addColumn("version", t.integer, (c) => c.notNull())
      .addPrimaryKeyConstraint("registry_version_datasets_pk", ["project", "dataset_ref", "model_name", "version"])
      .execute();
    await db.schema
      .createTable("registry_aliases")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("model_name", t.id, (c) => c.notNull())
      .addColumn("alias", t.text, (c) => c.notNull())
      .addColumn("version", t.integer, (c) => c.notNull())
      .addColumn("updated_at", t.bigint, (c) => c.notNull())
      .addColumn("updated_by", t.text, (c) => c.notNull())
      .addPrimaryKeyConstraint("registry_aliases_pk", ["project", "model_name", "alias"])
      .execute();
    await db.schema
      .createTable("registry_alias_events")
      .addColumn("seq", t.serial, (c) => (dialect === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey()))
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("model_name", t.id, (c) => c.notNull())
      .addColumn("alias", t.text, (c) => c.notNull())
      .addColumn("action", t.text, (c) => c.notNull())
      .addColumn("from_version", t.integer)
      .addColumn("to_version", t.integer)
      .addColumn("actor", t.text, (c) => c.notNull())
      .addColumn("at", t.bigint, (c) => c.notNull())
      .addColumn("decision_id", t.text)
      .execute();
    await db.schema
      .createIndex("registry_alias_events_model")
      .on("registry_alias_events")
      .columns(["project", "model_name", "alias", "seq"])
      .execute();
    await db.schema
      .createTable("registry_evaluations")
      .addColumn("id", t.id, (c) => c.primaryKey())
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("model_name", t.id, (c) => c.notNull())
      .addColumn("version", t.integer, (c) => c.notNull())
      .addColumn("dataset", t.text, (c) => c.notNull())
      .addColumn("metrics", t.json, (c) => c.notNull())
      .addColumn("fairness", t.json, (c) => c.notNull())
      .addColumn("run_id", t.text)
      .addColumn("created_by", t.text, (c) => c.notNull())
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("registry_evaluations_version")
      .on("registry_evaluations")
      .columns(["project", "model_name", "version"])
      .execute();
    await db.schema
      .createTable("registry_approvals")
      .addColumn("id", t.id, (c) => c.primaryKey())
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("model_name", t.id, (c) => c.notNull())
      .addColumn("version", t.integer, (c) => c.notNull())
      .addColumn("user_name", t.text, (c) => c.notNull())
      .addColumn("role", t.text, (c) => c.notNull())
      .addColumn("decision", t.text, (c) => c.notNull())
      .addColumn("comment", t.text, (c) => c.notNull())
      .addColumn("at", t.bigint, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("registry_approvals_version")
      .on("registry_approvals")
      .columns(["project", "model_name", "version"])
      .execute();
    await db.schema
      .createTable("registry_requests")
      .addColumn("id", t.id, (c) => c.primaryKey())
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("model_name", t.id, (c) => c.notNull())
      .addColumn("version", t.integer, (c) => c.notNull())
      .addColumn("target_kind", t.text, (c) => c.notNull())
      .addColumn("target_name", t.text, (c) => c.notNull())
      .addColumn("policy", t.text)
      .addColumn("status", t.text, (c) => c.notNull())
      .addColumn("requested_by", t.text, (c) => c.notNull())
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .addColumn("decided_at", t.bigint)
      .addColumn("decision_id", t.text)
      .execute();
    await db.schema
      .createIndex("registry_requests_version")
      .on("registry_requests")
      .columns(["project", "model_name", "version"])
      .execute();
    await db.schema
      .createTable("registry_decisions")
      .addColumn("id", t.id, (c) => c.primaryKey())
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("model_name", t.id, (c) => c.notNull())
      .addColumn("version", t.integer, (c) => c.notNull())
      .addColumn("request_id", t.text)
      .addColumn("target_kind", t.text, (c) => c.notNull())
      .addColumn("target_name", t.text, (c) => c.notNull())
      .addColumn("verdict", t.text, (c) => c.notNull())
      .addColumn("checks", t.json, (c) => c.notNull())
      .addColumn("evaluated_by", t.text, (c) => c.notNull())
      .addColumn("at", t.bigint, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("registry_decisions_version")
      .on("registry_decisions")
      .columns(["project", "model_name", "version"])
      .execute();
    await db.schema
      .createTable("registry_policies")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("name", t.text, (c) => c.notNull())
      .addColumn("spec", t.json, (c) => c.notNull())
      .addColumn("position", t.integer, (c) => c.notNull())
      .addColumn("updated_by", t.text, (c) => c.notNull())
      .addColumn("updated_at", t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint("registry_policies_pk", ["project", "name"])
      .execute();
  },
};
