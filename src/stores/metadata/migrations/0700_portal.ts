import type { TandemMigration } from "../migration-kit.js";

/** Browser sessions of the web UI: a random id (stored hashed) standing for a signed-in token. */
export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema
      .createTable("sessions")
      .addColumn("id_hash", t.id, (c) => c.primaryKey())
      .addColumn("token_id", t.id, (c) => c.notNull())
      .addColumn("user_name", t.id, (c) => c.notNull())
      .addColumn("created_at", t.bigint, (c) => c.notNull())
      .addColumn("expires_at", t.bigint, (c) => c.notNull())
      .execute();
    await db.schema.createIndex("sessions_expires_at").on("sessions").column("expires_at").execute();
  },
};
