/**
 * Governance (issue 14): evidence provenance, the person behind a version, richer decision records,
 * and policies kept by the registry instead of read from the newest spec.
 *
 * Existing rows are upgraded so the new rules hold for them too:
 * - an evaluation is `pipeline` evidence only when a `tandem/evaluate`, `tandem/fairness` or
 *   `tandem/eval` step made it (its run is that step's tracking run); everything else is `manual`;
 * - a version a pipeline step registered (its source run is a step's run) gets `via: system`, and one
 *   registered as `system` gets the person behind that run (0110's `triggered_by`) as its author;
 * - each project's policies in force become those of its newest spec, as they were read before.
 */
import { sql, type Kysely } from "kysely";
import { parse as parseYaml } from "yaml";
import { policySpecSchema } from "../../../core/pipelines/spec/policies.js";
import type { TandemMigration } from "../migration-kit.js";

const EVALUATOR_COMMANDS = ["uses: tandem/evaluate %", "uses: tandem/fairness %", "uses: tandem/eval %"];

export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema.alterTable("registry_versions").addColumn("via", t.text).execute();
    await db.schema
      .alterTable("registry_versions")
      .addColumn("author_note", t.text, (c) => c.notNull().defaultTo(""))
      .execute();
    await db.schema
      .alterTable("registry_evaluations")
      .addColumn("source", t.text, (c) => c.notNull().defaultTo("manual"))
      .execute();
    for (const column of ["pipeline_run_id", "step", "step_run_id"])
      await db.schema.alterTable("registry_evaluations").addColumn(column, t.text).execute();
    await db.schema.alterTable("registry_requests").addColumn("scope", t.text).execute();
    await db.schema
      .alterTable("registry_decisions")
      .addColumn("action", t.text, (c) => c.notNull().defaultTo("promote"))
      .execute();
    await db.schema
      .alterTable("registry_decisions")
      .addColumn("scope", t.text, (c) => c.notNull().defaultTo(""))
      .execute();
    await db.schema
      .alterTable("registry_decisions")
      .addColumn("governing", t.text, (c) => c.notNull().defaultTo("[]"))
      .execute();
    await markPipelineEvidence(db);
    await attributeVersions(db);
    await adoptSpecPolicies(db);
  },
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the schema as it was
type Db = Kysely<any>;

async function markPipelineEvidence(db: Db): Promise<void> {
  const steps = await db
    .selectFrom("pipeline_step_runs")
    .select(["id", "run_id", "name", "tracking_run_id"])
    .where("tracking_run_id", "is not", null)
    .where((eb) => eb.or(EVALUATOR_COMMANDS.map((c) => eb("command", "like", c))))
    .execute();
  for (const s of steps as Array<{ id: string; run_id: string; name: string; tracking_run_id: string }>) {
    await db
      .updateTable("registry_evaluations")
      .set({ source: "pipeline", pipeline_run_id: s.run_id, step: s.name, step_run_id: s.id })
      .where("run_id", "=", s.tracking_run_id)
      .execute();
  }
}

async function attributeVersions(db: Db): Promise<void> {
  const rows = (await db
    .selectFrom("registry_versions as v")
    .innerJoin("pipeline_step_runs as s", "s.tracking_run_id", "v.source_run_id")
    .innerJoin("pipeline_runs as r", "r.id", "s.run_id")
    .select([
      "v.project",
      "v.model_name",
      "v.version",
      "v.author",
      "r.id as run_id",
      "r.created_by",
      "r.triggered_by",
      sql<string>`r.${sql.ref("trigger")}`.as("trigger"),
    ])
    .execute()) as Array<{
    project: string;
    model_name: string;
    version: number;
    author: string;
    run_id: string;
    created_by: string;
    triggered_by: string | null;
    trigger: string;
  }>;
  for (const r of rows) {
    const kind = (JSON.parse(r.trigger) as { kind?: string }).kind ?? "manual";
    const person = r.author === "system" ? (r.triggered_by ?? "system") : r.author;
    const note =
      kind === "manual" || kind === "retry"
        ? `started pipeline run ${r.run_id} by hand`
        : kind === "git"
          ? `pushed the commit that started pipeline run ${r.run_id} (pusher not mapped before this upgrade)`
          : `applied the spec whose ${kind} trigger started pipeline run ${r.run_id}`;
    await db
      .updateTable("registry_versions")
      .set({ author: person, via: "system", author_note: `${person} ${note}` })
      .where("project", "=", r.project)
      .where("model_name", "=", r.model_name)
      .where("version", "=", r.version)
      .execute();
  }
  await db
    .updateTable("registry_versions")
    .set({ author_note: sql`author || ' registered it'` })
    .where("author_note", "=", "")
    .execute();
}

async function adoptSpecPolicies(db: Db): Promise<void> {
  const latest = (await db
    .selectFrom("pipeline_specs as s")
    .select(["s.project", "s.source", "s.created_by", "s.created_at"])
    .where("s.version", "=", sql`(select max(x.version) from pipeline_specs x where x.project = s.project)`)
    .execute()) as Array<{ project: string; source: string; created_by: string; created_at: number }>;
  for (const spec of latest) {
    let doc: { policies?: Record<string, unknown> } | null;
    try {
      doc = parseYaml(spec.source) as typeof doc;
    } catch {
      continue; // it was stored, so it parsed then; a parser upgrade must not stop the migration
    }
    const rows = Object.entries(doc?.policies ?? {}).flatMap(([name, raw], position) => {
      const parsed = policySpecSchema.safeParse(raw ?? {});
      return parsed.success
        ? [
            {
              project: spec.project,
              name,
              spec: JSON.stringify(parsed.data),
              position,
              updated_by: spec.created_by,
              updated_at: spec.created_at,
            },
          ]
        : [];
    });
    await db.deleteFrom("registry_policies").where("project", "=", spec.project).execute();
    if (rows.length) await db.insertInto("registry_policies").values(rows).execute();
  }
}
