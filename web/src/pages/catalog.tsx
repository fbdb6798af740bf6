import { Pending } from "../components/pending";

export function CatalogPage({ project }: { project: string; path?: string[] }) {
  return <Pending title="Catalog" api={`/api/v1/projects/${project}/catalog`} />;
}
