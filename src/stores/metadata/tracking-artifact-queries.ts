/**
 * The tracking store's artifact index (one row per logged file: path, blob sha256, size, run) and the
 * garbage collector's queries (runs deleted long enough ago, their purge, blobs still referenced).
 * SqlTrackingStore extends this class: one store object, in two files that each read in one sitting.
 */
import { sql } from "kysely";
import type { Tx } from "../../core/ports.js";
import type { RunInfo } from "../../core/tracking/model.js";
import type { ArtifactRecord } from "../../core/tracking/ports.js";
import { chunks, ID_CHUNK } from "./chunks.js";
import { dbOf, type SqlMetadataStore } from "./sql-metadata-store.js";
import { toRunInfo, type TrackingArtifactRow } from "./tracking-rows.js";

function toArtifact(row: TrackingArtifactRow): ArtifactRecord {
  return {
    path: row.path,
    sha256: row.sha256,
    size: Number(row.size),
    runId: row.run_id,
    updatedAt: Number(row.updated_at),
  };
}

export class SqlTrackingArtifactQueries {
  constructor(protected readonly store: SqlMetadataStore) {}

  protected db(tx?: Tx) {
    return dbOf(this.store, tx);
  }

  async putArtifact(project: string, a: ArtifactRecord, tx: Tx): Promise<void> {
    const row = { project, path: a.path, sha256: a.sha256, size: a.size, run_id: a.runId, updated_at: a.updatedAt };
    await this.db(tx)
      .insertInto("tracking_artifacts")
      .values(row)
      .onConflict((oc) =>
        oc
          .columns(["project", "path"])
          .doUpdateSet({ sha256: a.sha256, size: a.size, run_id: a.runId, updated_at: a.updatedAt }),
      )
      .execute();
  }

  async getArtifact(project: string, path: string, tx?: Tx): Promise<ArtifactRecord | null> {
    const row = await this.db(tx)
      .selectFrom("tracking_artifacts")
      .selectAll()
      .where("project", "=", project)
      .where("path", "=", path)
      .executeTakeFirst();
    return row ? toArtifact(row) : null;
  }

  async listArtifacts(project: string, prefix: string, tx?: Tx): Promise<ArtifactRecord[]> {
    let q = this.db(tx).selectFrom("tracking_artifacts").selectAll().where("project", "=", project);
    if (prefix) {
      const p = `${prefix}/`;
      q = q.where(sql<boolean>`substr(path, 1, ${p.length}) = ${p}`);
    }
    const rows = await q.execute();
    // Sorted here, by code point, so both dialects list in the same order whatever the collation.
    return rows.map(toArtifact).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async deleteArtifacts(project: string, path: string, tx: Tx): Promise<number> {
    const p = `${path}/`;
    const r = await this.db(tx)
      .deleteFrom("tracking_artifacts")
      .where("project", "=", project)
      .where((eb) => eb.or([eb("path", "=", path), sql<boolean>`substr(path, 1, ${p.length}) = ${p}`]))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deletedRunsBefore(before: number, limit: number, project?: string, tx?: Tx): Promise<RunInfo[]> {
    let q = this.db(tx)
      .selectFrom("tracking_runs")
      .selectAll()
      .where("lifecycle_stage", "=", "deleted")
      .where("deleted_time", "<=", before);
    if (project) q = q.where("project", "=", project);
    const rows = await q.orderBy("deleted_time").limit(limit).execute();
    return rows.map(toRunInfo);
  }

  async purgeRun(runId: string, tx: Tx): Promise<string[]> {
    const db = this.db(tx);
    const shas = await db.selectFrom("tracking_artifacts").select("sha256").where("run_id", "=", runId).execute();
    for (const table of [
      "tracking_params",
      "tracking_tags",
      "tracking_metrics",
      "tracking_latest_metrics",
      "tracking_inputs",
      "tracking_artifacts",
    ] as const) {
      await db.deleteFrom(table).where("run_id", "=", runId).execute();
    }
    await db.deleteFrom("tracking_runs").where("run_id", "=", runId).execute();
    return [...new Set(shas.map((s) => s.sha256))];
  }

  async referencedBlobs(sha256s: string[], tx?: Tx): Promise<Set<string>> {
    const out = new Set<string>();
    for (const part of chunks(sha256s, ID_CHUNK)) {
      const rows = await this.db(tx)
        .selectFrom("tracking_artifacts")
        .select("sha256")
        .distinct()
        .where("sha256", "in", part)
        .execute();
      for (const r of rows) out.add(r.sha256);
    }
    return out;
  }
}
