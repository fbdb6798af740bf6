import { useState } from "react";
import { projectPath, qs } from "../api/client";
import type { DiffWire } from "../api/data";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section } from "../components/status";
import { formatNumber, formatPercent, formatStat } from "../lib/format";
import { useApi } from "../lib/use-api";

export function DatasetDiffSection({ project, name, versions }: { project: string; name: string; versions: number[] }) {
  const [from, setFrom] = useState(String(versions[1]));
  const [to, setTo] = useState(String(versions[0]));
  const diff = useApi<{ diff: DiffWire }>(
    projectPath(project, `/datasets/${encodeURIComponent(name)}/diff${qs({ from, to })}`),
  );
  const d = diff.data?.diff;
  const picker = (label: string, value: string, set: (v: string) => void) => (
    <label className="field">
      <span>{label}</span>
      <select value={value} onChange={(e) => set(e.target.value)}>
        {versions.map((v) => (
          <option key={v} value={String(v)}>
            {name}@{v}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <Section title="Compare versions" id="diff">
      <div className="row">
        {picker("From", from, setFrom)}
        {picker("To", to, setTo)}
      </div>
      <ErrorBox error={diff.error} />
      {diff.loading && <Loading what="diff" />}
      {d && (
        <>
          <p data-testid="diff-files">
            Files: {d.files.added.length} added, {d.files.removed.length} removed, {d.files.changed.length} changed,{" "}
            {d.files.unchanged} unchanged.
          </p>
          {d.schema.length > 0 && (
            <DataTable
              caption="Schema changes"
              testId="diff-schema"
              rows={d.schema}
              rowKey={(s) => `${s.file}/${s.column}/${s.change}`}
              columns={[
                { key: "column", header: "Column", cell: (s) => s.column },
                { key: "change", header: "Change", cell: (s) => s.change.replace(/_/g, " ") },
                { key: "from", header: "From", cell: (s) => s.from ?? "—" },
                { key: "to", header: "To", cell: (s) => s.to ?? "—" },
              ]}
            />
          )}
          <DataTable
            caption="Column statistics, from → to"
            testId="diff-stats"
            rows={d.stats}
            rowKey={(s) => `${s.file}/${s.column}`}
            columns={[
              { key: "column", header: "Column", cell: (s) => (s.moved ? <strong>{s.column}</strong> : s.column) },
              { key: "rows", header: "Rows", numeric: true, cell: (s) => `${s.rows_from} → ${s.rows_to}` },
              {
                key: "missing",
                header: "Missing",
                numeric: true,
                cell: (s) => `${formatPercent(s.null_share_from)} → ${formatPercent(s.null_share_to)}`,
              },
              {
                key: "mean",
                header: "Mean",
                numeric: true,
                cell: (s) => `${formatStat(s.mean_from, s.kind_from)} → ${formatStat(s.mean_to, s.kind_to)}`,
              },
              {
                key: "distinct",
                header: "Distinct",
                numeric: true,
                cell: (s) => `${s.distinct_from} → ${s.distinct_to}`,
              },
              {
                key: "drift",
                header: "Drift",
                cell: (s) =>
                  s.drift
                    ? `${s.drift.test} ${formatNumber(s.drift.score)}${s.drift.drifted ? " (drifted)" : ""}`
                    : "—",
              },
            ]}
          />
        </>
      )}
    </Section>
  );
}
