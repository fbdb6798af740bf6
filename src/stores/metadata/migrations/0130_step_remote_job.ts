/**
 * Where a step ran: its executor, a remote step's scheduler job id (a restarted server reattaches to
 * it instead of submitting again) and why a submitted job waits ("waiting for Slurm: Resources").
 */
import type { TandemMigration } from "../migration-kit.js";

export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    for (const column of ["executor", "remote_job", "waiting"])
      await db.schema.alterTable("pipeline_step_runs").addColumn(column, t.text).execute();
  },
};
