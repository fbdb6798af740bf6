/**
 * Evaluations keep a binary classifier's curves (issue 21): `tandem/evaluate` stores the ROC and PR
 * curves, down-sampled, with their areas and the confusion matrix, as JSON the model page draws.
 * Null for regressors, multi-class models, manual evaluations and every row made before this.
 */
import type { TandemMigration } from "../migration-kit.js";

export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema.alterTable("registry_evaluations").addColumn("curves", t.text).execute();
  },
};
