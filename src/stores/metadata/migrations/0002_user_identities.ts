/**
 * Who a git pusher is: `github:octocat` → user `alice`. Only site admins map identities (a mapping
 * decides whose work a pushed commit is, and so who may not approve it); an unmapped pusher is nobody.
 * And which pipeline run a token belongs to (`run_id`), so what a step does through the API is
 * attributed to the person behind its run, never to `system` alone.
 */
import type { TandemMigration } from "../migration-kit.js";

export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema
      .createTable("user_identities")
      .addColumn("identity", t.text, (c) => c.primaryKey())
      .addColumn("user_name", t.id, (c) => c.notNull())
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .addColumn("created_by", t.text, (c) => c.notNull())
      .execute();
    await db.schema.createIndex("user_identities_user").on("user_identities").columns(["user_name"]).execute();
    await db.schema.alterTable("api_tokens").addColumn("run_id", t.id).execute();
  },
};
