import { projectPath } from "../api/client";
import { trafficSplit, type EndpointWire } from "../api/serving";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section } from "../components/status";
import { formatTime } from "../lib/format";
import { Link, projectHref } from "../lib/router";
import { useApi } from "../lib/use-api";
import { EndpointDetailPage } from "./endpoint-detail";

export function EndpointsPage({ project, path = [] }: { project: string; path?: string[] }) {
  if (path[0]) return <EndpointDetailPage project={project} name={path[0]} />;
  return <EndpointList project={project} />;
}

function EndpointList({ project }: { project: string }) {
  const list = useApi<{ endpoints: EndpointWire[] }>(projectPath(project, "/endpoints"));
  return (
    <>
      <h1>Endpoints</h1>
      <Section title="Served models" id="endpoints">
        <ErrorBox error={list.error} />
        {list.loading && !list.data && <Loading what="endpoints" />}
        {list.data && list.data.endpoints.length === 0 && (
          <p className="muted">No endpoints yet: deploy one with tandem deploy.</p>
        )}
        {list.data && list.data.endpoints.length > 0 && (
          <DataTable
            caption="Endpoints"
            testId="endpoints-table"
            rows={list.data.endpoints}
            rowKey={(e) => e.name}
            columns={[
              {
                key: "name",
                header: "Endpoint",
                cell: (e) => <Link href={projectHref(project, "endpoints", e.name)}>{e.name}</Link>,
              },
              { key: "model", header: "Follows", cell: (e) => <code>{e.primary}</code> },
              { key: "status", header: "Status", cell: (e) => e.status },
              {
                key: "traffic",
                header: "Traffic",
                cell: (e) =>
                  trafficSplit(e)
                    .map((s) => `v${s.version ?? "?"} ${s.percent}%`)
                    .join(" · "),
              },
              {
                key: "shadow",
                header: "Shadow",
                cell: (e) => (e.shadow_version !== null ? `v${e.shadow_version}` : "—"),
              },
              { key: "updated", header: "Updated", cell: (e) => formatTime(e.updated_at) },
            ]}
          />
        )}
      </Section>
    </>
  );
}
