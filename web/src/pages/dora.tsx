/**
 * DORA's five software delivery metrics as `/dora` computes them, over model deployments (versions
 * reaching endpoints) and service deployments (recorded by CI), apart and together: the figures with
 * their performance band, a weekly chart of each, the bands with the year of the report they come
 * from, the definitions, and the deployments counted with how each was read.
 */
import { useMemo } from "react";
import { projectPath, qs } from "../api/client";
import type { DoraGroup, DoraGroupWire, DoraMetricId, DoraWire } from "../api/portal";
import { LineChart, type Series } from "../components/line-chart";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section } from "../components/status";
import { doraFigure } from "../lib/dora-format";
import { formatDuration, formatTime, shortId } from "../lib/format";
import { setQueryParam, useLocation } from "../lib/router";
import { useApi } from "../lib/use-api";

const HOUR = 3_600_000;
const GROUPS: Array<{ id: DoraGroup; label: string }> = [
  { id: "all", label: "All" },
  { id: "model", label: "Models" },
  { id: "service", label: "Services" },
];
const PERIODS = ["28d", "90d", "180d", "365d"];
const DAY = 24 * HOUR;

/** The hotfix window in whole days when it is (the default 7 days), else as a duration. */
const formatWindow = (ms: number) => (ms % DAY === 0 ? `${ms / DAY} days` : formatDuration(ms));

export function doraBand(g: DoraGroupWire, metric: DoraMetricId): string | null {
  return g[metric].band;
}

/** Each weekly chart: what it plots per week, in which unit (null weeks leave a gap). */
const CHARTS: Array<{ metric: DoraMetricId; title: string; y(w: DoraGroupWire["weekly"][number]): number | null }> = [
  { metric: "deployment_frequency", title: "Deployments per week", y: (w) => w.deployments },
  {
    metric: "change_lead_time",
    title: "Change lead time, weekly median (hours)",
    y: (w) => (w.lead_time_median_ms === null ? null : w.lead_time_median_ms / HOUR),
  },
  {
    metric: "change_fail_rate",
    title: "Change fail rate per week (%)",
    y: (w) => (w.deployments === 0 ? null : (100 * w.failed) / w.deployments),
  },
  {
    metric: "failed_deployment_recovery_time",
    title: "Failed deployment recovery time, weekly median (hours)",
    y: (w) => (w.recovery_median_ms === null ? null : w.recovery_median_ms / HOUR),
  },
  {
    metric: "deployment_rework_rate",
    title: "Deployment rework rate per week (%)",
    y: (w) => (w.deployments === 0 ? null : (100 * w.rework) / w.deployments),
  },
];

function WeeklyCharts({ d }: { d: DoraWire }) {
  const charts = useMemo(
    () =>
      CHARTS.map((c) => ({
        ...c,
        series: GROUPS.map((g): Series => ({
          label: g.label,
          points: d.groups[g.id].weekly.map((w) => [w.week_start, c.y(w)]),
        })),
      })),
    [d],
  );
  return (
    <div className="grid">
      {charts.map((c) => (
        <LineChart
          key={c.metric}
          title={c.title}
          series={c.series}
          xLabel="week"
          time
          testId={`dora-chart-${c.metric}`}
        />
      ))}
    </div>
  );
}

export function DoraPage({ project }: { project: string }) {
  // The period lives in the address (?since=), so a link to the page keeps it.
  const asked = useLocation().searchParams.get("since");
  const since = asked && PERIODS.includes(asked) ? asked : "90d";
  const dora = useApi<DoraWire>(projectPath(project, `/dora${qs({ since })}`));
  const d = dora.data;
  const names = new Map(d?.definitions.map((x) => [x.id, x.name]) ?? []);
  return (
    <>
      <h1>DORA for {project}</h1>
      <p className="muted small">
        DORA&apos;s software delivery metrics over everything the project ships: model versions reaching an
        endpoint&apos;s production traffic and service deployments CI records (<code>tandem deployments record</code>).
        Canary slots are checks, not deployments, and are not counted.
      </p>
      <label className="picker">
        Period{" "}
        <select value={since} onChange={(e) => setQueryParam("since", e.target.value)} data-testid="dora-since">
          {PERIODS.map((p) => (
            <option key={p} value={p}>
              last {p.replace("d", " days")}
            </option>
          ))}
        </select>
      </label>
      <ErrorBox error={dora.error} />
      {!d && !dora.error && <Loading what="DORA metrics" />}
      {d && (
        <>
          <p className="small" data-testid="dora-source">
            Bands from DORA&apos;s {d.report_year} Accelerate State of DevOps report · {formatTime(d.since)} to{" "}
            {formatTime(d.until)} · hotfix window {formatWindow(d.hotfix_window_ms)}
          </p>
          <Section title="The five metrics" id="dora-summary">
            <DataTable
              caption="DORA metrics for all, model and service deployments, with their band"
              testId="dora-summary"
              rows={d.definitions}
              rowKey={(m) => m.id}
              columns={[
                { key: "metric", header: "Metric", cell: (m) => m.name },
                ...GROUPS.map((g) => ({
                  key: g.id,
                  header: `${g.label} (${d.groups[g.id].deployments})`,
                  cell: (m: DoraWire["definitions"][number]) => {
                    const band = doraBand(d.groups[g.id], m.id);
                    return (
                      <span data-testid={`dora-${g.id}-${m.id}`} data-band={band ?? ""}>
                        {doraFigure(d.groups[g.id], m.id)}
                        {band && <span className="muted small"> · {band}</span>}
                      </span>
                    );
                  },
                })),
              ]}
            />
          </Section>
          <Section title="Week by week" id="dora-weekly">
            <WeeklyCharts d={d} />
          </Section>
          <Section title={`Performance bands (DORA ${d.report_year})`} id="dora-bands">
            <p className="small muted">
              The clusters DORA&apos;s {d.report_year} report found among its respondents. Change fail rate gives one
              typical rate per cluster (medium&apos;s is below high&apos;s): a measured rate takes the nearest. Rework
              rate has no bands.
            </p>
            <DataTable
              caption={`Performance bands of the ${d.report_year} DORA report`}
              testId="dora-bands"
              rows={d.definitions.filter((m) => m.bands !== null)}
              rowKey={(m) => m.id}
              columns={[
                { key: "metric", header: "Metric", cell: (m) => m.name },
                ...(["elite", "high", "medium", "low"] as const).map((b) => ({
                  key: b,
                  header: b,
                  cell: (m: DoraWire["definitions"][number]) => m.bands?.[b] ?? "—",
                })),
              ]}
            />
          </Section>
          <Section title="Definitions" id="dora-definitions">
            <dl className="definitions">
              {d.definitions.map((m) => (
                <div key={m.id} data-definition={m.id}>
                  <dt>{m.name}</dt>
                  <dd>{m.definition}</dd>
                  <dd className="small muted">Measured as: {m.measured_as}</dd>
                </div>
              ))}
            </dl>
          </Section>
          <Section title="Deployments counted" id="dora-deployments">
            <DataTable
              caption="Deployments counted, newest first, with how each was read"
              testId="dora-deployments"
              empty="No deployments in this period."
              rows={d.deployments}
              rowKey={(x) => x.id}
              columns={[
                { key: "at", header: "Started", cell: (x) => formatTime(x.started_at) },
                { key: "kind", header: "Kind", cell: (x) => x.kind },
                { key: "target", header: "Target", cell: (x) => x.target },
                { key: "reason", header: "Reason", cell: (x) => x.reason },
                { key: "outcome", header: "Outcome", cell: (x) => x.outcome },
                {
                  key: "failed",
                  header: names.get("change_fail_rate") ?? "Failed",
                  cell: (x) => (x.failed ? `failed: ${x.failed_because ?? ""}` : "—"),
                },
                { key: "rework", header: "Rework", cell: (x) => (x.rework ? "yes" : "—") },
                { key: "lead", header: "Lead time", cell: (x) => formatDuration(x.lead_time_ms) },
                { key: "id", header: "Id", cell: (x) => <code>{shortId(x.id)}</code> },
              ]}
            />
          </Section>
        </>
      )}
    </>
  );
}
