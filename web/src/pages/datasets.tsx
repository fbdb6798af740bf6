import { projectPath } from "../api/client";
import { formatBytes, type DatasetSummaryWire, type DatasetVersionWire } from "../api/data";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section } from "../components/status";
import { formatTime } from "../lib/format";
import { Link, projectHref } from "../lib/router";
import { useApi } from "../lib/use-api";
import { DatasetDiffSection } from "./dataset-diff";
import { DatasetVersionPage } from "./dataset-version";

function DatasetList({ project }: { project: string }) {
  const list = useApi<{ datasets: DatasetSummaryWire[] }>(projectPath(project, "/datasets"));
  return (
    <>
      <h1>Datasets</h1>
      <Section title="Datasets" id="datasets">
        <ErrorBox error={list.error} />
        {list.loading && !list.data && <Loading what="datasets" />}
        {list.data && list.data.datasets.length === 0 && (
          <p className="muted">No datasets yet: add one with tandem data add.</p>
        )}
        {list.data && list.data.datasets.length > 0 && (
          <DataTable
            caption="Datasets"
            testId="datasets-table"
            rows={list.data.datasets}
            rowKey={(d) => d.name}
            columns={[
              {
                key: "name",
                header: "Dataset",
                cell: (d) => <Link href={projectHref(project, "datasets", d.name)}>{d.name}</Link>,
              },
              { key: "latest", header: "Latest version", numeric: true, cell: (d) => d.latest_version ?? "—" },
              { key: "by", header: "Created by", cell: (d) => d.created_by },
              { key: "created", header: "Created", cell: (d) => formatTime(d.created_at) },
            ]}
          />
        )}
      </Section>
    </>
  );
}

function DatasetDetail({ project, name }: { project: string; name: string }) {
  const versions = useApi<{ versions: DatasetVersionWire[] }>(
    projectPath(project, `/datasets/${encodeURIComponent(name)}/versions`),
  );
  return (
    <>
      <p>
        <Link href={projectHref(project, "datasets")}>All datasets</Link>
      </p>
      <h1>Dataset {name}</h1>
      <Section title="Versions" id="versions">
        <ErrorBox error={versions.error} />
        {!versions.data && !versions.error && <Loading what="versions" />}
        {versions.data && (
          <DataTable
            caption={`Versions of ${name}, newest first`}
            testId="dataset-versions-table"
            rows={versions.data.versions}
            rowKey={(v) => String(v.version)}
            columns={[
              {
                key: "version",
                header: "Version",
                cell: (v) => (
                  <Link href={projectHref(project, "datasets", name, String(v.version))}>{`${name}@${v.version}`}</Link>
                ),
              },
              { key: "files", header: "Files", numeric: true, cell: (v) => v.file_count },
              { key: "bytes", header: "Size", numeric: true, cell: (v) => formatBytes(v.total_bytes) },
              { key: "tags", header: "Tags", cell: (v) => v.tags.join(", ") || "—" },
              { key: "message", header: "Message", cell: (v) => v.message ?? "" },
              { key: "sha", header: "Manifest", cell: (v) => <code>{v.manifest_sha256.slice(0, 12)}</code> },
              { key: "created", header: "Created", cell: (v) => `${formatTime(v.created_at)} by ${v.created_by}` },
            ]}
          />
        )}
      </Section>
      {versions.data && versions.data.versions.length >= 2 && (
        <DatasetDiffSection project={project} name={name} versions={versions.data.versions.map((v) => v.version)} />
      )}
    </>
  );
}

export function DatasetsPage({ project, path = [] }: { project: string; path?: string[] }) {
  if (path[0] && path[1]) return <DatasetVersionPage project={project} name={path[0]} version={path[1]} />;
  if (path[0]) return <DatasetDetail project={project} name={path[0]} />;
  return <DatasetList project={project} />;
}
