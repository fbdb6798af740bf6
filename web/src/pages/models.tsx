import { Pending } from "../components/pending";

export function ModelsPage({ project }: { project: string; path?: string[] }) {
  return <Pending title="Models" api={`/api/v1/projects/${project}/models`} />;
}
