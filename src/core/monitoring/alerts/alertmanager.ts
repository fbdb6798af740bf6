/**
 * Alertmanager's webhook format (version 4), both ways: Tandem sends it to receivers, and accepts it
 * on POST /api/v1/projects/{project}/alerts so an existing Prometheus/Alertmanager can raise alerts.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import type { Alert, AlertReport } from "./model.js";

/** A stable fingerprint of an alert's labels (sorted), as Alertmanager computes one per label set. */
export function fingerprintOf(labels: Record<string, string>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join("\u0000");
  return createHash("sha256").update(sorted).digest("hex").slice(0, 16);
}

export const alertmanagerPayloadSchema = z.object({
  version: z.string().optional(),
  groupKey: z.string().optional(),
  status: z.enum(["firing", "resolved"]).optional(),
  receiver: z.string().optional(),
  groupLabels: z.record(z.string(), z.string()).optional(),
  commonLabels: z.record(z.string(), z.string()).optional(),
  commonAnnotations: z.record(z.string(), z.string()).optional(),
  externalURL: z.string().optional(),
  alerts: z
    .array(
      z.object({
        status: z.enum(["firing", "resolved"]),
        labels: z.record(z.string(), z.string()),
        annotations: z.record(z.string(), z.string()).optional(),
        startsAt: z.string().optional(),
        endsAt: z.string().optional(),
        generatorURL: z.string().optional(),
        fingerprint: z.string().optional(),
      }),
    )
    .min(1),
});
export type AlertmanagerPayload = z.infer<typeof alertmanagerPayloadSchema>;

function parseTime(value: string | undefined): number | undefined {
  if (!value || value.startsWith("0001-01-01")) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** Each alert of an incoming payload as a report; `alertname` becomes the Tandem alert's name. */
export function reportsFromAlertmanager(project: string, payload: AlertmanagerPayload): AlertReport[] {
  return payload.alerts.map((a) => {
    const { alertname, severity, ...labels } = a.labels;
    return {
      project,
      name: alertname ?? "alertmanager",
      source: "alertmanager" as const,
      status: a.status,
      labels,
      annotations: a.annotations ?? {},
      severity: severity ?? "warning",
      evidence: { generator_url: a.generatorURL ?? null, receiver: payload.receiver ?? null },
      at: parseTime(a.startsAt),
    };
  });
}

const ZERO_TIME = "0001-01-01T00:00:00Z";

/** The payload Tandem sends for one alert change. */
/** The web UI's page of one alert (web/src/pages/alert-detail.tsx): what a notification links to. */
export function alertUiUrl(externalUrl: string, alert: Pick<Alert, "project" | "id">): string {
  return `${externalUrl}/p/${encodeURIComponent(alert.project)}/alerts/${encodeURIComponent(alert.id)}`;
}

export function alertmanagerPayloadFor(
  alert: Alert,
  options: { externalUrl: string; receiver: string },
): AlertmanagerPayload {
  const labels = { alertname: alert.name, severity: alert.severity, project: alert.project, ...alert.labels };
  return {
    version: "4",
    groupKey: `{}:{alertname="${alert.name}"}`,
    status: alert.status,
    receiver: options.receiver,
    groupLabels: { alertname: alert.name },
    commonLabels: labels,
    commonAnnotations: alert.annotations,
    externalURL: options.externalUrl,
    alerts: [
      {
        status: alert.status,
        labels,
        annotations: alert.annotations,
        startsAt: new Date(alert.startsAt).toISOString(),
        endsAt: alert.endsAt ? new Date(alert.endsAt).toISOString() : ZERO_TIME,
        generatorURL: alertUiUrl(options.externalUrl, alert),
        fingerprint: alert.fingerprint,
      },
    ],
  };
}
