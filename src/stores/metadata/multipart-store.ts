/** Open MLflow multipart uploads and their parts (migration 0302), shared by every server of a deployment. */
import type { MultipartUploadStore, UploadRecord } from "../../core/tracking/multipart.js";
import { dbOf, type SqlMetadataStore } from "./sql-metadata-store.js";

interface MultipartUploadRow {
  id: string;
  actor: string;
  project: string;
  path: string;
  num_parts: number;
  expires_at: number;
}

interface MultipartPartRow {
  upload_id: string;
  part_number: number;
  claimed_at: number;
  sha256: string | null;
}

declare module "./schema.js" {
  interface Database {
    tracking_multipart_uploads: MultipartUploadRow;
    tracking_multipart_parts: MultipartPartRow;
  }
}

export class SqlMultipartUploadStore implements MultipartUploadStore {
  constructor(private readonly store: SqlMetadataStore) {}

  private get db() {
    return dbOf(this.store);
  }

  async insertUpload(u: UploadRecord): Promise<void> {
    await this.db
      .insertInto("tracking_multipart_uploads")
      .values({
        id: u.id,
        actor: u.actor,
        project: u.project,
        path: u.path,
        num_parts: u.numParts,
        expires_at: u.expiresAt,
      })
      .execute();
  }

  async getUpload(id: string): Promise<UploadRecord | null> {
    const row = await this.db
      .selectFrom("tracking_multipart_uploads")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    if (!row) return null;
    return {
      id: row.id,
      actor: row.actor,
      project: row.project,
      path: row.path,
      numParts: Number(row.num_parts),
      expiresAt: Number(row.expires_at),
    };
  }

  async claimPart(uploadId: string, partNumber: number, at: number): Promise<boolean> {
    const result = await this.db
      .insertInto("tracking_multipart_parts")
      .values({ upload_id: uploadId, part_number: partNumber, claimed_at: at, sha256: null })
      .onConflict((oc) => oc.columns(["upload_id", "part_number"]).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async storePart(uploadId: string, partNumber: number, sha256: string): Promise<boolean> {
    const result = await this.db
      .updateTable("tracking_multipart_parts")
      .set({ sha256 })
      .where("upload_id", "=", uploadId)
      .where("part_number", "=", partNumber)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async releasePart(uploadId: string, partNumber: number): Promise<void> {
    await this.db
      .deleteFrom("tracking_multipart_parts")
      .where("upload_id", "=", uploadId)
      .where("part_number", "=", partNumber)
      .execute();
  }

  async parts(uploadId: string): Promise<Array<{ partNumber: number; sha256: string | null }>> {
    const rows = await this.db
      .selectFrom("tracking_multipart_parts")
      .select(["part_number", "sha256"])
      .where("upload_id", "=", uploadId)
      .execute();
    return rows.map((r) => ({ partNumber: Number(r.part_number), sha256: r.sha256 }));
  }

  async removeUpload(id: string): Promise<boolean> {
    return this.store.transaction(async (tx) => {
      const db = dbOf(this.store, tx);
      const result = await db.deleteFrom("tracking_multipart_uploads").where("id", "=", id).executeTakeFirst();
      await db.deleteFrom("tracking_multipart_parts").where("upload_id", "=", id).execute();
      return Number(result.numDeletedRows) > 0;
    });
  }

  async removeExpired(cutoff: number): Promise<void> {
    await this.store.transaction(async (tx) => {
      const db = dbOf(this.store, tx);
      await db.deleteFrom("tracking_multipart_uploads").where("expires_at", "<", cutoff).execute();
      // Parts whose upload is gone (expired above, or claimed while it was being completed or aborted).
      await db
        .deleteFrom("tracking_multipart_parts")
        .where("upload_id", "not in", db.selectFrom("tracking_multipart_uploads").select("id"))
        .execute();
    });
  }

  async partBlobs(): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom("tracking_multipart_parts")
      .select("sha256")
      .where("sha256", "is not", null)
      .execute();
    return new Set(rows.map((r) => r.sha256!));
  }
}
