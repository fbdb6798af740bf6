/**
 * The human behind a run: `triggered_by` is who started it by hand, applied the spec whose schedule,
 * data or alert trigger started it, or pushed its commit (mapped from a configured git identity; null
 * when unknown). Existing runs get the same answer from what they recorded: a run a person created
 * was started by them; a `system` run (a trigger) by whoever applied the spec version it ran; a git
 * run's pusher was never mapped, so nobody.
 */
import { sql } from "kysely";
import type { TandemMigration } from "../migration-kit.js";

export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema.alterTable("pipeline_runs").addColumn("triggered_by", t.text).execute();
    await db
      .updateTable("pipeline_runs")
      .set({ triggered_by: sql`created_by` })
      .where("created_by", "<>", "system")
      .execute();
    await db
      .updateTable("pipeline_runs")
      .set({
        triggered_by: sql`(select s.created_by from pipeline_specs s where s.project = pipeline_runs.project and s.version = pipeline_runs.spec_version)`,
      })
      .where("created_by", "=", "system")
      .where(sql<boolean>`${sql.ref("trigger")} not like ${'%"kind":"git"%'}`)
      .execute();
  },
};
