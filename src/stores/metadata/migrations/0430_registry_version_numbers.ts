import { sql } from "kysely";
import type { TandemMigration } from "../migration-kit.js";

/**
 * The highest version number each model name has used. Approvals, evaluations, decisions, alias
 * history and endpoints keep a version by (model, number), so a number a deleted version (or a
 * deleted or renamed model) had must never name another file. Rows outlive their versions and
 * models; the seed takes every number the registry's tables still mention.
 */
export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema
      .createTable("registry_version_numbers")
      .addColumn("project", t.id, (c) => c.notNull())
      .addColumn("model_name", t.id, (c) => c.notNull())
      .addColumn("last_version", t.integer, (c) => c.notNull())
      .addPrimaryKeyConstraint("registry_version_numbers_pk", ["project", "model_name"])
      .execute();
    await sql`
      insert into registry_version_numbers (project, model_name, last_version)
      select project, model_name, max(v) from (
        select project, model_name, version as v from registry_versions
        union all select project, model_name, version from registry_approvals
        union all select project, model_name, version from registry_evaluations
        union all select project, model_name, version from registry_decisions
        union all select project, model_name, version from registry_requests
        union all select project, model_name, from_version from registry_alias_events where from_version is not null
        union all select project, model_name, to_version from registry_alias_events where to_version is not null
      ) used
      where v > 0
      group by project, model_name`.execute(db);
  },
};
