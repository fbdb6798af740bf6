import { useEffect, useMemo, useState, type FormEvent } from "react";
import { searchRuns, metricValue, runName, type MlflowRun } from "../api/mlflow";
import { DataTable, type Column } from "../components/table";
import { ErrorBox, Loading, Section } from "../components/status";
import { formatDuration, formatNumber, formatTime } from "../lib/format";
import { Link, projectHref, setQueryParam, useLocation } from "../lib/router";

/** Columns shown before anyone picks: the first few metrics, no params. */
const DEFAULT_METRIC_COLUMNS = 4;

function ColumnChooser({
  all,
  shown,
  setShown,
}: {
  all: string[];
  shown: Set<string>;
  setShown(s: Set<string>): void;
}) {
  return (
    <details className="chooser">
      <summary>
        Columns ({shown.size} of {all.length})
      </summary>
      <fieldset>
        <legend className="sr-only">Metric and parameter columns</legend>
        {all.map((c) => (
          <label key={c} className="check">
            <input
              type="checkbox"
              checked={shown.has(c)}
              onChange={(e) => {
                const next = new Set(shown);
                if (e.target.checked) next.add(c);
                else next.delete(c);
                setShown(next);
              }}
            />
            <span>{c}</span>
          </label>
        ))}
      </fieldset>
    </details>
  );
}

export function ExperimentRuns({ project, experimentId }: { project: string; experimentId: string }) {
  const url = useLocation();
  const filter = url.searchParams.get("filter") ?? "";
  const [draft, setDraft] = useState(filter);
  const [runs, setRuns] = useState<MlflowRun[] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [shown, setShown] = useState<Set<string> | null>(null);

  useEffect(() => {
    setRuns(null);
    searchRuns(project, {
      experiment_ids: [experimentId],
      filter: filter || undefined,
      max_results: 200,
      order_by: ["attributes.start_time DESC"],
    }).then(
      (r) => {
        setRuns(r.runs ?? []);
        setError(null);
      },
      (e: Error) => {
        setRuns([]);
        setError(e);
      },
    );
  }, [project, experimentId, filter]);

  const keys = useMemo(() => {
    const metrics = new Set<string>();
    const params = new Set<string>();
    for (const r of runs ?? []) {
      r.data.metrics.forEach((m) => metrics.add(m.key));
      r.data.params.forEach((p) => params.add(p.key));
    }
    return { metrics: [...metrics].sort(), params: [...params].sort() };
  }, [runs]);
  const all = [...keys.metrics.map((k) => `metrics.${k}`), ...keys.params.map((k) => `params.${k}`)];
  const visible = shown ?? new Set(keys.metrics.slice(0, DEFAULT_METRIC_COLUMNS).map((k) => `metrics.${k}`));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setQueryParam("filter", draft.trim());
  };
  const toggle = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  };

  const columns: Column<MlflowRun>[] = [
    {
      key: "select",
      header: <span className="sr-only">Select for comparison</span>,
      cell: (r) => (
        <input
          type="checkbox"
          aria-label={`Select ${runName(r)}`}
          checked={selected.has(r.info.run_id)}
          onChange={(e) => toggle(r.info.run_id, e.target.checked)}
        />
      ),
    },
    { key: "name", header: "Run", cell: (r) => <span title={r.info.run_id}>{runName(r)}</span> },
    { key: "status", header: "Status", cell: (r) => r.info.status },
    { key: "start", header: "Started", cell: (r) => formatTime(r.info.start_time) },
    {
      key: "duration",
      header: "Duration",
      cell: (r) => formatDuration(r.info.end_time ? r.info.end_time - r.info.start_time : null),
    },
    ...all
      .filter((c) => visible.has(c))
      .map((c): Column<MlflowRun> => {
        const [kind, ...rest] = c.split(".");
        const key = rest.join(".");
        return kind === "metrics"
          ? {
              key: c,
              header: c,
              numeric: true,
              cell: (r) => formatNumber(metricValue(r.data.metrics.find((m) => m.key === key))),
            }
          : { key: c, header: c, cell: (r) => r.data.params.find((p) => p.key === key)?.value ?? "—" };
      }),
  ];
  const compareHref = `${projectHref(project, "experiments", "compare")}?runs=${[...selected].join(",")}`;

  return (
    <Section title="Runs" id="runs">
      <form className="row" onSubmit={submit} role="search">
        <label className="field grow">
          <span>Filter (MLflow search syntax, e.g. metrics.accuracy &gt; 0.8 and params.lr = &apos;0.1&apos;)</span>
          <input type="search" value={draft} onChange={(e) => setDraft(e.target.value)} data-testid="run-filter" />
        </label>
        <button type="submit">Search</button>
      </form>
      <div className="row">
        <ColumnChooser all={all} shown={visible} setShown={setShown} />
        {selected.size >= 2 ? (
          <Link href={compareHref} className="button-link" data-testid="compare-link">
            Compare {selected.size} runs
          </Link>
        ) : (
          <span className="muted">Select two or more runs to compare them.</span>
        )}
      </div>
      <ErrorBox error={error} />
      {runs === null ? (
        <Loading what="runs" />
      ) : (
        <DataTable
          caption="Runs of the experiment"
          testId="runs-table"
          rows={runs}
          rowKey={(r) => r.info.run_id}
          columns={columns}
        />
      )}
    </Section>
  );
}
