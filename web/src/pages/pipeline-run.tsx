import { useEffect, useMemo, useRef, useState } from "react";
import { post, projectPath } from "../api/client";
import { ACTIVE_RUN, describeTrigger, runDuration, type PipelineRunWire, type StepRunWire } from "../api/pipelines";
import { roleAtLeast } from "../api/types";
import { Graph, type GraphEdge, type GraphNode } from "../components/graph";
import { ErrorBox, Loading, Section, Stat, StatusText } from "../components/status";
import { formatDuration, formatTime, shortId } from "../lib/format";
import { Link, projectHref } from "../lib/router";
import { useRole } from "../lib/session";
import { useRunStream } from "../lib/use-run-stream";
import { StepDetails } from "./pipeline-step";

/** `commit 1a2b3c4d5e6f (dirty: 2 changed paths)`, or why there is none. */
function describeCode(run: PipelineRunWire): string {
  if (!run.commit) return run.dirty === null ? "commit not recorded" : "no commit (not run from a git checkout)";
  const n = run.changed_paths.length;
  return `commit ${run.commit.slice(0, 12)}${run.dirty ? ` (dirty: ${n} changed path${n === 1 ? "" : "s"})` : ""}`;
}

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
        {run.no_cache && " · no cache"} ·{" "}
        <span data-testid="run-commit" title={run.changed_paths.join("\n") || undefined}>
          {describeCode(run)}
        </span>
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
        {step && <StepDetails project={project} runId={run.id} step={step} />}
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
