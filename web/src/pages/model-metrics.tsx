/**
 * A model's versions by their evaluation metrics, and two versions side by side. Each version shows
 * its newest evaluation that has metrics (GET …/versions/{v}/evaluations, newest first): the dataset
 * it was scored on, and every metric. Comparing two versions lines their metrics up with the
 * difference; a metric one of them lacks shows as "—". A binary classifier's ROC and PR curves and
 * confusion matrix (its newest evaluation that has them) are drawn for the version, and overlaid for
 * the two compared.
 */
import { useEffect, useMemo, useState } from "react";
import { get, projectPath } from "../api/client";
import type { EvaluationWire, VersionWire } from "../api/registry";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section } from "../components/status";
import { formatNumber } from "../lib/format";
import { ClassifierCurves } from "./model-curves";

/** Versions whose evaluations are fetched, newest first: the page stays quick on a long history. */
const MAX_VERSIONS = 20;

/** The newest evaluation with metrics of each version (versions without one are left out). */
function useNewestEvaluations(project: string, name: string, versions: VersionWire[]) {
  const [byVersion, setByVersion] = useState<Map<number, EvaluationWire> | null>(null);
  const [curvesByVersion, setCurves] = useState<Map<number, EvaluationWire>>(new Map());
  const [error, setError] = useState<Error | null>(null);
  const key = versions.map((v) => v.version).join(",");
  useEffect(() => {
    const abort = new AbortController();
    const wanted = versions.slice(0, MAX_VERSIONS).map((v) => v.version);
    Promise.all(
      wanted.map((v) =>
        get<{ evaluations: EvaluationWire[] }>(
          projectPath(project, `/models/${encodeURIComponent(name)}/versions/${v}/evaluations`),
          abort.signal,
        ).then(
          (r) =>
            [
              v,
              r.evaluations.find((e) => Object.keys(e.metrics).length > 0),
              r.evaluations.find((e) => e.curves !== null),
            ] as const,
        ),
      ),
    )
      .then((pairs) => {
        const found = new Map<number, EvaluationWire>();
        const curves = new Map<number, EvaluationWire>();
        for (const [v, e, c] of pairs) {
          if (e) found.set(v, e);
          if (c) curves.set(v, c);
        }
        setCurves(curves);
        setByVersion(found);
      })
      .catch((e: unknown) => {
        if (!abort.signal.aborted) setError(e instanceof Error ? e : new Error(String(e)));
      });
    return () => abort.abort();
    // `key` stands for `versions` (a new array on every render of the parent).
  }, [project, name, key]);
  return { byVersion, curvesByVersion, error };
}

const metricNames = (evaluations: EvaluationWire[]) =>
  [...new Set(evaluations.flatMap((e) => Object.keys(e.metrics)))].sort();

function Compare({
  evaluations,
  curves,
}: {
  evaluations: Map<number, EvaluationWire>;
  curves: Map<number, EvaluationWire>;
}) {
  const versions = [...evaluations.keys()];
  const [a, setA] = useState(versions[1] ?? versions[0]!);
  const [b, setB] = useState(versions[0]!);
  const ea = evaluations.get(a);
  const eb = evaluations.get(b);
  const rows = metricNames([ea, eb].filter((e): e is EvaluationWire => e !== undefined)).map((metric) => ({
    metric,
    a: ea?.metrics[metric],
    b: eb?.metrics[metric],
  }));
  const pick = (label: string, value: number, set: (v: number) => void) => (
    <label>
      {label}{" "}
      <select value={value} onChange={(e) => set(Number(e.target.value))}>
        {versions.map((v) => (
          <option key={v} value={v}>
            v{v}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <>
      <div className="actions">
        {pick("Compare", a, setA)} {pick("with", b, setB)}
      </div>
      <DataTable
        caption={`v${a} (on ${ea?.dataset ?? "—"}) and v${b} (on ${eb?.dataset ?? "—"}), metric by metric`}
        testId="version-compare"
        rows={rows}
        rowKey={(r) => r.metric}
        columns={[
          { key: "metric", header: "Metric", cell: (r) => r.metric },
          { key: "a", header: `v${a}`, numeric: true, cell: (r) => formatNumber(r.a) },
          { key: "b", header: `v${b}`, numeric: true, cell: (r) => formatNumber(r.b) },
          {
            key: "delta",
            header: `v${b} − v${a}`,
            numeric: true,
            cell: (r) => (r.a === undefined || r.b === undefined ? "—" : formatNumber(r.b - r.a)),
          },
        ]}
      />
      <ClassifierCurves
        evaluations={[curves.get(a), curves.get(b)].filter((e): e is EvaluationWire => e !== undefined)}
      />
    </>
  );
}

export function ModelMetricsSection({
  project,
  name,
  versions,
}: {
  project: string;
  name: string;
  versions: VersionWire[];
}) {
  const { byVersion, curvesByVersion, error } = useNewestEvaluations(project, name, versions);
  const evaluated = useMemo(() => [...(byVersion?.values() ?? [])], [byVersion]);
  const metrics = metricNames(evaluated);
  return (
    <Section title="Evaluation metrics" id="version-metrics">
      <ErrorBox error={error} />
      {!byVersion && !error && <Loading what="evaluations" />}
      {byVersion && evaluated.length === 0 && (
        <p className="muted">No version has an evaluation yet (tandem/evaluate, or tandem models evaluate).</p>
      )}
      {evaluated.length > 0 && (
        <>
          <DataTable
            caption={`Newest evaluation of each version of ${name}, newest version first`}
            testId="version-metrics"
            rows={evaluated}
            rowKey={(e) => String(e.version)}
            columns={[
              { key: "version", header: "Version", cell: (e) => `v${e.version}` },
              { key: "dataset", header: "Dataset", cell: (e) => e.dataset },
              ...metrics.map((m) => ({
                key: `m-${m}`,
                header: m,
                numeric: true,
                cell: (e: EvaluationWire) => formatNumber(e.metrics[m]),
              })),
            ]}
          />
          {evaluated.length > 1 ? (
            <Compare evaluations={byVersion!} curves={curvesByVersion} />
          ) : (
            <ClassifierCurves evaluations={[...curvesByVersion.values()]} />
          )}
        </>
      )}
    </Section>
  );
}
