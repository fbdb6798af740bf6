import { useState } from "react";
import { post, projectPath, qs } from "../api/client";
import type { AlertWire, MonitorWire } from "../api/monitoring";
import { roleAtLeast } from "../api/types";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section } from "../components/status";
import { formatTime } from "../lib/format";
import { Link, projectHref } from "../lib/router";
import { useRole } from "../lib/session";
import { useApi } from "../lib/use-api";
import { MonitorDetail } from "./monitor-detail";

export function AlertsSection({ project, limit = 50 }: { project: string; limit?: number }) {
  const role = useRole();
  const alerts = useApi<{ alerts: AlertWire[] }>(projectPath(project, `/alerts${qs({ limit })}`));
  const [error, setError] = useState<Error | null>(null);
  const ack = (id: string) =>
    post(projectPath(project, `/alerts/${encodeURIComponent(id)}/ack`), { comment: null }).then(
      () => alerts.reload(),
      (e: Error) => setError(e),
    );
  return (
    <Section title="Alerts" id="alerts">
      <ErrorBox error={alerts.error ?? error} />
      {alerts.loading && !alerts.data && <Loading what="alerts" />}
      {alerts.data && alerts.data.alerts.length === 0 && <p className="muted">No alerts.</p>}
      {alerts.data && alerts.data.alerts.length > 0 && (
        <DataTable
          caption="Alerts, newest first"
          testId="alerts-table"
          rows={alerts.data.alerts}
          rowKey={(a) => a.id}
          columns={[
            {
              key: "name",
              header: "Alert",
              cell: (a) => <Link href={projectHref(project, "alerts", a.id)}>{a.name}</Link>,
            },
            {
              key: "status",
              header: "Status",
              cell: (a) => <span className={a.status === "firing" ? "error" : "ok"}>{a.status}</span>,
            },
            { key: "severity", header: "Severity", cell: (a) => a.severity },
            { key: "since", header: "Since", cell: (a) => formatTime(a.starts_at) },
            {
              key: "summary",
              header: "Summary",
              cell: (a) => a.annotations.summary ?? a.annotations.description ?? "",
            },
            {
              key: "evidence",
              header: "Evidence",
              cell: (a) => (
                <details>
                  <summary>Evidence</summary>
                  <pre className="logs small">{JSON.stringify(a.evidence, null, 2).slice(0, 4000)}</pre>
                </details>
              ),
            },
            {
              key: "ack",
              header: "Acknowledged",
              cell: (a) =>
                a.acked_by ? (
                  `by ${a.acked_by}`
                ) : a.status === "firing" && roleAtLeast(role, "member") ? (
                  <button type="button" className="secondary" onClick={() => void ack(a.id)}>
                    Acknowledge {a.name}
                  </button>
                ) : (
                  "—"
                ),
            },
          ]}
        />
      )}
    </Section>
  );
}

function MonitorList({ project }: { project: string }) {
  const monitors = useApi<{ monitors: MonitorWire[] }>(projectPath(project, "/monitors"));
  return (
    <>
      <h1>Monitoring</h1>
      <Section title="Monitors" id="monitors">
        <ErrorBox error={monitors.error} />
        {monitors.loading && !monitors.data && <Loading what="monitors" />}
        {monitors.data && monitors.data.monitors.length === 0 && (
          <p className="muted">No monitors yet: declare them under monitors: in tandem.yaml.</p>
        )}
        {monitors.data && monitors.data.monitors.length > 0 && (
          <DataTable
            caption="Monitors"
            testId="monitors-table"
            rows={monitors.data.monitors}
            rowKey={(m) => m.name}
            columns={[
              {
                key: "name",
                header: "Monitor",
                cell: (m) => <Link href={projectHref(project, "monitoring", m.name)}>{m.name}</Link>,
              },
              {
                key: "watches",
                header: "Watches",
                cell: (m) => (m.endpoint ? `endpoint ${m.endpoint}` : m.dataset ? `dataset ${m.dataset}` : "—"),
              },
              {
                key: "checks",
                header: "Checks",
                cell: (m) => m.checks.map((c) => String(c.kind ?? Object.keys(c)[0] ?? "")).join(", "),
              },
              { key: "status", header: "Last result", cell: (m) => m.last_result?.status ?? "—" },
              { key: "last", header: "Last run", cell: (m) => formatTime(m.last_run_at) },
              { key: "next", header: "Next run", cell: (m) => formatTime(m.next_run_at) },
            ]}
          />
        )}
      </Section>
      <AlertsSection project={project} />
    </>
  );
}

export function MonitoringPage({ project, path = [] }: { project: string; path?: string[] }) {
  if (path[0]) return <MonitorDetail project={project} name={path[0]} />;
  return <MonitorList project={project} />;
}
