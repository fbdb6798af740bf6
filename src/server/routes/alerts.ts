import { z } from "zod";
import { alertmanagerPayloadSchema, reportsFromAlertmanager } from "../../core/monitoring/alerts/alertmanager.js";
import type { Alert, AlertDelivery, AlertReceiver } from "../../core/monitoring/alerts/model.js";
import type { AlertService } from "../../core/monitoring/alerts/service.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";

declare module "../services.js" {
  interface Services {
    alerts: AlertService;
  }
}

const alertWire = z.object({
  id: z.string(),
  project: z.string(),
  name: z.string(),
  fingerprint: z.string(),
  status: z.enum(["firing", "resolved"]),
  severity: z.string(),
  source: z.string(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  evidence: z.record(z.string(), z.unknown()),
  resolution: z.record(z.string(), z.unknown()).nullable(),
  starts_at: z.number(),
  ends_at: z.number().nullable(),
  updated_at: z.number(),
  fire_count: z.number(),
  acked_by: z.string().nullable(),
  acked_at: z.number().nullable(),
  ack_comment: z.string().nullable(),
  triggered_at: z.number().nullable(),
});
const deliveryWire = z.object({
  id: z.string(),
  receiver_id: z.string(),
  alert_status: z.string(),
  status: z.string(),
  attempts: z.number(),
  next_attempt_at: z.number(),
  last_error: z.string().nullable(),
  delivered_at: z.number().nullable(),
});
const receiverWire = z.object({ id: z.string(), url: z.string(), has_token: z.boolean(), created_at: z.number() });

export const alertToWire = (a: Alert) => ({
  id: a.id,
  project: a.project,
  name: a.name,
  fingerprint: a.fingerprint,
  status: a.status,
  severity: a.severity,
  source: a.source,
  labels: a.labels,
  annotations: a.annotations,
  evidence: a.evidence,
  resolution: a.resolution,
  starts_at: a.startsAt,
  ends_at: a.endsAt,
  updated_at: a.updatedAt,
  fire_count: a.fireCount,
  acked_by: a.ackedBy,
  acked_at: a.ackedAt,
  ack_comment: a.ackComment,
  triggered_at: a.triggeredAt,
});
const deliveryToWire = (d: AlertDelivery) => ({
  id: d.id,
  receiver_id: d.receiverId,
  alert_status: d.alertStatus,
  status: d.status,
  attempts: d.attempts,
  next_attempt_at: d.nextAttemptAt,
  last_error: d.lastError,
  delivered_at: d.deliveredAt,
});
const receiverToWire = (r: AlertReceiver) => ({ id: r.id, url: r.url, has_token: r.hasToken, created_at: r.createdAt });

const projectParams = z.object({ project: z.string() });
const alertParams = z.object({ project: z.string(), id: z.string() });

export const alertRoutes: AnyRoute[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/alerts",
    summary: "A project's alerts, newest first.",
    tags: ["alerts"],
    auth: "bearer",
    role: "viewer",
    params: projectParams,
    query: z.object({
      status: z.enum(["firing", "resolved"]).optional(),
      name: z.string().optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
    response: z.object({ alerts: z.array(alertWire) }),
    handler: async ({ services, project, query }) => ({
      alerts: (await services.alerts.list(project, query)).map(alertToWire),
    }),
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/projects/:project/alerts",
    summary: "Raise or resolve alerts with Alertmanager's webhook payload (point an Alertmanager receiver here).",
    tags: ["alerts"],
    auth: "bearer",
    role: "member",
    params: projectParams,
    body: alertmanagerPayloadSchema,
    response: z.object({ alerts: z.array(alertWire), opened: z.number() }),
    handler: async ({ services, project, principal, body }) => {
      const results = [];
      let opened = 0;
      for (const report of reportsFromAlertmanager(project, body)) {
        const r = await services.alerts.report(principal.userName, report);
        if (r.opened) opened++;
        if (r.alert) results.push(alertToWire(r.alert));
      }
      return { alerts: results, opened };
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/alerts/:id",
    summary: "One alert with its evidence and notification deliveries.",
    tags: ["alerts"],
    auth: "bearer",
    role: "viewer",
    params: alertParams,
    response: alertWire.extend({
      deliveries: z.array(deliveryWire),
      /** The pipeline runs the alert's `triggers:` started (run_id null: recorded before runs were kept). */
      triggered_runs: z.array(z.object({ pipeline: z.string(), run_id: z.string().nullable() })),
    }),
    handler: async ({ services, project, params }) => {
      const alert = await services.alerts.get(project, params.id);
      const started = (await services.pipelineTriggers?.runsOf("alert", project, `alert:${alert.id}`)) ?? [];
      return {
        ...alertToWire(alert),
        deliveries: (await services.alerts.deliveries(alert.id)).map(deliveryToWire),
        triggered_runs: started.map((r) => ({ pipeline: r.pipeline, run_id: r.runId })),
      };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/projects/:project/alerts/:id/ack",
    summary: "Acknowledge an alert (it keeps firing until its condition clears).",
    tags: ["alerts"],
    auth: "bearer",
    role: "member",
    params: alertParams,
    body: z.object({ comment: z.string().max(2000).nullable().optional() }),
    response: alertWire,
    handler: async ({ services, project, params, principal, body }) =>
      alertToWire(await services.alerts.ack(principal.userName, project, params.id, body.comment ?? null)),
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/alert-receivers",
    summary: "Webhook receivers that get Alertmanager-style notifications.",
    tags: ["alerts"],
    auth: "bearer",
    role: "viewer",
    params: projectParams,
    response: z.object({ receivers: z.array(receiverWire) }),
    handler: async ({ services, project }) => ({
      receivers: (await services.alerts.listReceivers(project)).map(receiverToWire),
    }),
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/projects/:project/alert-receivers",
    summary: "Add a webhook receiver (optional bearer token, never shown again).",
    tags: ["alerts"],
    auth: "bearer",
    role: "admin",
    status: 201,
    params: projectParams,
    body: z.object({ url: z.string(), token: z.string().nullable().optional() }),
    response: receiverWire,
    handler: async ({ services, project, principal, body }) =>
      receiverToWire(await services.alerts.addReceiver(principal.userName, project, body.url, body.token ?? null)),
  }),
  defineRoute({
    method: "DELETE",
    url: "/api/v1/projects/:project/alert-receivers/:id",
    summary: "Remove a webhook receiver.",
    tags: ["alerts"],
    auth: "bearer",
    role: "admin",
    params: alertParams,
    response: z.object({ removed: z.literal(true) }),
    handler: async ({ services, project, principal, params }) => {
      await services.alerts.removeReceiver(principal.userName, project, params.id);
      return { removed: true as const };
    },
  }),
];
