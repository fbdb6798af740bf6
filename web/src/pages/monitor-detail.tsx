import { useMemo, useState } from "react";
import { post, projectPath, qs } from "../api/client";
import { checkOf, detailNumber, driftColumns, type MonitorResultWire, type MonitorWire } from "../api/monitoring";
import { roleAtLeast } from "../api/types";
import { LineChart, type Series } from "../components/line-chart";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section } from "../components/status";
import { formatTime } from "../lib/format";
import { Link, projectHref } from "../lib/router";
import { useRole } from "../lib/session";
import { useApi } from "../lib/use-api";
import { WindowEvidence } from "./monitor-window";

/** One series per key, over the windows (oldest first), from a value picked out of each result. */
function seriesOver(
  results: MonitorResultWire[],
  keys: string[],
  pick: (r: MonitorResultWire, key: string) => number | null,
): Series[] {
  return keys.map((key) => ({
    label: key,
    points: results.map((r): [number, number | null] => [r.window_end, pick(r, key)]),
  }));
}

export function MonitorDetail({ project, name }: { project: string; name: string }) {
  const role = useRole();
  const base = `/monitors/${encodeURIComponent(name)}`;
  const monitor = useApi<MonitorWire>(projectPath(project, base));
  const results = useApi<{ results: MonitorResultWire[] }>(
    projectPath(project, `${base}/results${qs({ limit: 200 })}`),
  );
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const ordered = useMemo(() => [...(results.data?.results ?? [])].reverse(), [results.data]);

  const charts = useMemo(() => {
    const features = [...new Set(ordered.flatMap((r) => driftColumns(checkOf(r, "data_drift")).map((c) => c.name)))];
    const drift = seriesOver(
      ordered,
      features,
      (r, f) => driftColumns(checkOf(r, "data_drift")).find((c) => c.name === f)?.statistic ?? null,
    );
    const quality = seriesOver(
      ordered,
      ["performance", "fairness"].filter((k) => ordered.some((r) => detailNumber(checkOf(r, k), "value") !== null)),
      (r, k) => detailNumber(checkOf(r, k), "value"),
    );
    const latency = seriesOver(ordered, ordered.some((r) => checkOf(r, "latency")) ? ["p95 ms"] : [], (r) =>
      detailNumber(checkOf(r, "latency"), "p95_ms"),
    );
    const errors = seriesOver(ordered, ordered.some((r) => checkOf(r, "error_rate")) ? ["error rate"] : [], (r) =>
      detailNumber(checkOf(r, "error_rate"), "error_rate"),
    );
    const rows = seriesOver(ordered, ["rows"], (r) => r.rows);
    return { drift, quality, latency, errors, rows };
  }, [ordered]);

  const runNow = () =>
    post(projectPath(project, `${base}/run`), {}).then(
      () => {
        setError(null);
        results.reload();
        monitor.reload();
      },
      (e: Error) => setError(e),
    );

  const newest = results.data?.results[0] ?? null;
  const shown = results.data?.results.find((r) => r.id === selected) ?? newest;
  return (
    <>
      <p>
        <Link href={projectHref(project, "monitoring")}>All monitors</Link>
      </p>
      <h1>Monitor {name}</h1>
      <ErrorBox error={monitor.error ?? results.error ?? error} />
      {monitor.data && (
        <p>
          Watches{" "}
          {monitor.data.endpoint ? `endpoint ${monitor.data.endpoint}` : `dataset ${monitor.data.dataset ?? "—"}`}{" "}
          against <code>{monitor.data.reference ?? "an earlier window"}</code>
          {monitor.data.schedule && (
            <>
              {" "}
              on schedule <code>{monitor.data.schedule}</code>
            </>
          )}
          . Last run {formatTime(monitor.data.last_run_at)}.{" "}
          {roleAtLeast(role, "member") && (
            <button type="button" className="secondary" onClick={() => void runNow()}>
              Run now
            </button>
          )}
        </p>
      )}
      {!results.data && !results.error && <Loading what="results" />}
      {results.data && results.data.results.length === 0 && <p className="muted">No results yet.</p>}
      {results.data && results.data.results.length > 0 && (
        <>
          <div className="grid">
            {charts.drift.length > 0 && (
              <Section title="Drift statistic per feature" id="drift-over-time">
                <LineChart
                  title="Drift statistic by window"
                  xLabel="window end"
                  time
                  series={charts.drift}
                  testId="drift-chart"
                />
              </Section>
            )}
            {charts.quality.length > 0 && (
              <Section title="Performance and fairness" id="quality-over-time">
                <LineChart
                  title="Metric value by window"
                  xLabel="window end"
                  time
                  series={charts.quality}
                  testId="quality-chart"
                />
              </Section>
            )}
            {charts.latency.length > 0 && (
              <Section title="Latency" id="latency-over-time">
                <LineChart title="p95 latency (ms) by window" xLabel="window end" time series={charts.latency} />
              </Section>
            )}
            {charts.errors.length > 0 && (
              <Section title="Errors" id="errors-over-time">
                <LineChart title="Error rate by window" xLabel="window end" time series={charts.errors} />
              </Section>
            )}
            <Section title="Traffic" id="rows-over-time">
              <LineChart title="Rows per window" xLabel="window end" time series={charts.rows} />
            </Section>
          </div>
          <Section title="Windows" id="windows">
            <DataTable
              caption="Monitor results, newest window first"
              testId="results-table"
              rows={results.data.results}
              rowKey={(r) => r.id}
              columns={[
                {
                  key: "window",
                  header: "Window end",
                  cell: (r) => (
                    <button
                      type="button"
                      className="linkish"
                      aria-pressed={shown?.id === r.id}
                      onClick={() => setSelected(r.id)}
                    >
                      {formatTime(r.window_end)}
                    </button>
                  ),
                },
                {
                  key: "status",
                  header: "Status",
                  cell: (r) => (
                    <span className={r.status === "failing" ? "error" : r.status === "ok" ? "ok" : "warn"}>
                      {r.status}
                    </span>
                  ),
                },
                {
                  key: "rows",
                  header: "Rows",
                  numeric: true,
                  cell: (r) => (r.sampled ? `${r.rows} (sampled: ${r.sampled.rows} of ${r.sampled.of})` : r.rows),
                },
                { key: "labelled", header: "Labelled", numeric: true, cell: (r) => r.labelled_rows },
                {
                  key: "failed",
                  header: "Failed checks",
                  cell: (r) =>
                    r.checks
                      .filter((c) => !c.passed)
                      .map((c) => c.check)
                      .join(", ") || "—",
                },
              ]}
            />
          </Section>
          {shown && <WindowEvidence key={shown.id} result={shown} />}
        </>
      )}
    </>
  );
}
