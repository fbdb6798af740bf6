import { Pending } from "../components/pending";

export function PipelineRunsPage({ project }: { project: string; path?: string[] }) {
  return <Pending title="Pipeline runs" api={`/api/v1/projects/${project}/pipeline-runs`} />;
}
