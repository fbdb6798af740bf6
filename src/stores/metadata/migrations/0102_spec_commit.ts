/**
 * A spec version read from a commit (a push, a polled ref, `tandem run --at`) names that commit. It
 * is kept for the runs of that commit only: the project's applied spec — whose triggers fire and
 * whose applier is behind its schedules — stays the latest one without a commit. Existing versions
 * were all applied: null.
 */
import type { TandemMigration } from "../migration-kit.js";

export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema.alterTable("pipeline_specs").addColumn("commit_sha", t.text).execute();
  },
};
