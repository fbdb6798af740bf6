/**
 * A step run's panel on the pipeline run page: status, resolved references, inputs and outputs,
 * environment, metrics (a tandem/train step's `importance.<feature>` also as bars), and why it was
 * (or was not) served from the cache, part by part.
 */
import { useEffect } from "react";
import { projectPath } from "../api/client";
import {
  describeReference,
  runDuration,
  type CacheExplanationWire,
  type EnvironmentWire,
  type StepRunWire,
} from "../api/pipelines";
import { BarList } from "../components/bar-list";
import { DataTable } from "../components/table";
import { ErrorBox, StatusText } from "../components/status";
import { formatDuration, formatNumber, shortId } from "../lib/format";
import { Link, projectHref } from "../lib/router";
import { useApi } from "../lib/use-api";

const IMPORTANCE = "importance.";

/** tandem/train's `importance.<feature>`: split gain share (trees) or |standardised weight| (linear), summing to 1. */
export function FeatureImportance({ metrics }: { metrics: Record<string, number> }) {
  const values = Object.entries(metrics)
    .filter(([k]) => k.startsWith(IMPORTANCE))
    .map(([k, v]): [string, number] => [k.slice(IMPORTANCE.length), v]);
  if (values.length === 0) return null;
  return (
    <BarList
      title="Feature importance (share of split gain, or of |weight| for linear models)"
      values={values}
      valueLabel="Importance"
      testId="feature-importance"
    />
  );
}

const short = (digest: string) => digest.replace(/^sha256:/, "").slice(0, 12);

function Environment({ env }: { env: EnvironmentWire }) {
  const rows = [
    ...Object.entries(env.lockfiles).map(([name, sha]) => ({ part: name, value: `sha256:${short(sha)}` })),
    ...Object.entries(env.interpreters).map(([name, v]) => ({ part: name, value: v ?? "absent" })),
    ...(env.image ? [{ part: "image", value: env.image_id ? `${env.image} (ran ${env.image_id})` : env.image }] : []),
  ];
  return (
    <DataTable
      caption={`Environment (sha256:${short(env.digest)})`}
      testId="step-environment"
      rows={rows}
      rowKey={(r) => r.part}
      columns={[
        { key: "part", header: "Part", cell: (r) => r.part },
        { key: "value", header: "Value", cell: (r) => <code className="wrap">{r.value}</code> },
      ]}
    />
  );
}

function CacheExplanation({ project, runId, step }: { project: string; runId: string; step: StepRunWire }) {
  const path = projectPath(
    project,
    `/pipeline-runs/${encodeURIComponent(runId)}/steps/${encodeURIComponent(step.name)}/cache`,
  );
  const { data, error, reload } = useApi<CacheExplanationWire>(path);
  // A running step makes its key while the panel is open: ask again when its state changes.
  useEffect(() => reload(), [step.status, step.cached, reload]);
  if (error) return <ErrorBox error={error} />;
  if (!data) return null;
  return (
    <div data-testid="step-cache">
      <h4>Cache</h4>
      <p data-testid="cache-summary">{data.summary}</p>
      {data.compared_with && (
        <p className="muted small">
          Compared with run{" "}
          <Link href={projectHref(project, "pipeline-runs", data.compared_with.run_id)}>
            {shortId(data.compared_with.run_id)}
          </Link>{" "}
          ({data.compared_with.status})
        </p>
      )}
      {data.parts.length > 0 && (
        <DataTable
          caption={`Parts of the cache key of ${step.name}`}
          testId="cache-parts"
          rows={data.parts}
          rowKey={(p) => p.name}
          columns={[
            { key: "name", header: "Part", cell: (p) => p.name },
            { key: "digest", header: "Digest", cell: (p) => <code>{p.digest ? short(p.digest) : "—"}</code> },
            {
              key: "change",
              header: "Since then",
              cell: (p) =>
                p.change && p.change !== "same" ? <strong className="warn">{p.change}</strong> : (p.change ?? ""),
            },
            {
              key: "value",
              header: "Value",
              cell: (p) => (
                <code className="wrap">
                  {p.change === "removed" ? "" : p.value}
                  {p.before ? ` (was ${p.before.value})` : ""}
                </code>
              ),
            },
          ]}
        />
      )}
    </div>
  );
}

export function StepDetails({ project, runId, step }: { project: string; runId: string; step: StepRunWire }) {
  return (
    <div data-testid="step-details">
      <h3>Step {step.name}</h3>
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <StatusText status={step.status} />
          {step.cached && " (served from cache)"}
        </dd>
        <dt>Exit code</dt>
        <dd>{step.exit_code ?? "—"}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(runDuration(step))}</dd>
        {step.error && (
          <>
            <dt>Error</dt>
            <dd className="error">{step.error}</dd>
          </>
        )}
        {step.tracking_run_id && (
          <>
            <dt>Tracking run</dt>
            <dd>
              <Link href={`${projectHref(project, "experiments", "compare")}?runs=${step.tracking_run_id}`}>
                {shortId(step.tracking_run_id)}
              </Link>
            </dd>
          </>
        )}
        <dt>Cache key</dt>
        <dd>
          <code>{step.cache_key ? step.cache_key.slice(0, 16) : "—"}</code>
        </dd>
      </dl>
      {step.command && <pre className="logs">{step.command}</pre>}
      <FeatureImportance metrics={step.metrics} />
      {step.references.length > 0 && (
        <ul data-testid="step-references" aria-label={`References of ${step.name}`}>
          {step.references.map((r) => (
            <li key={r.field}>
              <code className="wrap">{describeReference(r)}</code>
            </li>
          ))}
        </ul>
      )}
      {Object.keys(step.metrics).length > 0 && (
        <DataTable
          caption={`Metrics of ${step.name}`}
          testId="step-metrics"
          rows={Object.entries(step.metrics)}
          rowKey={([k]) => k}
          columns={[
            { key: "metric", header: "Metric", cell: ([k]) => k },
            { key: "value", header: "Value", numeric: true, cell: ([, v]) => formatNumber(v) },
          ]}
        />
      )}
      {Object.keys(step.inputs).length + Object.keys(step.outputs).length > 0 && (
        <DataTable
          caption={`Inputs and outputs of ${step.name}`}
          rows={[
            ...Object.entries(step.inputs).map(([name, v]) => ({
              dir: "input",
              name,
              what: `${v.source} (${v.sha256.slice(0, 12)})`,
            })),
            ...Object.entries(step.outputs).map(([name, v]) => ({ dir: "output", name, what: v.slice(0, 12) })),
          ]}
          rowKey={(r) => r.dir + r.name}
          columns={[
            { key: "dir", header: "Kind", cell: (r) => r.dir },
            { key: "name", header: "Name", cell: (r) => r.name },
            { key: "what", header: "Content", cell: (r) => <code className="wrap">{r.what}</code> },
          ]}
        />
      )}
      {step.environment && <Environment env={step.environment} />}
      <CacheExplanation project={project} runId={runId} step={step} />
    </div>
  );
}
