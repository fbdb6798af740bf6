/**
 * An endpoint's request rate, p95 latency and error rate over time. The serving API has no time
 * series of its own, so these come from the results of the monitors that watch the endpoint (their
 * windows' row counts and latency / error_rate checks).
 */
import { useMemo } from "react";
import { projectPath, qs } from "../api/client";
import { checkOf, detailNumber, type MonitorResultWire, type MonitorWire } from "../api/monitoring";
import { LineChart, type Series } from "../components/line-chart";
import { ErrorBox, Loading, Section } from "../components/status";
import { Link, projectHref } from "../lib/router";
import { useApi } from "../lib/use-api";

function Charts({ project, monitor }: { project: string; monitor: string }) {
  const results = useApi<{ results: MonitorResultWire[] }>(
    projectPath(project, `/monitors/${encodeURIComponent(monitor)}/results${qs({ limit: 200 })}`),
  );
  const series = useMemo(() => {
    const ordered = [...(results.data?.results ?? [])].reverse();
    const over = (label: string, pick: (r: MonitorResultWire) => number | null): Series[] => [
      { label, points: ordered.map((r) => [r.window_end, pick(r)]) },
    ];
    return {
      rate: over("requests / s", (r) =>
        r.window_end > r.window_start ? r.rows / ((r.window_end - r.window_start) / 1000) : null,
      ),
      p95: over("p95 ms", (r) => detailNumber(checkOf(r, "latency"), "p95_ms")),
      errors: over("error rate", (r) => detailNumber(checkOf(r, "error_rate"), "error_rate")),
      hasLatency: ordered.some((r) => checkOf(r, "latency")),
      hasErrors: ordered.some((r) => checkOf(r, "error_rate")),
    };
  }, [results.data]);
  if (results.error) return <ErrorBox error={results.error} />;
  if (!results.data) return <Loading what="traffic" />;
  if (results.data.results.length === 0) return <p className="muted">Monitor {monitor} has no results yet.</p>;
  return (
    <>
      <p className="muted small">
        From the windows of monitor <Link href={projectHref(project, "monitoring", monitor)}>{monitor}</Link>.
      </p>
      <div className="grid">
        <LineChart title="Request rate" xLabel="window end" time series={series.rate} testId="endpoint-rate" />
        {series.hasLatency && (
          <LineChart title="p95 latency (ms)" xLabel="window end" time series={series.p95} testId="endpoint-latency" />
        )}
        {series.hasErrors && (
          <LineChart title="Error rate" xLabel="window end" time series={series.errors} testId="endpoint-errors" />
        )}
      </div>
    </>
  );
}

export function EndpointTraffic({ project, endpoint }: { project: string; endpoint: string }) {
  const monitors = useApi<{ monitors: MonitorWire[] }>(projectPath(project, "/monitors"));
  const watching = monitors.data?.monitors.find((m) => m.endpoint === endpoint) ?? null;
  return (
    <Section title="Traffic over time" id="traffic-over-time">
      <ErrorBox error={monitors.error} />
      {!monitors.data && !monitors.error && <Loading what="monitors" />}
      {monitors.data && !watching && (
        <p className="muted">
          No monitor watches this endpoint, so there is no traffic history: add one with latency and error_rate checks.
        </p>
      )}
      {watching && <Charts project={project} monitor={watching.name} />}
    </Section>
  );
}
