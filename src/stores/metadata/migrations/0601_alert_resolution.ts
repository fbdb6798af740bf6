import type { TandemMigration } from "../migration-kit.js";

/**
 * What resolved an alert, kept apart from `evidence` (what fired it): before this column the resolving
 * report's evidence was merged over the firing one, so `alerts show` on a resolved alert showed the
 * passing window's result instead of the failing one. JSON; null while the alert is firing.
 */
export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema.alterTable("alerts").addColumn("resolution", t.json).execute();
  },
};
