/**
 * A version's feature importance: the `importance.<feature>` metrics of the tandem/train steps in the
 * pipeline run that registered it (the version's `tandem.pipeline_run` tag). A run that trained several
 * models shows each train step's bars under its name.
 */
import { projectPath } from "../api/client";
import type { PipelineRunWire } from "../api/pipelines";
import { ErrorBox, Section } from "../components/status";
import { Link, projectHref } from "../lib/router";
import { useApi } from "../lib/use-api";
import { FeatureImportance } from "./pipeline-step";

export function FeatureImportanceSection({
  project,
  pipelineRunId,
}: {
  project: string;
  pipelineRunId: string | null;
}) {
  const run = useApi<PipelineRunWire>(pipelineRunId ? projectPath(project, `/pipeline-runs/${pipelineRunId}`) : null);
  const trained = (run.data?.steps ?? []).filter((s) =>
    Object.keys(s.metrics).some((k) => k.startsWith("importance.")),
  );
  if (!pipelineRunId || (trained.length === 0 && !run.error)) return null;
  return (
    <Section title="Feature importance" id="version-importance">
      <ErrorBox error={run.error} />
      {trained.map((s) => (
        <div key={s.id}>
          <p>
            From step {s.name} of{" "}
            <Link href={projectHref(project, "pipeline-runs", pipelineRunId)}>
              pipeline run {pipelineRunId.slice(0, 8)}
            </Link>
            .
          </p>
          <FeatureImportance metrics={s.metrics} />
        </div>
      ))}
    </Section>
  );
}
