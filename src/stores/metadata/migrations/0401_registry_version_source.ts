/**
 * Where a version was registered from, as MLflow's `source` says it (`runs:/…/model`,
 * `mlflow-artifacts:/…/notes.txt`) and whether that names a file or a directory: MLflow clients get
 * it back in `source` and, for a file, a download URI naming that file. JSON `{"uri", "is_file"}`,
 * null for versions registered without one (Tandem's own API, earlier releases).
 */
import type { TandemMigration } from "../migration-kit.js";

export const migration: TandemMigration = {
  async up(db, _dialect, t) {
    await db.schema.alterTable("registry_versions").addColumn("source", t.json).execute();
  },
};
