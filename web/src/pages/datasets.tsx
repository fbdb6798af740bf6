import { Pending } from "../components/pending";

export function DatasetsPage({ project }: { project: string; path?: string[] }) {
  return <Pending title="Datasets" api={`/api/v1/projects/${project}/datasets`} />;
}
