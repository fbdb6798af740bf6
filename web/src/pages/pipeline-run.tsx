import { useEffect, useMemo, useRef, useState } from "react";
import { post, projectPath } from "../api/client";
import { ACTIVE_RUN, describeTrigger, runDuration, type StepRunWire } from "../api/pipelines";
import { roleAtLeast } from "../api/types";
import { Graph, type GraphEdge, type GraphNode } from "../components/graph";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section, Stat, StatusText } from "../components/status";
import { formatDuration, formatNumber, formatTime, shortId } from "../lib/format";
import { Link, projectHref } from "../lib/router";
import { useRole } from "../lib/session";
import { useRunStream } from "../lib/use-run-stream";

/** Edges from every run of a needed step (all its matrix combinations) to the step run. */
function dagOf(steps: StepRunWire[]): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const byStep = new Map<string, StepRunWire[]>();
  for (const s of steps) byStep.set(s.step, [...(byStep.get(s.step) ?? []), s]);
  return {
    nodes: steps.map((s) => ({
      id: s.id,
      label: s.name,
      tone: s.status,
      sublabel: [s.status, s.cached ? "cached" : null, s.attempt > 1 ? `attempt ${s.attempt}` : null]
        .filter(Boolean)
        .join(" · "),
    })),
    edges: steps.flatMap((s) =>
      s.needs.flatMap((need) => (byStep.get(need) ?? []).map((from) => ({ from: from.id, to: s.id }))),
    ),
  };
}

function StepDetails({ project, step }: { project: string; step: StepRunWire }) {
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
    </div>
  );
}

function Logs({
  lines,
  step,
  follow,
}: {
  lines: Array<{ seq: number; step: string; stream: string; text: string }>;
  step: string | null;
  follow: boolean;
}) {
  const box = useRef<HTMLPreElement>(null);
  const shown = step ? lines.filter((l) => l.step === step) : lines;
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [shown.length, follow]);
  return (
    <pre className="logs" ref={box} tabIndex={0} aria-label="Log lines" data-testid="run-logs">
      {shown.length === 0 ? "No log lines yet." : null}
      {shown.map((l) => (
        <span key={l.seq} className={l.stream === "stderr" ? "stderr" : undefined}>
          {!step && <span className="step">[{l.step}] </span>}
          {l.text.endsWith("\n") ? l.text : l.text + "\n"}
        </span>
      ))}
    </pre>
  );
}

export function PipelineRunPage({ project, id }: { project: string; id: string }) {
  const role = useRole();
  const { run, lines, ended, error, restart } = useRunStream(project, id);
  const [selected, setSelected] = useState<string | null>(null);
  const [actionError, setActionError] = useState<Error | null>(null);
  const dag = useMemo(() => dagOf(run?.steps ?? []), [run]);
  const step = run?.steps?.find((s) => s.id === selected) ?? null;

  const act = (verb: "cancel" | "retry") =>
    post(projectPath(project, `/pipeline-runs/${encodeURIComponent(id)}/${verb}`)).then(
      () => {
        setActionError(null);
        if (verb === "retry") restart();
      },
      (e: Error) => setActionError(e),
    );

  if (!run) return error ? <ErrorBox error={new Error(error)} /> : <Loading what="run" />;
  const active = ACTIVE_RUN.has(run.status);
  return (
    <>
      <p>
        <Link href={projectHref(project, "pipeline-runs")}>All pipeline runs</Link>
      </p>
      <h1>
        Run {shortId(run.id)} of {run.pipeline}
      </h1>
      <div className="stats">
        <Stat label="status" value={<StatusText status={run.status} />} testId="run-status" />
        <Stat label="steps" value={run.steps?.length ?? 0} testId="run-steps" />
        <Stat label="cache hits" value={run.steps?.filter((s) => s.cached).length ?? 0} testId="run-cached" />
        <Stat label="duration" value={formatDuration(runDuration(run))} />
      </div>
      <p>
        Trigger: <span data-testid="run-trigger">{describeTrigger(run.trigger)}</span> · spec v{run.spec_version} ·
        created {formatTime(run.created_at)} by {run.created_by}
        {run.no_cache && " · no cache"}
      </p>
      {run.error && <p className="error">{run.error}</p>}
      {error && !ended && <p className="warn">{error}</p>}
      {roleAtLeast(role, "member") && (
        <div className="row">
          {active && (
            <button type="button" className="danger" onClick={() => void act("cancel")} disabled={run.cancel_requested}>
              {run.cancel_requested ? "Cancelling…" : "Cancel run"}
            </button>
          )}
          {(run.status === "failed" || run.status === "cancelled") && (
            <button type="button" onClick={() => void act("retry")}>
              Retry failed steps
            </button>
          )}
        </div>
      )}
      <ErrorBox error={actionError} />
      <Section title="Steps" id="dag">
        <Graph
          nodes={dag.nodes}
          edges={dag.edges}
          title={`DAG of run ${shortId(run.id)}`}
          selected={selected}
          onSelect={(s) => setSelected(s === selected ? null : s)}
          testId="run-dag"
        />
        <p className="muted small">Select a step to see its details and only its logs.</p>
        {step && <StepDetails project={project} step={step} />}
      </Section>
      <Section
        title={step ? `Logs of ${step.name}` : "Logs"}
        id="logs"
        actions={<span className="muted small">{ended ? "complete" : "following live"}</span>}
      >
        <Logs lines={lines} step={step?.name ?? null} follow={!ended} />
      </Section>
    </>
  );
}
