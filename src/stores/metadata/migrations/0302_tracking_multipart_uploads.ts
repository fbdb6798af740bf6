/**
 * MLflow's proxied multipart uploads kept in the store, not in one server's memory, so that behind
 * several servers `mpu/create` on one and the part PUTs and `mpu/complete` on another work. A part's
 * row is inserted once, when its URL is first used: the primary key is what makes a URL single-use
 * across servers.
 */
import type { TandemMigration } from "../migration-kit.js";

export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema
      .createTable("tracking_multipart_uploads")
      .addColumn("id", t.id, (c) => c.primaryKey())
      .addColumn("actor", t.text, (c) => c.notNull())
      .addColumn("project", t.text, (c) => c.notNull())
      .addColumn("path", t.text, (c) => c.notNull())
      .addColumn("num_parts", t.integer, (c) => c.notNull())
      .addColumn("expires_at", t.bigint, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("tracking_multipart_parts")
      .addColumn("upload_id", t.id, (c) => c.notNull())
      .addColumn("part_number", t.integer, (c) => c.notNull())
      .addColumn("claimed_at", t.bigint, (c) => c.notNull())
      // null while the part's bytes are arriving
      .addColumn("sha256", t.text)
      .addPrimaryKeyConstraint("tracking_multipart_parts_pk", ["upload_id", "part_number"])
      .execute();
  },
};
