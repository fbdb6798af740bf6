/**
 * The start time of a step's process next to its pid (`<boot id>:<start time in clock ticks>`, from
 * /proc), so a takeover kills only the process it recorded and never one that reuses its pid.
 */
import type { TandemMigration } from "../migration-kit.js";

export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema.alterTable("pipeline_step_runs").addColumn("pid_start", t.text).execute();
  },
};
