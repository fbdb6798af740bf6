import type { Selectable } from "kysely";
import type {
  Alert,
  AlertDelivery,
  AlertReceiver,
  AlertSource,
  AlertStatus,
  DeliveryStatus,
} from "../../core/monitoring/alerts/model.js";
import type { AlertStore } from "../../core/monitoring/alerts/ports.js";
import type { Tx } from "../../core/ports.js";
import { dbOf, type SqlMetadataStore } from "./sql-metadata-store.js";

interface AlertRow {
  id: string;
  project: string;
  name: string;
  fingerprint: string;
  status: string;
  severity: string;
  source: string;
  labels: string;
  annotations: string;
  evidence: string;
  resolution: string | null;
  starts_at: number;
  ends_at: number | null;
  updated_at: number;
  fire_count: number;
  acked_by: string | null;
  acked_at: number | null;
  ack_comment: string | null;
  triggered_at: number | null;
}
interface ReceiverRow {
  id: string;
  project: string;
  url: string;
  token: string | null;
  created_at: number;
}
interface DeliveryRow {
  id: string;
  alert_id: string;
  receiver_id: string;
  alert_status: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  delivered_at: number | null;
  created_at: number;
}

declare module "./schema.js" {
  interface Database {
    alerts: AlertRow;
    alert_receivers: ReceiverRow;
    alert_deliveries: DeliveryRow;
  }
}

function toAlert(r: Selectable<AlertRow>): Alert {
  return {
    id: r.id,
    project: r.project,
    name: r.name,
    fingerprint: r.fingerprint,
    status: r.status as AlertStatus,
    severity: r.severity,
    source: r.source as AlertSource,
    labels: JSON.parse(r.labels) as Record<string, string>,
    annotations: JSON.parse(r.annotations) as Record<string, string>,
    evidence: JSON.parse(r.evidence) as Record<string, unknown>,
    resolution: r.resolution === null ? null : (JSON.parse(r.resolution) as Record<string, unknown>),
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    updatedAt: r.updated_at,
    fireCount: r.fire_count,
    ackedBy: r.acked_by,
    ackedAt: r.acked_at,
    ackComment: r.ack_comment,
    triggeredAt: r.triggered_at,
  };
}

function fromAlert(a: Alert): AlertRow {
  return {
    id: a.id,
    project: a.project,
    name: a.name,
    fingerprint: a.fingerprint,
    status: a.status,
    severity: a.severity,
    source: a.source,
    labels: JSON.stringify(a.labels),
    annotations: JSON.stringify(a.annotations),
    evidence: JSON.stringify(a.evidence),
    resolution: a.resolution === null ? null : JSON.stringify(a.resolution),
    starts_at: a.startsAt,
    ends_at: a.endsAt,
    updated_at: a.updatedAt,
    fire_count: a.fireCount,
    acked_by: a.ackedBy,
    acked_at: a.ackedAt,
    ack_comment: a.ackComment,
    triggered_at: a.triggeredAt,
  };
}

const toReceiver = (r: ReceiverRow): AlertReceiver => ({
  id: r.id,
  project: r.project,
  url: r.url,
  hasToken: r.token !== null,
  createdAt: r.created_at,
});

function toDelivery(r: DeliveryRow): AlertDelivery {
  return {
    id: r.id,
    alertId: r.alert_id,
    receiverId: r.receiver_id,
    alertStatus: r.alert_status as AlertStatus,
    status: r.status as DeliveryStatus,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    deliveredAt: r.delivered_at,
    createdAt: r.created_at,
  };
}

export class SqlAlertStore implements AlertStore {
  constructor(private readonly store: SqlMetadataStore) {}

  async findOpen(project: string, fingerprint: string, tx?: Tx): Promise<Alert | null> {
    const row = await dbOf(this.store, tx)
      .selectFrom("alerts")
      .selectAll()
      .where("project", "=", project)
      .where("fingerprint", "=", fingerprint)
      .where("status", "=", "firing")
      .executeTakeFirst();
    return row ? toAlert(row) : null;
  }

  async insert(alert: Alert, tx?: Tx): Promise<void> {
    await dbOf(this.store, tx).insertInto("alerts").values(fromAlert(alert)).execute();
  }

  async update(alert: Alert, tx?: Tx): Promise<void> {
    const { id: _id, ...rest } = fromAlert(alert);
    await dbOf(this.store, tx).updateTable("alerts").set(rest).where("id", "=", alert.id).execute();
  }

  async get(project: string, id: string, tx?: Tx): Promise<Alert | null> {
    const row = await dbOf(this.store, tx)
      .selectFrom("alerts")
      .selectAll()
      .where("project", "=", project)
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? toAlert(row) : null;
  }

  async list(
    project: string,
    options: { status?: AlertStatus; name?: string; limit: number },
    tx?: Tx,
  ): Promise<Alert[]> {
    let q = dbOf(this.store, tx).selectFrom("alerts").selectAll().where("project", "=", project);
    if (options.status) q = q.where("status", "=", options.status);
    if (options.name) q = q.where("name", "=", options.name);
    const rows = await q.orderBy("starts_at", "desc").orderBy("id").limit(options.limit).execute();
    return rows.map(toAlert);
  }

  async untriggered(limit: number, tx?: Tx): Promise<Alert[]> {
    const rows = await dbOf(this.store, tx)
      .selectFrom("alerts")
      .selectAll()
      .where("status", "=", "firing")
      .where("triggered_at", "is", null)
      .orderBy("starts_at")
      .limit(limit)
      .execute();
    return rows.map(toAlert);
  }

  async markTriggered(id: string, at: number, tx?: Tx): Promise<boolean> {
    const res = await dbOf(this.store, tx)
      .updateTable("alerts")
      .set({ triggered_at: at })
      .where("id", "=", id)
      .where("triggered_at", "is", null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async firingCounts(tx?: Tx) {
    const rows = await dbOf(this.store, tx)
      .selectFrom("alerts")
      .select(["project", "name", "severity"])
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .where("status", "=", "firing")
      .groupBy(["project", "name", "severity"])
      .execute();
    return rows.map((r) => ({ project: r.project, name: r.name, severity: r.severity, count: Number(r.count) }));
  }

  async addReceiver(receiver: AlertReceiver, token: string | null, tx?: Tx): Promise<void> {
    await dbOf(this.store, tx)
      .insertInto("alert_receivers")
      .values({ id: receiver.id, project: receiver.project, url: receiver.url, token, created_at: receiver.createdAt })
      .execute();
  }

  async listReceivers(project: string, tx?: Tx): Promise<AlertReceiver[]> {
    const rows = await dbOf(this.store, tx)
      .selectFrom("alert_receivers")
      .selectAll()
      .where("project", "=", project)
      .orderBy("created_at")
      .execute();
    return rows.map(toReceiver);
  }

  async receiverToken(id: string, tx?: Tx): Promise<string | null> {
    const row = await dbOf(this.store, tx)
      .selectFrom("alert_receivers")
      .select("token")
      .where("id", "=", id)
      .executeTakeFirst();
    return row?.token ?? null;
  }

  async getReceiver(id: string, tx?: Tx) {
    const row = await dbOf(this.store, tx)
      .selectFrom("alert_receivers")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? { ...toReceiver(row), token: row.token } : null;
  }

  async removeReceiver(project: string, id: string, tx?: Tx): Promise<boolean> {
    const res = await dbOf(this.store, tx)
      .deleteFrom("alert_receivers")
      .where("project", "=", project)
      .where("id", "=", id)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async insertDelivery(d: AlertDelivery, tx?: Tx): Promise<void> {
    await dbOf(this.store, tx)
      .insertInto("alert_deliveries")
      .values({
        id: d.id,
        alert_id: d.alertId,
        receiver_id: d.receiverId,
        alert_status: d.alertStatus,
        status: d.status,
        attempts: d.attempts,
        next_attempt_at: d.nextAttemptAt,
        last_error: d.lastError,
        delivered_at: d.deliveredAt,
        created_at: d.createdAt,
      })
      .execute();
  }

  async dueDeliveries(now: number, limit: number, tx?: Tx): Promise<AlertDelivery[]> {
    const rows = await dbOf(this.store, tx)
      .selectFrom("alert_deliveries")
      .selectAll()
      .where("status", "=", "pending")
      .where("next_attempt_at", "<=", now)
      .orderBy("next_attempt_at")
      .limit(limit)
      .execute();
    return rows.map(toDelivery);
  }

  /**
   * Takes up to `limit` due deliveries for this process: each is hidden from every other server for
   * `claimMs` (its next attempt moves there) before it is sent. On Postgres the rows are locked with
   * FOR UPDATE SKIP LOCKED, so two servers claiming at once take different deliveries and never wait
   * on each other. A server that dies mid-send leaves its claim to expire: the delivery is retried.
   */
  async claimDueDeliveries(now: number, limit: number, claimMs: number): Promise<AlertDelivery[]> {
    // Asked every second, and nearly always nothing is due: a plain read first, so an idle server does
    // not take the write lock (SQLite) or open a write transaction (Postgres) once a second.
    const anyDue = await dbOf(this.store)
      .selectFrom("alert_deliveries")
      .select("id")
      .where("status", "=", "pending")
      .where("next_attempt_at", "<=", now)
      .limit(1)
      .executeTakeFirst();
    if (!anyDue) return [];
    return this.store.transaction(async (tx) => {
      const db = dbOf(this.store, tx);
      let query = db
        .selectFrom("alert_deliveries")
        .selectAll()
        .where("status", "=", "pending")
        .where("next_attempt_at", "<=", now)
        .orderBy("next_attempt_at")
        .limit(limit);
      if (this.store.dialect === "postgres") query = query.forUpdate().skipLocked();
      const rows = await query.execute();
      if (rows.length === 0) return [];
      await db
        .updateTable("alert_deliveries")
        .set({ next_attempt_at: now + claimMs })
        .where(
          "id",
          "in",
          rows.map((r) => r.id),
        )
        .execute();
      return rows.map(toDelivery);
    });
  }

  async updateDelivery(d: AlertDelivery, tx?: Tx): Promise<void> {
    await dbOf(this.store, tx)
      .updateTable("alert_deliveries")
      .set({
        status: d.status,
        attempts: d.attempts,
        next_attempt_at: d.nextAttemptAt,
        last_error: d.lastError,
        delivered_at: d.deliveredAt,
      })
      .where("id", "=", d.id)
      .execute();
  }

  async deliveriesOf(alertId: string, tx?: Tx): Promise<AlertDelivery[]> {
    const rows = await dbOf(this.store, tx)
      .selectFrom("alert_deliveries")
      .selectAll()
      .where("alert_id", "=", alertId)
      .orderBy("created_at")
      .execute();
    return rows.map(toDelivery);
  }
}
