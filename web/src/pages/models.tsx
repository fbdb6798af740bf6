import { projectPath } from "../api/client";
import type { ModelWire } from "../api/registry";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section } from "../components/status";
import { formatTime } from "../lib/format";
import { Link, projectHref } from "../lib/router";
import { useApi } from "../lib/use-api";
import { ModelDetail } from "./model-detail";
import { ModelVersionPage } from "./model-version";

export function aliasList(aliases: Record<string, number> | undefined): string {
  const entries = Object.entries(aliases ?? {});
  return entries.length ? entries.map(([a, v]) => `${a} → v${v}`).join(", ") : "—";
}

function ModelList({ project }: { project: string }) {
  const list = useApi<{ models: ModelWire[] }>(projectPath(project, "/models"));
  return (
    <>
      <h1>Models</h1>
      <Section title="Registered models" id="models">
        <ErrorBox error={list.error} />
        {list.loading && !list.data && <Loading what="models" />}
        {list.data && list.data.models.length === 0 && <p className="muted">No models registered yet.</p>}
        {list.data && list.data.models.length > 0 && (
          <DataTable
            caption="Registered models"
            testId="models-table"
            rows={list.data.models}
            rowKey={(m) => m.name}
            columns={[
              {
                key: "name",
                header: "Model",
                cell: (m) => <Link href={projectHref(project, "models", m.name)}>{m.name}</Link>,
              },
              { key: "latest", header: "Latest", cell: (m) => (m.latest_version ? `v${m.latest_version}` : "—") },
              { key: "aliases", header: "Aliases", cell: (m) => aliasList(m.aliases) },
              { key: "owner", header: "Owner", cell: (m) => m.owner },
              { key: "description", header: "Description", cell: (m) => m.description },
              { key: "updated", header: "Updated", cell: (m) => formatTime(m.updated_at) },
            ]}
          />
        )}
      </Section>
    </>
  );
}

export function ModelsPage({ project, path = [] }: { project: string; path?: string[] }) {
  if (path[0] && path[1]) return <ModelVersionPage project={project} name={path[0]} version={path[1]} />;
  if (path[0]) return <ModelDetail project={project} name={path[0]} />;
  return <ModelList project={project} />;
}
