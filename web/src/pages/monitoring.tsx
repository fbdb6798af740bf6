import { Pending } from "../components/pending";

export function MonitoringPage({ project }: { project: string; path?: string[] }) {
  return <Pending title="Monitoring" api={`/api/v1/projects/${project}/monitors`} />;
}
