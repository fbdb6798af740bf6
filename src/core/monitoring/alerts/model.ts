/**
 * Glossary (DESIGN.md "Monitor", "Alert"):
 * - Alert: a named condition that is firing or resolved. Alerts are deduplicated by fingerprint (a hash
 *   of their labels), so a check that keeps failing updates one alert instead of opening many.
 * - Receiver: a URL that gets Alertmanager-compatible webhooks when alerts fire or resolve.
 * - Delivery: one attempt-tracked notification of one alert change to one receiver (an outbox row),
 *   retried with backoff until delivered or given up.
 * - Source: what raised the alert — a monitor, serving (a canary broke its SLO), or an external
 *   Alertmanager posting to Tandem.
 */
export type AlertStatus = "firing" | "resolved";
export type AlertSource = "monitor" | "serving" | "alertmanager" | "manual";
export type DeliveryStatus = "pending" | "delivered" | "failed";

export interface Alert {
  id: string;
  project: string;
  /** The alert's name (its `alertname` label); `triggers: [{alert: NAME}]` refers to it. */
  name: string;
  fingerprint: string;
  status: AlertStatus;
  severity: string;
  source: AlertSource;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** What fired it (the latest firing report): statistics, thresholds, the monitor result id. */
  evidence: Record<string, unknown>;
  /** What resolved it (the resolving report's evidence, e.g. the passing result's id); null while firing. */
  resolution: Record<string, unknown> | null;
  startsAt: number;
  endsAt: number | null;
  updatedAt: number;
  /** How many times the condition was reported while this alert was open. */
  fireCount: number;
  ackedBy: string | null;
  ackedAt: number | null;
  ackComment: string | null;
  /** When the pipelines with `triggers: [{alert: name}]` were started for this alert (null: not yet). */
  triggeredAt: number | null;
}

export interface AlertReceiver {
  id: string;
  project: string;
  url: string;
  /** Sent as `Authorization: Bearer …` when set; never shown again after creation. */
  hasToken: boolean;
  createdAt: number;
}

export interface AlertDelivery {
  id: string;
  alertId: string;
  receiverId: string;
  /** The alert status this delivery announces. */
  alertStatus: AlertStatus;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  deliveredAt: number | null;
  createdAt: number;
}

/** What a check or an external system reports. */
export interface AlertReport {
  project: string;
  name: string;
  source: AlertSource;
  status: AlertStatus;
  /** Labels beyond `alertname`, e.g. `{monitor: "flights-drift", endpoint: "flights-delay"}`. */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  severity?: string;
  evidence?: Record<string, unknown>;
  /** When it started (default now). */
  at?: number;
}
