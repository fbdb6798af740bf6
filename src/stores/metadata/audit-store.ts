import type { Selectable } from "kysely";
import type { AuditEvent } from "../../core/governance/model.js";
import type { AuditStore } from "../../core/governance/ports.js";
import { GENESIS_HASH, hashBody } from "../../core/governance/audit.js";
import type { Tx } from "../../core/ports.js";
import type { AuditEventRow } from "./schema.js";
import { dbOf, type SqlMetadataStore } from "./sql-metadata-store.js";
import { definedColumns, StatementShapes } from "./statement-shapes.js";

function toEvent(row: Selectable<AuditEventRow>): AuditEvent {
  return {
    seq: row.seq,
    id: row.id,
    at: row.at,
    actor: row.actor,
    project: row.project,
    action: row.action,
    target: row.target,
    summary: JSON.parse(row.summary) as Record<string, unknown>,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export class SqlAuditStore implements AuditStore {
  /** The compiled SQL of an event's insert, written by every audited change (statement-shapes.ts). */
  private readonly shapes = new StatementShapes();

  constructor(private readonly store: SqlMetadataStore) {}

  async append(tx: Tx, seal: (prevHash: string) => Omit<AuditEvent, "seq">): Promise<AuditEvent> {
    const db = dbOf(this.store, tx);
    if (this.store.dialect === "postgres") {
      // Chained at COMMIT by a deferred trigger (migration 0004), so no lock is held from here to
      // the commit; `sealed` reads the final seq and hash afterwards.
      const e = seal(GENESIS_HASH);
      const inserted = await db.executeQuery(
        this.insert({ ...this.row(e), prev_hash: "", hash: "", chain_body: hashBody(e) }),
      );
      return { ...e, seq: inserted.rows[0]!.seq, prevHash: "", hash: "" };
    }
    // SQLite transactions here begin IMMEDIATE, which already serialises writers.
    const newest = await db.executeQuery(
      this.shapes.compiled("newest hash", [], () =>
        this.store.db.selectFrom("audit_events").select("hash").orderBy("seq", "desc").limit(1),
      ),
    );
    const e = seal(newest.rows[0]?.hash ?? GENESIS_HASH);
    const inserted = await db.executeQuery(this.insert(this.row(e)));
    return { ...e, seq: inserted.rows[0]!.seq };
  }

  /** INSERT … RETURNING seq of one event's row (its SQL compiled once per set of columns). */
  private insert(row: Record<string, string | number | null>) {
    const { columns, values } = definedColumns(row);
    return this.shapes.compiled(`insert ${columns.join(",")}`, values, (slots) =>
      this.store.db
        .insertInto("audit_events")
        .values(Object.fromEntries(columns.map((c, i) => [c, slots[i]])) as unknown as ReturnType<SqlAuditStore["row"]>)
        .returning("seq"),
    );
  }

  private row(e: Omit<AuditEvent, "seq">) {
    return {
      id: e.id,
      at: e.at,
      actor: e.actor,
      project: e.project,
      action: e.action,
      target: e.target,
      summary: JSON.stringify(e.summary),
      prev_hash: e.prevHash,
      hash: e.hash,
    };
  }

  async sealed(id: string): Promise<AuditEvent | null> {
    const row = await this.store.db.selectFrom("audit_events").selectAll().where("id", "=", id).executeTakeFirst();
    return row && row.hash !== "" ? toEvent(row) : null;
  }

  async list(
    options: { project?: string; afterSeq?: number; limit: number; descending?: boolean },
    tx?: Tx,
  ): Promise<AuditEvent[]> {
    let query = dbOf(this.store, tx).selectFrom("audit_events").selectAll();
    if (options.project !== undefined) query = query.where("project", "=", options.project);
    if (options.afterSeq !== undefined) {
      query = query.where("seq", options.descending ? "<" : ">", options.afterSeq);
    }
    const rows = await query
      .orderBy("seq", options.descending ? "desc" : "asc")
      .limit(options.limit)
      .execute();
    return rows.map(toEvent);
  }

  async newest(tx?: Tx): Promise<AuditEvent | null> {
    const row = await dbOf(this.store, tx)
      .selectFrom("audit_events")
      .selectAll()
      .orderBy("seq", "desc")
      .limit(1)
      .executeTakeFirst();
    return row ? toEvent(row) : null;
  }
}
