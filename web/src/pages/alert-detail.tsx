/**
 * One alert: where an Alertmanager notification's generatorURL leads (/p/<project>/alerts/<id>).
 * What fired, since when, on what evidence, what resolved it, which monitor or endpoint raised it,
 * the pipeline runs it started, and whether the notifications reached their receivers.
 */
import { useState } from "react";
import { post, projectPath } from "../api/client";
import type { AlertWire } from "../api/monitoring";
import { roleAtLeast } from "../api/types";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section } from "../components/status";
import { formatTime } from "../lib/format";
import { Link, projectHref } from "../lib/router";
import { useRole } from "../lib/session";
import { useApi } from "../lib/use-api";

interface DeliveryWire {
  id: string;
  receiver_id: string;
  alert_status: string;
  status: string;
  attempts: number;
  last_error: string | null;
  delivered_at: number | null;
}

export function AlertDetail({ project, id }: { project: string; id: string }) {
  const role = useRole();
  const alert = useApi<
    AlertWire & { deliveries: DeliveryWire[]; triggered_runs: Array<{ pipeline: string; run_id: string | null }> }
  >(projectPath(project, `/alerts/${encodeURIComponent(id)}`));
  const [error, setError] = useState<Error | null>(null);
  const a = alert.data;
  const ack = () =>
    post(projectPath(project, `/alerts/${encodeURIComponent(id)}/ack`), { comment: null }).then(
      () => alert.reload(),
      (e: Error) => setError(e),
    );
  return (
    <>
      <p>
        <Link href={projectHref(project, "monitoring")}>Monitoring</Link> / alert
      </p>
      <ErrorBox error={alert.error ?? error} />
      {alert.loading && !a && <Loading what="the alert" />}
      {a && (
        <>
          <h1>
            Alert {a.name} <span className={a.status === "firing" ? "error" : "ok"}>{a.status}</span>
          </h1>
          <dl className="facts" data-testid="alert-facts">
            <dt>Severity</dt>
            <dd>{a.severity}</dd>
            <dt>Since</dt>
            <dd>{formatTime(a.starts_at)}</dd>
            <dt>Ended</dt>
            <dd>{a.ends_at ? formatTime(a.ends_at) : "—"}</dd>
            <dt>Fired</dt>
            <dd>{a.fire_count} time(s)</dd>
            <dt>Source</dt>
            <dd>
              {a.labels.monitor ? (
                <Link href={projectHref(project, "monitoring", a.labels.monitor)}>monitor {a.labels.monitor}</Link>
              ) : a.labels.endpoint ? (
                <Link href={projectHref(project, "endpoints", a.labels.endpoint)}>endpoint {a.labels.endpoint}</Link>
              ) : (
                a.source
              )}
            </dd>
            <dt>Acknowledged</dt>
            <dd>
              {a.acked_by ? (
                `by ${a.acked_by} at ${formatTime(a.acked_at)}`
              ) : a.status === "firing" && roleAtLeast(role, "member") ? (
                <button type="button" className="secondary" onClick={() => void ack()}>
                  Acknowledge
                </button>
              ) : (
                "—"
              )}
            </dd>
          </dl>
          {a.annotations.summary && <p data-testid="alert-summary">{a.annotations.summary}</p>}
          <Section title="Labels" id="alert-labels">
            <pre className="logs small">{JSON.stringify(a.labels, null, 2)}</pre>
          </Section>
          <Section title="Evidence" id="alert-evidence">
            <pre className="logs small">{JSON.stringify(a.evidence, null, 2)}</pre>
          </Section>
          {a.resolution && (
            <Section title="Resolution" id="alert-resolution">
              <pre className="logs small">{JSON.stringify(a.resolution, null, 2)}</pre>
            </Section>
          )}
          <Section title="Pipelines started" id="alert-runs">
            {a.triggered_runs.length === 0 ? (
              <p className="muted">
                {a.triggered_at ? "No pipeline's triggers name this alert." : "The alert's triggers have not run yet."}
              </p>
            ) : (
              <ul data-testid="alert-runs">
                {a.triggered_runs.map((r) => (
                  <li key={r.pipeline}>
                    {r.pipeline}:{" "}
                    {r.run_id ? (
                      <Link href={projectHref(project, "pipeline-runs", r.run_id)}>run {r.run_id.slice(0, 12)}</Link>
                    ) : (
                      "no run"
                    )}
                  </li>
                ))}
              </ul>
            )}
          </Section>
          <Section title="Notifications" id="alert-deliveries">
            {a.deliveries.length === 0 ? (
              <p className="muted">No receivers were notified.</p>
            ) : (
              <DataTable
                caption="Webhook deliveries"
                testId="alert-deliveries-table"
                rows={a.deliveries}
                rowKey={(d) => d.id}
                columns={[
                  { key: "receiver", header: "Receiver", cell: (d) => d.receiver_id },
                  { key: "for", header: "For", cell: (d) => d.alert_status },
                  { key: "status", header: "Status", cell: (d) => d.status },
                  { key: "attempts", header: "Attempts", cell: (d) => d.attempts },
                  { key: "error", header: "Last error", cell: (d) => d.last_error ?? "—" },
                ]}
              />
            )}
          </Section>
        </>
      )}
    </>
  );
}
