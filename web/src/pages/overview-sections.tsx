/** The four views of the Overview (see overview-views.ts for who sees which first). */
import { useMemo } from "react";
import { projectPath, qs } from "../api/client";
import type { AlertWire } from "../api/monitoring";
import type { PipelineRunWire } from "../api/pipelines";
import { runDuration } from "../api/pipelines";
import type { DoraWire } from "../api/portal";
import type { RequestWire } from "../api/registry";
import type { EndpointWire } from "../api/serving";
import type { AuditEventWire } from "../api/types";
import { LineChart, type Series } from "../components/line-chart";
import { DataTable } from "../components/table";
import { ErrorBox, Section, Stat, StatusText } from "../components/status";
import { formatDuration, formatPercent, formatTime, shortId } from "../lib/format";
import { Link, projectHref } from "../lib/router";
import { useSession } from "../lib/session";
import { useApi } from "../lib/use-api";
import { incidentsSince, modelsInProduction, TREND_DAYS } from "./overview-views";

const DAY = 86_400_000;
const WEEK = 7 * DAY;
/** Monday 00:00 UTC of the week holding `t`, as `/dora` buckets its weeks. */
const weekStart = (t: number) => Math.floor((t + 3 * DAY) / WEEK) * WEEK - 3 * DAY;

export function EndpointsTable({ project, endpoints }: { project: string; endpoints: EndpointWire[] }) {
  return (
    <DataTable
      caption="Endpoints, their health and SLOs"
      testId="overview-endpoints"
      empty="No endpoints yet."
      rows={endpoints}
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
        {
          key: "slo_errors",
          header: "SLO: error rate increase ≤",
          cell: (e) => formatPercent(e.slo.max_error_rate_increase),
        },
        { key: "slo_p95", header: "SLO: p95 ≤ primary ×", cell: (e) => String(e.slo.max_p95_ratio) },
        {
          key: "canary",
          header: "Canary",
          cell: (e) => (e.canary && e.canary_version !== null ? `v${e.canary_version} on ${e.canary.percent}%` : "—"),
        },
      ]}
    />
  );
}

export function AlertsTable({ project, alerts, caption }: { project: string; alerts: AlertWire[]; caption: string }) {
  return (
    <DataTable
      caption={caption}
      testId="overview-alerts"
      empty="No open alerts."
      rows={alerts}
      rowKey={(a) => a.id}
      columns={[
        {
          key: "name",
          header: "Alert",
          cell: (a) => <Link href={projectHref(project, "alerts", a.id)}>{a.name}</Link>,
        },
        { key: "severity", header: "Severity", cell: (a) => a.severity },
        { key: "since", header: "Since", cell: (a) => formatTime(a.starts_at) },
        { key: "acked", header: "Acknowledged", cell: (a) => a.acked_by ?? "—" },
      ]}
    />
  );
}

export function OperationsView({
  project,
  endpoints,
  alerts,
}: {
  project: string;
  endpoints: EndpointWire[];
  alerts: AlertWire[];
}) {
  return (
    <div className="grid">
      <Section title="Endpoints and their SLOs" id="overview-endpoints">
        <EndpointsTable project={project} endpoints={endpoints} />
      </Section>
      <Section title="Open alerts" id="overview-alerts">
        <AlertsTable project={project} alerts={alerts} caption="Firing alerts" />
      </Section>
    </div>
  );
}

function AuditStatus({ project, latest }: { project: string; latest: AuditEventWire | null }) {
  const { me } = useSession();
  // Walking the whole chain is a site admin's right (GET /audit/verify); others see the latest link.
  const verify = useApi<{ ok: boolean; events: number; reason: string | null }>(
    me?.is_admin ? "/api/v1/audit/verify" : null,
  );
  return (
    <div data-testid="overview-audit-status">
      {me?.is_admin ? (
        <p>
          Hash chain:{" "}
          <strong data-testid="audit-verified">
            {verify.data
              ? verify.data.ok
                ? `intact (${verify.data.events} events)`
                : `broken: ${verify.data.reason}`
              : "…"}
          </strong>
        </p>
      ) : (
        <p className="small muted">
          Verifying the whole hash chain needs a site admin (<code>tandem audit verify</code>).
        </p>
      )}
      <p className="small">
        Latest event in {project}:{" "}
        {latest ? (
          <span data-testid="audit-latest">
            #{latest.seq} <code>{latest.action}</code> by {latest.actor} at {formatTime(latest.at)} (hash{" "}
            <code>{latest.hash.slice(0, 12)}</code>)
          </span>
        ) : (
          "none"
        )}
      </p>
      <Link href={projectHref(project, "audit")}>All audit events</Link>
    </div>
  );
}

export function GovernanceView({ project }: { project: string }) {
  const pending = useApi<{ requests: RequestWire[] }>(
    projectPath(project, `/promotion-requests${qs({ status: "pending" })}`),
  );
  // The route's largest page: policy changes are rare, so the latest 1000 events hold the recent ones.
  const audit = useApi<{ events: AuditEventWire[] }>(projectPath(project, `/audit${qs({ limit: 1000 })}`));
  const policyChanges = audit.data?.events.filter((e) => e.action === "policy.change").slice(0, 10) ?? [];
  return (
    <>
      <ErrorBox error={pending.error ?? audit.error} />
      <div className="stats">
        <Stat label="pending approvals" value={pending.data?.requests.length ?? "—"} testId="stat-pending-approvals" />
        <Stat
          label="policy changes (latest 1000 events)"
          value={audit.data ? policyChanges.length : "—"}
          testId="stat-policy-changes"
        />
      </div>
      <div className="grid">
        <Section title="Pending approvals" id="overview-approvals">
          <DataTable
            caption="Promotion requests awaiting approval"
            testId="overview-approvals"
            empty="Nothing awaits approval."
            rows={pending.data?.requests ?? []}
            rowKey={(r) => r.id}
            columns={[
              {
                key: "version",
                header: "Version",
                cell: (r) => (
                  <Link
                    href={projectHref(project, "models", r.model, String(r.version))}
                  >{`${r.model} v${r.version}`}</Link>
                ),
              },
              { key: "target", header: "To", cell: (r) => `${r.target.kind} ${r.target.name}` },
              { key: "policy", header: "Policy", cell: (r) => r.policy ?? "—" },
              { key: "by", header: "Requested by", cell: (r) => r.requested_by },
              { key: "at", header: "Since", cell: (r) => formatTime(r.created_at) },
            ]}
          />
        </Section>
        <Section title="Audit status" id="overview-audit">
          <AuditStatus project={project} latest={audit.data?.events[0] ?? null} />
        </Section>
      </div>
      <Section title="Recent policy changes" id="overview-policies">
        <DataTable
          caption="Recent policy changes"
          testId="overview-policies"
          empty="No policy changes recorded."
          rows={policyChanges}
          rowKey={(e) => String(e.seq)}
          columns={[
            { key: "at", header: "When", cell: (e) => formatTime(e.at) },
            { key: "actor", header: "By", cell: (e) => e.actor },
            {
              key: "policies",
              header: "Policies",
              cell: (e) => (Array.isArray(e.summary.policies) ? (e.summary.policies as string[]).join(", ") : "—"),
            },
          ]}
        />
      </Section>
    </>
  );
}

export function SummaryView({ project, endpoints }: { project: string; endpoints: EndpointWire[] | null }) {
  const dora = useApi<DoraWire>(projectPath(project, `/dora${qs({ since: `${TREND_DAYS}d` })}`));
  const alerts = useApi<{ alerts: AlertWire[] }>(projectPath(project, `/alerts${qs({ limit: 1000 })}`));
  const incidents = useMemo(
    () => (alerts.data && dora.data ? incidentsSince(alerts.data.alerts, dora.data.until) : null),
    [alerts.data, dora.data],
  );
  const trend = useMemo((): Series[] | null => {
    if (!dora.data || !incidents) return null;
    const weeks = dora.data.groups.all.weekly;
    const perWeek = new Map<number, number>(weeks.map((w) => [w.week_start, 0]));
    for (const a of incidents) {
      const w = weekStart(a.starts_at);
      if (perWeek.has(w)) perWeek.set(w, perWeek.get(w)! + 1);
    }
    return [
      { label: "deployments", points: weeks.map((w) => [w.week_start, w.deployments]) },
      { label: "failed deployments", points: weeks.map((w) => [w.week_start, w.failed]) },
      { label: "incidents", points: [...perWeek].map(([w, n]) => [w, n]) },
    ];
  }, [dora.data, incidents]);
  const all = dora.data?.groups.all;
  const models = endpoints ? modelsInProduction(endpoints) : null;
  return (
    <>
      <ErrorBox error={dora.error ?? alerts.error} />
      <div className="stats">
        <Stat label="models in production" value={models?.length ?? "—"} testId="stat-models-in-production" />
        <Stat label={`incidents (${TREND_DAYS} days)`} value={incidents?.length ?? "—"} testId="stat-incidents" />
        <Stat
          label={`change lead time (median, ${TREND_DAYS} days)`}
          value={all ? formatDuration(all.change_lead_time.median_ms) : "—"}
          testId="stat-lead-time"
        />
        <Stat
          label={`change fail rate (${TREND_DAYS} days)`}
          value={all ? formatPercent(all.change_fail_rate.rate) : "—"}
          testId="stat-fail-rate"
        />
      </div>
      {models && models.length > 0 && (
        <p className="small" data-testid="overview-models">
          In production:{" "}
          {models.map((m, i) => (
            <span key={m}>
              {i > 0 && ", "}
              <Link href={projectHref(project, "models", m)}>{m}</Link>
            </span>
          ))}
        </p>
      )}
      <Section title={`Trend over ${TREND_DAYS} days`} id="overview-trend">
        {trend && (
          <LineChart
            title="Per week: deployments, failed deployments and incidents"
            series={trend}
            xLabel="week"
            time
            testId="overview-trend-chart"
          />
        )}
        <p className="small">
          <Link href={projectHref(project, "dora")}>DORA metrics</Link> ·{" "}
          <Link href={projectHref(project, "maturity")}>maturity criteria</Link>
        </p>
      </Section>
    </>
  );
}

export function ActivityView({ project }: { project: string }) {
  const runs = useApi<{ runs: PipelineRunWire[] }>(projectPath(project, `/pipeline-runs${qs({ limit: 5 })}`));
  const audit = useApi<{ events: AuditEventWire[] }>(projectPath(project, `/audit${qs({ limit: 8 })}`));
  return (
    <>
      <ErrorBox error={runs.error ?? audit.error} />
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
