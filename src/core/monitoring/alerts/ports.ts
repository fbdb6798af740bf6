import type { Tx } from "../../ports.js";
import type { Alert, AlertDelivery, AlertReceiver, AlertStatus } from "./model.js";

export interface AlertStore {
  findOpen(project: string, fingerprint: string, tx?: Tx): Promise<Alert | null>;
  insert(alert: Alert, tx?: Tx): Promise<void>;
  update(alert: Alert, tx?: Tx): Promise<void>;
  get(project: string, id: string, tx?: Tx): Promise<Alert | null>;
  list(project: string, options: { status?: AlertStatus; name?: string; limit: number }, tx?: Tx): Promise<Alert[]>;
  /** Firing alerts whose triggers have not been started yet, across projects. */
  untriggered(limit: number, tx?: Tx): Promise<Alert[]>;
  markTriggered(id: string, at: number, tx?: Tx): Promise<boolean>;
  /** Firing alert counts by project and name, for /metrics. */
  firingCounts(tx?: Tx): Promise<Array<{ project: string; name: string; severity: string; count: number }>>;

  addReceiver(receiver: AlertReceiver, token: string | null, tx?: Tx): Promise<void>;
  listReceivers(project: string, tx?: Tx): Promise<AlertReceiver[]>;
  receiverToken(id: string, tx?: Tx): Promise<string | null>;
  removeReceiver(project: string, id: string, tx?: Tx): Promise<boolean>;

  insertDelivery(delivery: AlertDelivery, tx?: Tx): Promise<void>;
  /** Pending deliveries due at `now`, oldest first. */
  dueDeliveries(now: number, limit: number, tx?: Tx): Promise<AlertDelivery[]>;
  /** Due deliveries taken by this process, hidden from other servers for `claimMs` (see SqlAlertStore). */
  claimDueDeliveries(now: number, limit: number, claimMs: number): Promise<AlertDelivery[]>;
  updateDelivery(delivery: AlertDelivery, tx?: Tx): Promise<void>;
  deliveriesOf(alertId: string, tx?: Tx): Promise<AlertDelivery[]>;
  getReceiver(id: string, tx?: Tx): Promise<(AlertReceiver & { token: string | null }) | null>;
}

/** Sends one webhook; resolves with the HTTP status, rejects on a network error. */
export interface WebhookSender {
  send(url: string, body: unknown, headers: Record<string, string>): Promise<number>;
}

/** Starts the pipelines whose `triggers:` name this alert; one alert starts each pipeline at most once. */
export interface AlertTriggerSink {
  alertFired(alert: Alert): Promise<void>;
}
