import { useMemo, useState } from "react";
import { checkOf, driftColumns, type MonitorResultWire } from "../api/monitoring";
import { Histogram } from "../components/histogram";
import { DataTable } from "../components/table";
import { Section } from "../components/status";
import { formatNumber, formatTime } from "../lib/format";

/** Fairness evidence lists groups as objects; show every numeric field they carry. */
function GroupTable({ groups, attribute }: { groups: Array<Record<string, unknown>>; attribute: string }) {
  const keys = [...new Set(groups.flatMap((g) => Object.keys(g).filter((k) => k !== "group")))];
  return (
    <DataTable
      caption={`Performance and fairness by ${attribute}`}
      testId="fairness-groups"
      rows={groups}
      rowKey={(g) => String(g.group)}
      columns={[
        { key: "group", header: attribute, cell: (g) => String(g.group) },
        ...keys.map((k) => ({
          key: k,
          header: k,
          numeric: true,
          cell: (g: Record<string, unknown>) => (typeof g[k] === "number" ? formatNumber(g[k]) : String(g[k] ?? "—")),
        })),
      ]}
    />
  );
}

export function WindowEvidence({ result }: { result: MonitorResultWire }) {
  const columns = driftColumns(checkOf(result, "data_drift"));
  const [feature, setFeature] = useState(columns[0]?.name ?? "");
  const column = columns.find((c) => c.name === feature) ?? columns[0];
  const hist = useMemo(() => {
    const h = column?.histogram;
    if (!h) return null;
    const bins = h.labels ?? (h.edges ?? []).slice(0, -1).map((e) => formatNumber(e));
    return {
      bins,
      series: [
        { label: "reference", values: h.reference },
        { label: "current", values: h.current },
      ],
    };
  }, [column]);
  const fairness = checkOf(result, "fairness");
  const groups = Array.isArray(fairness?.details.groups)
    ? (fairness.details.groups as Array<Record<string, unknown>>)
    : [];
  return (
    <Section title={`Evidence of the window ending ${formatTime(result.window_end)}`} id="evidence">
      <DataTable
        caption="Checks of this window"
        testId="window-checks"
        rows={result.checks}
        rowKey={(c) => c.check}
        columns={[
          { key: "check", header: "Check", cell: (c) => c.check },
          {
            key: "passed",
            header: "Result",
            cell: (c) => <span className={c.passed ? "ok" : "error"}>{c.passed ? "pass" : "fail"}</span>,
          },
          { key: "summary", header: "Summary", cell: (c) => c.summary },
        ]}
      />
      {columns.length > 0 && (
        <>
          <h3>Per feature: reference vs current</h3>
          <DataTable
            caption="Drift per feature"
            testId="drift-columns"
            rows={columns}
            rowKey={(c) => c.name}
            columns={[
              { key: "name", header: "Feature", cell: (c) => c.name },
              { key: "test", header: "Test", cell: (c) => c.test },
              { key: "statistic", header: "Statistic", numeric: true, cell: (c) => formatNumber(c.statistic) },
              { key: "p", header: "p-value", numeric: true, cell: (c) => formatNumber(c.p_value) },
              { key: "threshold", header: "Threshold", numeric: true, cell: (c) => formatNumber(c.threshold) },
              {
                key: "drift",
                header: "Drift",
                cell: (c) => (c.drift ? <strong className="error">drift</strong> : "no"),
              },
            ]}
          />
          <label className="field">
            <span>Feature</span>
            <select value={column?.name ?? ""} onChange={(e) => setFeature(e.target.value)}>
              {columns.map((c) => (
                <option key={c.name}>{c.name}</option>
              ))}
            </select>
          </label>
          {hist && column && (
            <Histogram
              title={`${column.name}: share of rows per bin`}
              bins={hist.bins}
              series={hist.series}
              testId="drift-histogram"
            />
          )}
        </>
      )}
      {groups.length > 0 && <GroupTable groups={groups} attribute={String(fairness?.details.attribute ?? "group")} />}
    </Section>
  );
}
