import type { SessionStore } from "../../core/portal/ports.js";
import type { Session } from "../../core/portal/sessions.js";
import type { Tx } from "../../core/ports.js";
import { dbOf, type SqlMetadataStore } from "./sql-metadata-store.js";

export interface SessionRow {
  id_hash: string;
  token_id: string;
  user_name: string;
  created_at: number;
  expires_at: number;
}

declare module "./schema.js" {
  interface Database {
    sessions: SessionRow;
  }
}

function toSession(row: SessionRow): Session {
  return {
    idHash: row.id_hash,
    tokenId: row.token_id,
    userName: row.user_name,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

export class SqlSessionStore implements SessionStore {
  constructor(private readonly store: SqlMetadataStore) {}

  async insert(s: Session, tx?: Tx): Promise<void> {
    await dbOf(this.store, tx)
      .insertInto("sessions")
      .values({
        id_hash: s.idHash,
        token_id: s.tokenId,
        user_name: s.userName,
        created_at: s.createdAt,
        expires_at: s.expiresAt,
      })
      .execute();
  }

  async findByHash(idHash: string, tx?: Tx): Promise<Session | null> {
    const row = await dbOf(this.store, tx)
      .selectFrom("sessions")
      .selectAll()
      .where("id_hash", "=", idHash)
      .executeTakeFirst();
    return row ? toSession(row) : null;
  }

  async deleteByHash(idHash: string, tx?: Tx): Promise<Session | null> {
    const found = await this.findByHash(idHash, tx);
    if (found) await dbOf(this.store, tx).deleteFrom("sessions").where("id_hash", "=", idHash).execute();
    return found;
  }

  async deleteExpired(now: number, tx?: Tx): Promise<number> {
    const result = await dbOf(this.store, tx).deleteFrom("sessions").where("expires_at", "<=", now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
