import { sql } from "kysely";
import type { TandemMigration } from "../migration-kit.js";

export const migration: TandemMigration = {
  async up(db, dialect, t) {
    await db.schema
      .createTable("meta")
      .addColumn("key", t.id, (c) => c.primaryKey())
      .addColumn("value", t.text, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("projects")
      .addColumn("name", t.id, (c) => c.primaryKey())
      .addColumn("description", t.text, (c) => c.notNull().defaultTo(""))
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .addColumn("created_by", t.text, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("users")
      .addColumn("name", t.id, (c) => c.primaryKey())
      .addColumn("display_name", t.text, (c) => c.notNull().defaultTo(""))
      .addColumn("is_admin", t.bool, (c) => c.notNull().defaultTo(0))
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("project_members")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("user_name", t.id, (c) => c.notNull())
      .addColumn("role", t.text, (c) => c.notNull())
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .addPrimaryKeyConstraint("project_members_pk", ["project", "user_name"])
      .execute();
    await db.schema
      .createTable("api_tokens")
      .addColumn("id", t.id, (c) => c.primaryKey())
      .addColumn("user_name", t.id, (c) => c.notNull())
      .addColumn("name", t.text, (c) => c.notNull())
      .addColumn("token_hash", t.text, (c) => c.notNull().unique())
      .addColumn("role", t.text)
      .addColumn("project", t.text)
      .addColumn("expires_at", t.bigint)
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .addColumn("revoked_at", t.bigint)
      .execute();
    await db.schema
      .createTable("audit_events")
      .addColumn("seq", t.serial, (c) => (dialect === "sqlite" ? c.primaryKey().autoIncrement() : c.primaryKey()))
      .addColumn("id", t.id, (c) => c.notNull().unique())
      .addColumn("at", t.bigint, (c) => c.notNull())
      .addColumn("actor", t.text, (c) => c.notNull())
      .addColumn("project", t.text)
      .addColumn("action", t.text, (c) => c.notNull())
      .addColumn("target", t.text, (c) => c.notNull())
      .addColumn("summary", t.json, (c) => c.notNull())
      .addColumn("prev_hash", t.text, (c) => c.notNull())
      .addColumn("hash", t.text, (c) => c.notNull())
      .execute();
    await db.schema.createIndex("audit_events_project").on("audit_events").columns(["project", "seq"]).execute();
    await sql`select 1`.execute(db);
  },
};
