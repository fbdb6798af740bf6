/**
 * A token may be limited to a kind of work as well as a role and a project: `tracking` (log runs,
 * metrics and artifacts; nothing else), what a pipeline run's token becomes when a policy in force
 * says `step_token: tracking`. Null: whatever its role allows.
 */
import type { TandemMigration } from "../migration-kit.js";

export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema.alterTable("api_tokens").addColumn("scope", t.text).execute();
  },
};
