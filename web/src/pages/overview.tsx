import { projectPath, qs } from "../api/client";
import type { PipelineRunWire } from "../api/pipelines";
import { runDuration } from "../api/pipelines";
import type { AlertWire } from "../api/monitoring";
import type { DeploymentWire, EndpointWire } from "../api/serving";
import type { AuditEventWire } from "../api/types";
import { DataTable } from "../components/table";
import { ErrorBox, Section, Stat, StatusText } from "../components/status";
import { formatDuration, formatTime, shortId } from "../lib/format";
import { Link, projectHref } from "../lib/router";
import { useApi } from "../lib/use-api";

const DAY = 86_400_000;

/** Deployments per week over the last 28 days (DORA's deployment frequency), successful ones only. */
export function deploymentsPerWeek(deployments: DeploymentWire[], now = Date.now()): number {
  const recent = deployments.filter((d) => d.outcome === "succeeded" && d.started_at > now - 28 * DAY);
  return recent.length / 4;
}

export function OverviewPage({ project }: { project: string }) {
  const endpoints = useApi<{ endpoints: EndpointWire[] }>(projectPath(project, "/endpoints"));
  const alerts = useApi<{ alerts: AlertWire[] }>(
    projectPath(project, `/alerts${qs({ status: "firing", limit: 100 })}`),
  );
  const runs = useApi<{ runs: PipelineRunWire[] }>(projectPath(project, `/pipeline-runs${qs({ limit: 5 })}`));
  const deployments = useApi<{ deployments: DeploymentWire[] }>(
    projectPath(project, `/deployments${qs({ limit: 1000 })}`),
  );
  const audit = useApi<{ events: AuditEventWire[] }>(projectPath(project, `/audit${qs({ limit: 8 })}`));
  const maturity = useApi<{ level: number; passed: number; total: number }>(projectPath(project, "/maturity"));
  const healthy = endpoints.data?.endpoints.filter((e) => e.status === "serving").length;
  return (
    <>
      <h1>Overview of {project}</h1>
      <div className="stats">
        <Stat label="endpoints" value={endpoints.data?.endpoints.length ?? "—"} testId="stat-endpoints" />
        <Stat label="serving normally" value={healthy ?? "—"} testId="stat-healthy" />
        <Stat label="open alerts" value={alerts.data?.alerts.length ?? "—"} testId="stat-alerts" />
        <Stat
          label="deployments / week (28 days)"
          value={deployments.data ? deploymentsPerWeek(deployments.data.deployments) : "—"}
          testId="stat-deploy-frequency"
        />
        <Stat label="MLOps maturity level" value={maturity.data?.level ?? "—"} testId="stat-maturity" />
      </div>
      <p className="muted small" data-testid="overview-maturity">
        {maturity.data ? (
          <>
            MLOps maturity: level {maturity.data.level} of 2 ({maturity.data.passed}/{maturity.data.total} criteria met,
            graded from what ran; <Link href={projectHref(project, "maturity")}>each criterion and its evidence</Link>
            ).
          </>
        ) : (
          "MLOps maturity: —"
        )}
      </p>
      <ErrorBox error={endpoints.error ?? alerts.error ?? runs.error ?? deployments.error} />
      <div className="grid">
        <Section title="Endpoints" id="overview-endpoints">
          <DataTable
            caption="Endpoints and their health"
            testId="overview-endpoints"
            empty="No endpoints yet."
            rows={endpoints.data?.endpoints ?? []}
            rowKey={(e) => e.name}
            columns={[
              {
                key: "name",
                header: "Endpoint",
                cell: (e) => <Link href={projectHref(project, "endpoints", e.name)}>{e.name}</Link>,
              },
              { key: "status", header: "Status", cell: (e) => e.status },
              {
                key: "version",
                header: "Serving",
                cell: (e) => (e.primary_version !== null ? `v${e.primary_version}` : "—"),
              },
            ]}
          />
        </Section>
        <Section title="Open alerts" id="overview-alerts">
          <DataTable
            caption="Firing alerts"
            testId="overview-alerts"
            empty="No open alerts."
            rows={alerts.data?.alerts ?? []}
            rowKey={(a) => a.id}
            columns={[
              {
                key: "name",
                header: "Alert",
                cell: (a) => <Link href={projectHref(project, "monitoring")}>{a.name}</Link>,
              },
              { key: "severity", header: "Severity", cell: (a) => a.severity },
              { key: "since", header: "Since", cell: (a) => formatTime(a.starts_at) },
            ]}
          />
        </Section>
      </div>
      <Section title="Latest pipeline runs" id="overview-runs">
        <DataTable
          caption="Latest pipeline runs"
          testId="overview-runs"
          empty="No pipeline runs yet."
          rows={runs.data?.runs ?? []}
          rowKey={(r) => r.id}
          columns={[
            {
              key: "id",
              header: "Run",
              cell: (r) => <Link href={projectHref(project, "pipeline-runs", r.id)}>{shortId(r.id)}</Link>,
            },
            { key: "pipeline", header: "Pipeline", cell: (r) => r.pipeline },
            { key: "status", header: "Status", cell: (r) => <StatusText status={r.status} /> },
            { key: "created", header: "Created", cell: (r) => formatTime(r.created_at) },
            { key: "duration", header: "Duration", cell: (r) => formatDuration(runDuration(r)) },
          ]}
        />
      </Section>
      <Section title="Recent activity" id="recent-activity">
        <ErrorBox error={audit.error} />
        <DataTable
          caption="Recent audit events"
          rows={audit.data?.events ?? []}
          rowKey={(e) => String(e.seq)}
          columns={[
            { key: "at", header: "When", cell: (e) => formatTime(e.at) },
            { key: "actor", header: "Actor", cell: (e) => e.actor },
            { key: "action", header: "Action", cell: (e) => <code>{e.action}</code> },
            { key: "target", header: "Target", cell: (e) => <span className="wrap">{e.target}</span> },
          ]}
        />
      </Section>
    </>
  );
}
