/**
 * A pipeline run's token keeps its run's time bound (`renewable_until`, ms; null: no bound), so any
 * server that takes the run over renews it, and revives it after a long outage, never past the
 * bound. Before, the bound lived only in the memory of the server that made the token.
 */
import type { TandemMigration } from "../migration-kit.js";

export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema.alterTable("api_tokens").addColumn("renewable_until", t.bigint).execute();
  },
};
