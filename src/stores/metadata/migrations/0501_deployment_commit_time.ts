/**
 * A deployment record keeps when its commit was made (committer date, ms), where DORA's change lead
 * time starts: CI sends it with `tandem deployments record`. Nullable: existing records, and model
 * deployments (whose commit time is read through the version's lineage), have none.
 */
import type { TandemMigration } from "../migration-kit.js";

export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema.alterTable("deployments").addColumn("commit_at", t.bigint).execute();
  },
};
