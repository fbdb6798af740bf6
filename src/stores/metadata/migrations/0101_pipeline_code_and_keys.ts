/**
 * What a run's code was (commit, dirty tree, a checkout to recreate) and, per step run, the
 * references its key resolved, the key's parts with the cache's decision, and the environment it
 * ran in (issue 15). Nullable JSON columns: runs stored before this read as "not recorded".
 */
import type { TandemMigration } from "../migration-kit.js";

export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema.alterTable("pipeline_runs").addColumn("commit_sha", t.text).execute();
    await db.schema.alterTable("pipeline_runs").addColumn("code", t.json).execute();
    await db.schema
      .createIndex("pipeline_runs_commit")
      .on("pipeline_runs")
      .columns(["project", "commit_sha"])
      .execute();
    await db.schema.alterTable("pipeline_step_runs").addColumn("resolved_refs", t.json).execute();
    await db.schema.alterTable("pipeline_step_runs").addColumn("cache_info", t.json).execute();
    await db.schema.alterTable("pipeline_step_runs").addColumn("environment", t.json).execute();
  },
};
