import { useState } from "react";
import { post, projectPath, qs } from "../api/client";
import { describeTrigger, runDuration, type PipelineRunWire, type PipelineSummaryWire } from "../api/pipelines";
import { roleAtLeast } from "../api/types";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section, StatusText } from "../components/status";
import { formatDuration, formatTime, shortId } from "../lib/format";
import { Link, navigate, projectHref } from "../lib/router";
import { useRole } from "../lib/session";
import { useApi } from "../lib/use-api";
import { PipelineRunPage } from "./pipeline-run";

function Pipelines({ project }: { project: string }) {
  const role = useRole();
  const list = useApi<{ spec_version: number | null; pipelines: PipelineSummaryWire[] }>(
    projectPath(project, "/pipelines"),
  );
  const [error, setError] = useState<Error | null>(null);
  const start = (name: string) =>
    post<PipelineRunWire>(projectPath(project, `/pipelines/${encodeURIComponent(name)}/runs`), {}).then(
      (run) => navigate(projectHref(project, "pipeline-runs", run.id)),
      (e: Error) => setError(e),
    );
  if (!list.data || list.data.pipelines.length === 0) return list.error ? <ErrorBox error={list.error} /> : null;
  return (
    <Section title={`Pipelines (spec v${list.data.spec_version ?? "—"})`} id="pipelines">
      <ErrorBox error={error} />
      <DataTable
        caption="Pipelines of the latest spec"
        testId="pipelines-table"
        rows={list.data.pipelines}
        rowKey={(p) => p.name}
        columns={[
          { key: "name", header: "Pipeline", cell: (p) => p.name },
          { key: "steps", header: "Steps", cell: (p) => p.steps.join(" → ") },
          {
            key: "latest",
            header: "Latest run",
            cell: (p) => (p.latest_run ? <StatusText status={p.latest_run.status} /> : "—"),
          },
          ...(roleAtLeast(role, "member")
            ? [
                {
                  key: "start",
                  header: <span className="sr-only">Actions</span>,
                  cell: (p: PipelineSummaryWire) => (
                    <button type="button" className="secondary" onClick={() => void start(p.name)}>
                      Run {p.name}
                    </button>
                  ),
                },
              ]
            : []),
        ]}
      />
    </Section>
  );
}

function RunList({ project }: { project: string }) {
  const runs = useApi<{ runs: PipelineRunWire[] }>(projectPath(project, `/pipeline-runs${qs({ limit: 50 })}`));
  return (
    <>
      <h1>Pipeline runs</h1>
      <Pipelines project={project} />
      <Section
        title="Recent runs"
        id="recent-runs"
        actions={
          <button type="button" className="secondary" onClick={runs.reload}>
            Refresh
          </button>
        }
      >
        <ErrorBox error={runs.error} />
        {runs.loading && !runs.data && <Loading what="runs" />}
        {runs.data && runs.data.runs.length === 0 && (
          <p className="muted">No pipeline runs yet: start one with tandem run.</p>
        )}
        {runs.data && runs.data.runs.length > 0 && (
          <DataTable
            caption="Pipeline runs, newest first"
            testId="pipeline-runs-table"
            rows={runs.data.runs}
            rowKey={(r) => r.id}
            columns={[
              {
                key: "id",
                header: "Run",
                cell: (r) => <Link href={projectHref(project, "pipeline-runs", r.id)}>{shortId(r.id)}</Link>,
              },
              { key: "pipeline", header: "Pipeline", cell: (r) => r.pipeline },
              { key: "status", header: "Status", cell: (r) => <StatusText status={r.status} /> },
              { key: "trigger", header: "Trigger", cell: (r) => describeTrigger(r.trigger) },
              { key: "created", header: "Created", cell: (r) => formatTime(r.created_at) },
              { key: "duration", header: "Duration", cell: (r) => formatDuration(runDuration(r)) },
            ]}
          />
        )}
      </Section>
    </>
  );
}

export function PipelineRunsPage({ project, path = [] }: { project: string; path?: string[] }) {
  if (path[0]) return <PipelineRunPage project={project} id={path[0]} />;
  return <RunList project={project} />;
}
