import { Pending } from "../components/pending";

export function EndpointsPage({ project }: { project: string; path?: string[] }) {
  return <Pending title="Endpoints" api={`/api/v1/projects/${project}/endpoints`} />;
}
