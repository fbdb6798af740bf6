import type { TandemMigration } from "../migration-kit.js";

/**
 * LLMs and agents: prompts (versions, aliases and their history, evaluations that judged a version,
 * approvals), OTLP trace spans per project, project LLM settings (price table, trace retention), and
 * the LLM configuration of an endpoint (a column on serving's endpoint table, so an LLM endpoint goes
 * through the same controller, canary and rollback as a model endpoint).
 */
export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema
      .createTable("prompts")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("name", t.id, (c) => c.notNull())
      .addColumn("description", t.text, (c) => c.notNull())
      .addColumn("created_by", t.text, (c) => c.notNull())
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .addColumn("updated_at", t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint("prompts_pk", ["project", "name"])
      .execute();
    await db.schema
      .createTable("prompt_versions")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("name", t.id, (c) => c.notNull())
      .addColumn("version", t.integer, (c) => c.notNull())
      .addColumn("messages", t.json, (c) => c.notNull())
      .addColumn("params", t.json, (c) => c.notNull())
      .addColumn("variables", t.json, (c) => c.notNull())
      .addColumn("sha256", t.text, (c) => c.notNull())
      .addColumn("description", t.text, (c) => c.notNull())
      .addColumn("author", t.text, (c) => c.notNull())
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint("prompt_versions_pk", ["project", "name", "version"])
      .execute();
    await db.schema
      .createIndex("prompt_versions_sha")
      .on("prompt_versions")
      .columns(["project", "name", "sha256"])
      .execute();
    await db.schema
      .createTable("prompt_aliases")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("name", t.id, (c) => c.notNull())
      .addColumn("alias", t.id, (c) => c.notNull())
      .addColumn("version", t.integer, (c) => c.notNull())
      .addColumn("updated_by", t.text, (c) => c.notNull())
      .addColumn("updated_at", t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint("prompt_aliases_pk", ["project", "name", "alias"])
      .execute();
    await db.schema
      .createTable("prompt_alias_events")
      .addColumn("seq", t.serial, (c) => c.primaryKey())
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("name", t.id, (c) => c.notNull())
      .addColumn("alias", t.id, (c) => c.notNull())
      .addColumn("action", t.text, (c) => c.notNull())
      .addColumn("from_version", t.integer)
      .addColumn("to_version", t.integer)
      .addColumn("actor", t.text, (c) => c.notNull())
      .addColumn("reason", t.text, (c) => c.notNull())
      .addColumn("decision", t.json)
      .addColumn("at", t.bigint, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("prompt_alias_events_prompt")
      .on("prompt_alias_events")
      .columns(["project", "name", "seq"])
      .execute();
    await db.schema
      .createTable("prompt_evaluations")
      .addColumn("id", t.id, (c) => c.primaryKey())
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("name", t.id, (c) => c.notNull())
      .addColumn("version", t.integer, (c) => c.notNull())
      .addColumn("run_id", t.text)
      .addColumn("dataset", t.text, (c) => c.notNull())
      .addColumn("metrics", t.json, (c) => c.notNull())
      .addColumn("created_by", t.text, (c) => c.notNull())
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("prompt_evaluations_version")
      .on("prompt_evaluations")
      .columns(["project", "name", "version", "created_at"])
      .execute();
    await db.schema
      .createTable("prompt_approvals")
      .addColumn("id", t.id, (c) => c.primaryKey())
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("name", t.id, (c) => c.notNull())
      .addColumn("version", t.integer, (c) => c.notNull())
      .addColumn("user_name", t.text, (c) => c.notNull())
      .addColumn("role", t.text, (c) => c.notNull())
      .addColumn("decision", t.text, (c) => c.notNull())
      .addColumn("comment", t.text, (c) => c.notNull())
      .addColumn("at", t.bigint, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("prompt_approvals_version")
      .on("prompt_approvals")
      .columns(["project", "name", "version"])
      .execute();
    await db.schema
      .createTable("trace_spans")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("trace_id", t.id, (c) => c.notNull())
      .addColumn("span_id", t.id, (c) => c.notNull())
      .addColumn("parent_span_id", t.id)
      .addColumn("name", t.text, (c) => c.notNull())
      .addColumn("kind", t.text, (c) => c.notNull())
      .addColumn("service", t.text)
      .addColumn("start_ns", t.text, (c) => c.notNull())
      .addColumn("end_ns", t.text, (c) => c.notNull())
      .addColumn("start_ms", t.float, (c) => c.notNull())
      .addColumn("duration_ms", t.float, (c) => c.notNull())
      .addColumn("status", t.text, (c) => c.notNull())
      .addColumn("status_message", t.text)
      .addColumn("model", t.text)
      .addColumn("operation", t.text)
      .addColumn("input_tokens", t.integer)
      .addColumn("output_tokens", t.integer)
      .addColumn("cost", t.float)
      .addColumn("prediction_id", t.text)
      .addColumn("attributes", t.json, (c) => c.notNull())
      .addColumn("resource", t.json, (c) => c.notNull())
      .addColumn("events", t.json, (c) => c.notNull())
      .addColumn("ingested_at", t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint("trace_spans_pk", ["project", "trace_id", "span_id"])
      .execute();
    // Lists walk a project's newest spans; retention deletes by time.
    await db.schema.createIndex("trace_spans_start").on("trace_spans").columns(["project", "start_ms"]).execute();
    await db.schema.createIndex("trace_spans_ingested").on("trace_spans").columns(["ingested_at"]).execute();
    await db.schema
      .createTable("llm_settings")
      .addColumn("project", t.id, (c) => c.primaryKey())
      .addColumn("prices", t.json, (c) => c.notNull())
      .addColumn("trace_retention_days", t.integer)
      .addColumn("updated_at", t.bigint, (c) => c.notNull())
      .execute();
    await db.schema.alterTable("serving_endpoints").addColumn("llm", t.json).execute();
  },
};
