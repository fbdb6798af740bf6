import { Pending } from "../components/pending";

export function ExperimentsPage({ project }: { project: string; path?: string[] }) {
  return <Pending title="Experiments" api={`/api/v1/projects/${project}/experiments`} />;
}
