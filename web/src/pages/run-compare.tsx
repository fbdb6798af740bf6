import { useEffect, useMemo, useState } from "react";
import { getRun, metricHistory, metricValue, runName, type MlflowRun } from "../api/mlflow";
import { LineChart, type Series } from "../components/line-chart";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section } from "../components/status";
import { formatNumber } from "../lib/format";
import { Link, projectHref } from "../lib/router";

function MetricCurves({ project, runs, metric }: { project: string; runs: MlflowRun[]; metric: string }) {
  const [series, setSeries] = useState<Series[] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  useEffect(() => {
    setSeries(null);
    Promise.all(runs.map((r) => metricHistory(project, r.info.run_id, metric))).then(
      (histories) =>
        setSeries(
          histories.map((points, i) => ({
            label: runName(runs[i]!),
            points: points
              .sort((a, b) => a.step - b.step)
              .map((p): [number, number | null] => [p.step, metricValue(p)]),
          })),
        ),
      (e: Error) => setError(e),
    );
  }, [project, runs, metric]);
  if (error) return <ErrorBox error={error} />;
  if (!series) return <Loading what={`${metric} history`} />;
  return <LineChart title={`${metric} by step`} xLabel="step" series={series} testId="metric-chart" />;
}

export function RunCompare({ project, runIds }: { project: string; runIds: string[] }) {
  const [runs, setRuns] = useState<MlflowRun[] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [metric, setMetric] = useState<string | null>(null);
  const key = runIds.join(",");
  useEffect(() => {
    const ids = key.split(",").filter(Boolean);
    Promise.all(ids.map((id) => getRun(project, id).then((r) => r.run))).then(setRuns, (e: Error) => setError(e));
  }, [project, key]);

  const metricKeys = useMemo(
    () => [...new Set((runs ?? []).flatMap((r) => r.data.metrics.map((m) => m.key)))].sort(),
    [runs],
  );
  const paramKeys = useMemo(
    () => [...new Set((runs ?? []).flatMap((r) => r.data.params.map((p) => p.key)))].sort(),
    [runs],
  );
  const chosen = metric ?? metricKeys[0] ?? null;
  const back = projectHref(project, "experiments") + (runs?.[0] ? `?experiment=${runs[0].info.experiment_id}` : "");

  const sideBySide = (title: string, keys: string[], value: (r: MlflowRun, k: string) => string, testId: string) => (
    <DataTable
      caption={title}
      testId={testId}
      rows={keys}
      rowKey={(k) => k}
      columns={[
        { key: "key", header: "Name", cell: (k) => <code>{k}</code> },
        ...(runs ?? []).map((r) => ({
          key: r.info.run_id,
          header: runName(r),
          cell: (k: string) => {
            const v = value(r, k);
            const differs = new Set((runs ?? []).map((o) => value(o, k))).size > 1;
            return differs ? <strong>{v}</strong> : v;
          },
        })),
      ]}
    />
  );

  return (
    <>
      <h1>Compare runs</h1>
      <p>
        <Link href={back}>Back to the runs</Link>
      </p>
      <ErrorBox error={error} />
      {!runs && !error && <Loading what="runs" />}
      {runs && (
        <>
          <Section title="Metric curves" id="curves">
            {metricKeys.length === 0 ? (
              <p className="muted">These runs logged no metrics.</p>
            ) : (
              <>
                <label className="field">
                  <span>Metric</span>
                  <select value={chosen ?? ""} onChange={(e) => setMetric(e.target.value)}>
                    {metricKeys.map((k) => (
                      <option key={k}>{k}</option>
                    ))}
                  </select>
                </label>
                {chosen && <MetricCurves project={project} runs={runs} metric={chosen} />}
              </>
            )}
          </Section>
          <Section title="Parameters" id="params">
            {sideBySide(
              "Parameters side by side (differences in bold)",
              paramKeys,
              (r, k) => r.data.params.find((p) => p.key === k)?.value ?? "—",
              "params-table",
            )}
          </Section>
          <Section title="Latest metrics" id="metrics">
            {sideBySide(
              "Latest metric values side by side",
              metricKeys,
              (r, k) => formatNumber(metricValue(r.data.metrics.find((m) => m.key === k))),
              "metrics-table",
            )}
          </Section>
        </>
      )}
    </>
  );
}
