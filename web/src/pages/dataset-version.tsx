import { useMemo, useState } from "react";
import { projectPath } from "../api/client";
import {
  formatBytes,
  type ColumnProfileWire,
  type DatasetProfileWire,
  type DatasetVersionWire,
  type EntryWire,
} from "../api/data";
import { Histogram } from "../components/histogram";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section, Stat } from "../components/status";
import { formatNumber, formatPercent, formatSpread, formatStat } from "../lib/format";
import { Link, projectHref } from "../lib/router";
import { useApi } from "../lib/use-api";
import { DatasetQuerySection } from "./dataset-query";

function ColumnHistogram({ column }: { column: ColumnProfileWire }) {
  const bins = useMemo(() => {
    const h = column.histogram;
    if (h) return { labels: h.counts.map((_, i) => formatNumber(h.edges[i]!)), counts: h.counts };
    const top = column.frequent.slice(0, 20);
    return { labels: top.map((f) => String(f.value)), counts: top.map((f) => f.count) };
  }, [column]);
  const series = useMemo(() => [{ label: "rows", values: bins.counts }], [bins]);
  if (bins.labels.length === 0) return <p className="muted">No values to chart.</p>;
  return (
    <Histogram
      title={column.histogram ? `Distribution of ${column.name}` : `Most frequent values of ${column.name}`}
      bins={bins.labels}
      series={series}
      testId="column-histogram"
    />
  );
}

export function DatasetVersionPage({ project, name, version }: { project: string; name: string; version: string }) {
  const data = useApi<{ version: DatasetVersionWire; entries: EntryWire[]; profile: DatasetProfileWire | null }>(
    projectPath(project, `/datasets/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`),
  );
  const [column, setColumn] = useState<string | null>(null);
  const d = data.data;
  const files = Object.entries(d?.profile?.files ?? {});
  return (
    <>
      <p>
        <Link href={projectHref(project, "datasets", name)}>Dataset {name}</Link>
      </p>
      <h1>
        {name}@{version}
      </h1>
      <ErrorBox error={data.error} />
      {!d && !data.error && <Loading what="version" />}
      {d && (
        <>
          <div className="stats">
            <Stat label="files" value={d.version.file_count} testId="dataset-files" />
            <Stat label="size" value={formatBytes(d.version.total_bytes)} />
            <Stat label="rows" value={files.reduce((n, [, f]) => n + f.profile.row_count, 0)} testId="dataset-rows" />
          </div>
          <p className="small">
            Id <code className="wrap">{d.version.id}</code>
            {d.version.tags.length > 0 && <> · tags {d.version.tags.join(", ")}</>}
          </p>
          {files.map(([path, f]) => (
            <Section
              key={path}
              title={`Schema and statistics of ${path}`}
              id={`profile-${path.replace(/[^a-zA-Z0-9]/g, "-")}`}
            >
              <p className="muted small">
                {f.format}, {f.profile.row_count} rows
              </p>
              <DataTable
                caption={`Columns of ${path}`}
                testId="profile-table"
                rows={f.profile.columns}
                rowKey={(c) => c.name}
                columns={[
                  {
                    key: "name",
                    header: "Column",
                    cell: (c) => (
                      <button
                        type="button"
                        className="linkish"
                        aria-pressed={column === `${path}/${c.name}`}
                        onClick={() => setColumn(column === `${path}/${c.name}` ? null : `${path}/${c.name}`)}
                      >
                        {c.name}
                      </button>
                    ),
                  },
                  { key: "type", header: "Type", cell: (c) => `${c.type} (${c.kind})` },
                  { key: "count", header: "Count", numeric: true, cell: (c) => c.count },
                  {
                    key: "nulls",
                    header: "Missing",
                    numeric: true,
                    cell: (c) => formatPercent(c.count ? c.null_count / c.count : 0),
                  },
                  {
                    key: "distinct",
                    header: "Distinct",
                    numeric: true,
                    cell: (c) => `${c.distinct_exact ? "" : "≈"}${c.distinct}`,
                  },
                  { key: "mean", header: "Mean", numeric: true, cell: (c) => formatStat(c.mean, c.kind) },
                  { key: "std", header: "Std", numeric: true, cell: (c) => formatSpread(c.std, c.kind) },
                  { key: "min", header: "Min", numeric: true, cell: (c) => formatStat(c.min, c.kind) },
                  {
                    key: "median",
                    header: "Median",
                    numeric: true,
                    cell: (c) => formatStat(c.quantiles?.["0.5"] ?? null, c.kind),
                  },
                  { key: "max", header: "Max", numeric: true, cell: (c) => formatStat(c.max, c.kind) },
                ]}
              />
              {f.profile.columns
                .filter((c) => column === `${path}/${c.name}`)
                .map((c) => (
                  <ColumnHistogram key={c.name} column={c} />
                ))}
            </Section>
          ))}
          {files.length === 0 && <p className="muted">This version has no tabular profile.</p>}
          {files.length > 0 && <DatasetQuerySection project={project} name={name} version={version} />}
          <Section title="Files" id="files">
            <DataTable
              caption="Files of this version"
              testId="entries-table"
              rows={d.entries}
              rowKey={(e) => e.path}
              columns={[
                { key: "path", header: "Path", cell: (e) => e.path },
                { key: "size", header: "Size", numeric: true, cell: (e) => formatBytes(e.size) },
                { key: "sha", header: "sha256", cell: (e) => <code>{e.sha256.slice(0, 16)}</code> },
              ]}
            />
          </Section>
        </>
      )}
    </>
  );
}
