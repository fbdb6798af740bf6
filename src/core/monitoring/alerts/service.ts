/**
 * Alerts: open (firing) → resolved, deduplicated by fingerprint; every change is audited, queued for
 * each receiver as an Alertmanager webhook (an outbox, so a crash never loses a notification), and a
 * newly firing alert starts the pipelines that name it in `triggers:` — the closed loop.
 */
import { InvalidInputError, NotFoundError } from "../../errors.js";
import type { AuditLog } from "../../governance/audit.js";
import { audited } from "../../governance/audited.js";
import { newId, nowMs } from "../../ids.js";
import type { MetadataStore, OutboundGuard } from "../../ports.js";
import { alertmanagerPayloadFor, fingerprintOf } from "./alertmanager.js";
import type { Alert, AlertDelivery, AlertReceiver, AlertReport, AlertStatus } from "./model.js";
import type { AlertStore, AlertTriggerSink, WebhookSender } from "./ports.js";
import type { Logger } from "../../logger.js";

/** Give up on a receiver after this many attempts (about 8.5 minutes of backoff in all). */
export const MAX_DELIVERY_ATTEMPTS = 8;
/** How long a claimed delivery stays hidden from other servers: longer than one send may take (default 60 s). */
const DELIVERY_CLAIM_MS = 60_000;
const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 5 * 60_000;

export function backoffMs(attempts: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

export interface AlertServiceOptions {
  metadata: MetadataStore;
  store: AlertStore;
  audit: AuditLog;
  sender: WebhookSender;
  /** Checks a receiver's URL when it is added (the sender checks again on every call). */
  outbound: OutboundGuard;
  /** The server's public URL, for links in notifications (default http://127.0.0.1:7300). */
  externalUrl: () => string;
  /** Where deliveries are logged (default: nowhere). */
  log?: Logger;
}

export class AlertService {
  /** Set by the pipelines wiring; null until then (alerts still fire, nothing is started). */
  triggerSink: AlertTriggerSink | null = null;

  constructor(private readonly options: AlertServiceOptions) {}

  private get store(): AlertStore {
    return this.options.store;
  }

  /** Records a firing or resolved condition; returns the alert it opened, updated or resolved. */
  async report(actor: string, report: AlertReport): Promise<{ alert: Alert | null; opened: boolean }> {
    if (!report.name.trim()) throw new InvalidInputError("an alert needs a name");
    const labels = { ...(report.labels ?? {}) };
    const fingerprint = fingerprintOf({ alertname: report.name, ...labels });
    const now = nowMs();
    const result = await audited(this.options.metadata, this.options.audit, async (tx, record) => {
      const open = await this.store.findOpen(report.project, fingerprint, tx);
      if (report.status === "resolved") {
        if (!open) return { alert: null, opened: false };
        const resolved: Alert = {
          ...open,
          status: "resolved",
          endsAt: report.at ?? now,
          updatedAt: now,
          // The firing evidence stays as it was: it says why the alert fired; the resolution is its own.
          resolution: report.evidence ?? {},
        };
        await this.store.update(resolved, tx);
        await this.enqueue(resolved, tx);
        await record({
          actor,
          project: report.project,
          action: "alert.resolve",
          target: `alert:${open.id}`,
          summary: { name: open.name },
        });
        return { alert: resolved, opened: false };
      }
      if (open) {
        const again: Alert = {
          ...open,
          fireCount: open.fireCount + 1,
          updatedAt: now,
          evidence: report.evidence ?? open.evidence,
          annotations: { ...open.annotations, ...(report.annotations ?? {}) },
        };
        await this.store.update(again, tx);
        return { alert: again, opened: false };
      }
      const alert: Alert = {
        id: newId(),
        project: report.project,
        name: report.name,
        fingerprint,
        status: "firing",
        severity: report.severity ?? "warning",
        source: report.source,
        labels,
        annotations: report.annotations ?? {},
        evidence: report.evidence ?? {},
        resolution: null,
        startsAt: report.at ?? now,
        endsAt: null,
        updatedAt: now,
        fireCount: 1,
        ackedBy: null,
        ackedAt: null,
        ackComment: null,
        triggeredAt: null,
      };
      await this.store.insert(alert, tx);
      await this.enqueue(alert, tx);
      await record({
        actor,
        project: report.project,
        action: "alert.fire",
        target: `alert:${alert.id}`,
        summary: { name: alert.name, source: alert.source, labels },
      });
      return { alert, opened: true };
    });
    if (result.opened && result.alert) await this.startTriggers(result.alert);
    return result;
  }

  private async enqueue(alert: Alert, tx: Parameters<AlertStore["insert"]>[1]): Promise<void> {
    const now = nowMs();
    for (const receiver of await this.store.listReceivers(alert.project, tx)) {
      const delivery: AlertDelivery = {
        id: newId(),
        alertId: alert.id,
        receiverId: receiver.id,
        alertStatus: alert.status,
        status: "pending",
        attempts: 0,
        nextAttemptAt: now,
        lastError: null,
        deliveredAt: null,
        createdAt: now,
      };
      await this.store.insertDelivery(delivery, tx);
    }
  }

  /** Starts the alert's pipelines once; safe to call again (a crash between firing and here is swept). */
  async startTriggers(alert: Alert): Promise<void> {
    if (!this.triggerSink) return;
    await this.triggerSink.alertFired(alert);
    await this.store.markTriggered(alert.id, nowMs());
  }

  /** Background sweep: firing alerts whose triggers were never started (the process died in between). */
  /** Starts the pipelines of alerts left untriggered; returns how many, and pushes each onto `swept` (for the log). */
  async sweepUntriggered(swept: Alert[] = []): Promise<number> {
    if (!this.triggerSink) return 0;
    const pending = await this.store.untriggered(20);
    for (const alert of pending) {
      await this.startTriggers(alert);
      swept.push(alert);
    }
    return pending.length;
  }

  async ack(actor: string, project: string, id: string, comment: string | null): Promise<Alert> {
    return audited(this.options.metadata, this.options.audit, async (tx, record) => {
      const alert = await this.store.get(project, id, tx);
      if (!alert) throw new NotFoundError(`alert ${id} does not exist in ${project}`);
      const acked: Alert = { ...alert, ackedBy: actor, ackedAt: nowMs(), ackComment: comment, updatedAt: nowMs() };
      await this.store.update(acked, tx);
      await record({ actor, project, action: "alert.ack", target: `alert:${id}`, summary: { comment } });
      return acked;
    });
  }

  async get(project: string, id: string): Promise<Alert> {
    const alert = await this.store.get(project, id);
    if (!alert) throw new NotFoundError(`alert ${id} does not exist in ${project}`);
    return alert;
  }

  list(project: string, options: { status?: AlertStatus; name?: string; limit?: number } = {}): Promise<Alert[]> {
    return this.store.list(project, { ...options, limit: options.limit ?? 100 });
  }

  deliveries(alertId: string): Promise<AlertDelivery[]> {
    return this.store.deliveriesOf(alertId);
  }

  firingCounts() {
    return this.store.firingCounts();
  }

  async addReceiver(actor: string, project: string, url: string, token: string | null): Promise<AlertReceiver> {
    await this.options.outbound.check(url, "alert receiver");
    const receiver: AlertReceiver = {
      id: newId().slice(0, 12),
      project,
      url,
      hasToken: token !== null,
      createdAt: nowMs(),
    };
    await audited(this.options.metadata, this.options.audit, async (tx, record) => {
      await this.store.addReceiver(receiver, token, tx);
      await record({
        actor,
        project,
        action: "alert.receiver.add",
        target: `receiver:${receiver.id}`,
        summary: { url },
      });
    });
    return receiver;
  }

  listReceivers(project: string): Promise<AlertReceiver[]> {
    return this.store.listReceivers(project);
  }

  async removeReceiver(actor: string, project: string, id: string): Promise<void> {
    await audited(this.options.metadata, this.options.audit, async (tx, record) => {
      if (!(await this.store.removeReceiver(project, id, tx))) throw new NotFoundError(`receiver ${id} does not exist`);
      await record({ actor, project, action: "alert.receiver.remove", target: `receiver:${id}` });
    });
  }

  /** Sends due notifications once; returns how many were attempted. Retries back off exponentially. */
  async deliverDue(now = nowMs()): Promise<number> {
    // Claimed for longer than a send can take (the sender's 10 s timeout), so no other server sends
    // the same delivery while this one is sending it.
    const due = await this.store.claimDueDeliveries(now, 50, DELIVERY_CLAIM_MS);
    for (const delivery of due) {
      const receiver = await this.store.getReceiver(delivery.receiverId);
      const alert = receiver ? await this.store.get(receiver.project, delivery.alertId) : null;
      if (!receiver || !alert) {
        await this.store.updateDelivery({
          ...delivery,
          status: "failed",
          lastError: "receiver or alert no longer exists",
        });
        continue;
      }
      const body = alertmanagerPayloadFor(
        { ...alert, status: delivery.alertStatus },
        { externalUrl: this.options.externalUrl(), receiver: receiver.id },
      );
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (receiver.token) headers.authorization = `Bearer ${receiver.token}`;
      let error: string | null = null;
      try {
        const status = await this.options.sender.send(receiver.url, body, headers);
        if (status < 200 || status >= 300) error = `HTTP ${status}`;
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      const attempts = delivery.attempts + 1;
      const ids = { project: alert.project, alert: alert.name, alert_id: alert.id, receiver_id: receiver.id, attempts };
      if (error === null) this.options.log?.info(ids, "alert notification delivered");
      else if (attempts >= MAX_DELIVERY_ATTEMPTS)
        this.options.log?.error({ ...ids, error }, "alert notification failed: giving up");
      else this.options.log?.warn({ ...ids, error }, "alert notification failed: will retry");
      if (error === null) {
        await this.store.updateDelivery({
          ...delivery,
          attempts,
          status: "delivered",
          deliveredAt: nowMs(),
          lastError: null,
        });
      } else {
        const giveUp = attempts >= MAX_DELIVERY_ATTEMPTS;
        await this.store.updateDelivery({
          ...delivery,
          attempts,
          status: giveUp ? "failed" : "pending",
          lastError: error,
          nextAttemptAt: now + backoffMs(attempts),
        });
      }
    }
    return due.length;
  }
}
