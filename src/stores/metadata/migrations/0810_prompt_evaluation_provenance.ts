/**
 * Prompt evaluations get provenance, like the registry's (0410): `pipeline` when a `tandem/eval`
 * step made it, else `manual` (any member could post any metrics through the API, and policies read
 * manual evidence only with `accept_manual`). Existing rows are manual unless their tracking run is
 * a `tandem/eval` step's run; those get that step's pipeline run, name and step run.
 */
import type { Kysely } from "kysely";
import type { TandemMigration } from "../migration-kit.js";

export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema
      .alterTable("prompt_evaluations")
      .addColumn("source", t.text, (c) => c.notNull().defaultTo("manual"))
      .execute();
    for (const column of ["pipeline_run_id", "step", "step_run_id"])
      await db.schema.alterTable("prompt_evaluations").addColumn(column, t.text).execute();
    await markEvalSteps(db);
  },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the schema as it was
async function markEvalSteps(db: Kysely<any>): Promise<void> {
  const steps = (await db
    .selectFrom("pipeline_step_runs")
    .select(["id", "run_id", "name", "tracking_run_id"])
    .where("tracking_run_id", "is not", null)
    .where("command", "like", "uses: tandem/eval %")
    .execute()) as Array<{ id: string; run_id: string; name: string; tracking_run_id: string }>;
  for (const s of steps) {
    await db
      .updateTable("prompt_evaluations")
      .set({ source: "pipeline", pipeline_run_id: s.run_id, step: s.name, step_run_id: s.id })
      .where("run_id", "=", s.tracking_run_id)
      .execute();
  }
}
