/** The Data area's tables (migration 0200): rows, mappers and the SQL DataStore. */
import type { Generated, Selectable } from "kysely";
import type { DataStore } from "../../core/data/ports.js";
import type { Dataset, DatasetEvent, DatasetKind, DatasetVersion, ValidationRecord } from "../../core/data/model.js";
import type { TabularFormat } from "../../core/data/readers/types.js";
import type { Tx } from "../../core/ports.js";
import { dbOf, type SqlMetadataStore } from "./sql-metadata-store.js";

export interface DatasetRow {
  project: string;
  name: string;
  created_at: number;
  created_by: string;
}

export interface DatasetVersionRow {
  project: string;
  name: string;
  version: number;
  manifest_sha: string;
  kind: string;
  file_count: number;
  total_bytes: number;
  profile_sha: string | null;
  message: string | null;
  created_at: number;
  created_by: string;
}

export interface DatasetTagRow {
  project: string;
  name: string;
  label: string;
  version: number;
  created_at: number;
  created_by: string;
}

export interface DatasetEventRow {
  seq: Generated<number>;
  project: string;
  name: string;
  version: number;
  kind: string;
  at: number;
}

export interface DatasetFileProfileRow {
  blob_sha: string;
  profile_sha: string;
  format: string;
  created_at: number;
}

export interface DatasetValidationRow {
  id: string;
  project: string;
  name: string;
  version: number;
  ok: number;
  report: string;
  run_id: string | null;
  created_at: number;
  created_by: string;
}

export interface DatasetEventCursorRow {
  consumer: string;
  seq: number;
  updated_at: number;
}

declare module "./schema.js" {
  interface Database {
    dataset_event_cursors: DatasetEventCursorRow;
    datasets: DatasetRow;
    dataset_versions: DatasetVersionRow;
    dataset_tags: DatasetTagRow;
    dataset_events: DatasetEventRow;
    dataset_file_profiles: DatasetFileProfileRow;
    dataset_validations: DatasetValidationRow;
  }
}

function toVersion(r: DatasetVersionRow, tags: string[]): DatasetVersion {
  return {
    project: r.project,
    name: r.name,
    version: Number(r.version),
    manifestSha: r.manifest_sha,
    kind: r.kind as DatasetKind,
    fileCount: Number(r.file_count),
    totalBytes: Number(r.total_bytes),
    profileSha: r.profile_sha,
    message: r.message,
    createdAt: Number(r.created_at),
    createdBy: r.created_by,
    tags,
  };
}

function toValidation(r: DatasetValidationRow): ValidationRecord {
  return {
    id: r.id,
    project: r.project,
    name: r.name,
    version: Number(r.version),
    ok: r.ok === 1,
    report: JSON.parse(r.report) as unknown,
    runId: r.run_id,
    createdAt: Number(r.created_at),
    createdBy: r.created_by,
  };
}

export class SqlDataStore implements DataStore {
  constructor(private readonly store: SqlMetadataStore) {}

  private async withTags(rows: DatasetVersionRow[], tx?: Tx): Promise<DatasetVersion[]> {
    if (rows.length === 0) return [];
    const tags = await dbOf(this.store, tx)
      .selectFrom("dataset_tags")
      .select(["name", "label", "version"])
      .where("project", "=", rows[0]!.project)
      .where("name", "in", [...new Set(rows.map((r) => r.name))])
      .orderBy("label")
      .execute();
    return rows.map((r) =>
      toVersion(
        r,
        tags.filter((t) => t.name === r.name && Number(t.version) === Number(r.version)).map((t) => t.label),
      ),
    );
  }

  async ensureDataset(
    d: { project: string; name: string; createdAt: number; createdBy: string },
    tx?: Tx,
  ): Promise<void> {
    await dbOf(this.store, tx)
      .insertInto("datasets")
      .values({ project: d.project, name: d.name, created_at: d.createdAt, created_by: d.createdBy })
      .onConflict((oc) => oc.columns(["project", "name"]).doNothing())
      .execute();
  }

  async listDatasets(project: string, tx?: Tx): Promise<Dataset[]> {
    const db = dbOf(this.store, tx);
    const rows = await db
      .selectFrom("datasets as d")
      .leftJoin("dataset_versions as v", (j) => j.onRef("v.project", "=", "d.project").onRef("v.name", "=", "d.name"))
      .select(["d.project", "d.name", "d.created_at", "d.created_by", (eb) => eb.fn.max("v.version").as("latest")])
      .where("d.project", "=", project)
      .groupBy(["d.project", "d.name", "d.created_at", "d.created_by"])
      .orderBy("d.name")
      .execute();
    return rows.map((r) => ({
      project: r.project,
      name: r.name,
      createdAt: Number(r.created_at),
      createdBy: r.created_by,
      latestVersion: r.latest === null || r.latest === undefined ? null : Number(r.latest),
    }));
  }

  async getDataset(project: string, name: string, tx?: Tx): Promise<Dataset | null> {
    return (await this.listDatasets(project, tx)).find((d) => d.name === name) ?? null;
  }

  async latestVersion(project: string, name: string, tx?: Tx): Promise<DatasetVersion | null> {
    const row = await dbOf(this.store, tx)
      .selectFrom("dataset_versions")
      .selectAll()
      .where("project", "=", project)
      .where("name", "=", name)
      .orderBy("version", "desc")
      .limit(1)
      .executeTakeFirst();
    return row ? (await this.withTags([row], tx))[0]! : null;
  }

  async getVersion(project: string, name: string, version: number, tx?: Tx): Promise<DatasetVersion | null> {
    const row = await dbOf(this.store, tx)
      .selectFrom("dataset_versions")
      .selectAll()
      .where("project", "=", project)
      .where("name", "=", name)
      .where("version", "=", version)
      .executeTakeFirst();
    return row ? (await this.withTags([row], tx))[0]! : null;
  }

  async findVersionsByManifest(project: string, name: string, prefix: string, tx?: Tx): Promise<DatasetVersion[]> {
    const rows = await dbOf(this.store, tx)
      .selectFrom("dataset_versions")
      .selectAll()
      .where("project", "=", project)
      .where("name", "=", name)
      .where("manifest_sha", "like", `${prefix}%`)
      .orderBy("version")
      .execute();
    return this.withTags(rows, tx);
  }

  async listVersions(project: string, name: string, tx?: Tx): Promise<DatasetVersion[]> {
    const rows = await dbOf(this.store, tx)
      .selectFrom("dataset_versions")
      .selectAll()
      .where("project", "=", project)
      .where("name", "=", name)
      .orderBy("version", "desc")
      .execute();
    return this.withTags(rows, tx);
  }

  async insertVersion(v: Omit<DatasetVersion, "tags">, tx?: Tx): Promise<void> {
    await dbOf(this.store, tx)
      .insertInto("dataset_versions")
      .values({
        project: v.project,
        name: v.name,
        version: v.version,
        manifest_sha: v.manifestSha,
        kind: v.kind,
        file_count: v.fileCount,
        total_bytes: v.totalBytes,
        profile_sha: v.profileSha,
        message: v.message,
        created_at: v.createdAt,
        created_by: v.createdBy,
      })
      .execute();
  }

  async setTag(
    t: { project: string; name: string; label: string; version: number; at: number; by: string },
    tx?: Tx,
  ): Promise<number | null> {
    const previous = await this.getTag(t.project, t.name, t.label, tx);
    await dbOf(this.store, tx)
      .insertInto("dataset_tags")
      .values({
        project: t.project,
        name: t.name,
        label: t.label,
        version: t.version,
        created_at: t.at,
        created_by: t.by,
      })
      .onConflict((oc) =>
        oc
          .columns(["project", "name", "label"])
          .doUpdateSet({ version: t.version, created_at: t.at, created_by: t.by }),
      )
      .execute();
    return previous;
  }

  async getTag(project: string, name: string, label: string, tx?: Tx): Promise<number | null> {
    const row = await dbOf(this.store, tx)
      .selectFrom("dataset_tags")
      .select("version")
      .where("project", "=", project)
      .where("name", "=", name)
      .where("label", "=", label)
      .executeTakeFirst();
    return row ? Number(row.version) : null;
  }

  async insertEvent(e: Omit<DatasetEvent, "seq">, tx?: Tx): Promise<void> {
    await dbOf(this.store, tx)
      .insertInto("dataset_events")
      .values({ project: e.project, name: e.name, version: e.version, kind: e.kind, at: e.at })
      .execute();
  }

  async eventsAfter(afterSeq: number, limit: number, project?: string, tx?: Tx): Promise<DatasetEvent[]> {
    let q = dbOf(this.store, tx).selectFrom("dataset_events").selectAll().where("seq", ">", afterSeq);
    if (project !== undefined) q = q.where("project", "=", project);
    const rows = await q.orderBy("seq").limit(limit).execute();
    return rows.map((r: Selectable<DatasetEventRow>) => ({
      seq: Number(r.seq),
      project: r.project,
      name: r.name,
      version: Number(r.version),
      kind: "version_created" as const,
      at: Number(r.at),
    }));
  }

  async maxEventSeq(tx?: Tx): Promise<number> {
    const row = await dbOf(this.store, tx)
      .selectFrom("dataset_events")
      .select((eb) => eb.fn.max("seq").as("seq"))
      .executeTakeFirst();
    return row?.seq === null || row?.seq === undefined ? 0 : Number(row.seq);
  }

  async getCursor(consumer: string, tx?: Tx): Promise<number | null> {
    const row = await dbOf(this.store, tx)
      .selectFrom("dataset_event_cursors")
      .select("seq")
      .where("consumer", "=", consumer)
      .executeTakeFirst();
    return row ? Number(row.seq) : null;
  }

  async setCursor(consumer: string, seq: number, at: number, tx?: Tx): Promise<void> {
    await dbOf(this.store, tx)
      .insertInto("dataset_event_cursors")
      .values({ consumer, seq, updated_at: at })
      .onConflict((oc) => oc.column("consumer").doUpdateSet({ seq, updated_at: at }))
      .execute();
  }

  async getFileProfile(blobSha: string, tx?: Tx): Promise<{ profileSha: string; format: TabularFormat } | null> {
    const row = await dbOf(this.store, tx)
      .selectFrom("dataset_file_profiles")
      .selectAll()
      .where("blob_sha", "=", blobSha)
      .executeTakeFirst();
    return row ? { profileSha: row.profile_sha, format: row.format as TabularFormat } : null;
  }

  async putFileProfile(
    p: { blobSha: string; profileSha: string; format: TabularFormat; at: number },
    tx?: Tx,
  ): Promise<void> {
    await dbOf(this.store, tx)
      .insertInto("dataset_file_profiles")
      .values({ blob_sha: p.blobSha, profile_sha: p.profileSha, format: p.format, created_at: p.at })
      .onConflict((oc) => oc.column("blob_sha").doNothing())
      .execute();
  }

  async insertValidation(v: ValidationRecord, tx?: Tx): Promise<void> {
    await dbOf(this.store, tx)
      .insertInto("dataset_validations")
      .values({
        id: v.id,
        project: v.project,
        name: v.name,
        version: v.version,
        ok: v.ok ? 1 : 0,
        report: JSON.stringify(v.report),
        run_id: v.runId,
        created_at: v.createdAt,
        created_by: v.createdBy,
      })
      .execute();
  }

  async listValidations(project: string, name: string, version: number | null, tx?: Tx): Promise<ValidationRecord[]> {
    let q = dbOf(this.store, tx)
      .selectFrom("dataset_validations")
      .selectAll()
      .where("project", "=", project)
      .where("name", "=", name);
    if (version !== null) q = q.where("version", "=", version);
    return (await q.orderBy("created_at", "desc").execute()).map(toValidation);
  }
}
