import { projectPath } from "../api/client";
import type { AliasEventWire, ModelWire, VersionWire } from "../api/registry";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section } from "../components/status";
import { formatTime, shortId } from "../lib/format";
import { Link, projectHref } from "../lib/router";
import { useApi } from "../lib/use-api";
import { ModelMetricsSection } from "./model-metrics";
import { aliasList } from "./models";

function AliasHistory({ project, name, alias }: { project: string; name: string; alias: string }) {
  const history = useApi<{ events: AliasEventWire[] }>(
    projectPath(project, `/models/${encodeURIComponent(name)}/aliases/${encodeURIComponent(alias)}/history`),
  );
  return (
    <>
      <h3>{alias}</h3>
      <ErrorBox error={history.error} />
      <DataTable
        caption={`History of alias ${alias}, oldest first`}
        testId={`alias-history-${alias}`}
        rows={history.data?.events ?? []}
        rowKey={(e) => String(e.seq)}
        columns={[
          { key: "at", header: "When", cell: (e) => formatTime(e.at) },
          { key: "action", header: "Action", cell: (e) => e.action },
          { key: "from", header: "From", cell: (e) => (e.from_version !== null ? `v${e.from_version}` : "—") },
          { key: "to", header: "To", cell: (e) => (e.to_version !== null ? `v${e.to_version}` : "—") },
          { key: "actor", header: "By", cell: (e) => e.actor },
        ]}
      />
    </>
  );
}

export function ModelDetail({ project, name }: { project: string; name: string }) {
  const model = useApi<ModelWire & { versions: VersionWire[] }>(
    projectPath(project, `/models/${encodeURIComponent(name)}`),
  );
  const m = model.data;
  return (
    <>
      <p>
        <Link href={projectHref(project, "models")}>All models</Link>
      </p>
      <h1>Model {name}</h1>
      <ErrorBox error={model.error} />
      {!m && !model.error && <Loading what="model" />}
      {m && (
        <>
          <p>
            {m.description || <span className="muted">No description.</span>} Owner: {m.owner}. Aliases:{" "}
            <span data-testid="model-aliases">{aliasList(m.aliases)}</span>.
          </p>
          <Section title="Versions" id="versions">
            <DataTable
              caption={`Versions of ${name}, newest first`}
              testId="versions-table"
              rows={m.versions}
              rowKey={(v) => String(v.version)}
              columns={[
                {
                  key: "version",
                  header: "Version",
                  cell: (v) => <Link href={projectHref(project, "models", name, String(v.version))}>v{v.version}</Link>,
                },
                { key: "aliases", header: "Aliases", cell: (v) => (v.aliases?.length ? v.aliases.join(", ") : "—") },
                { key: "stage", header: "Stage", cell: (v) => v.stage },
                { key: "format", header: "Format", cell: (v) => v.artifact.format },
                { key: "author", header: "Author", cell: (v) => v.author },
                {
                  key: "run",
                  header: "Source run",
                  cell: (v) => (v.source_run_id ? <code>{shortId(v.source_run_id)}</code> : "—"),
                },
                { key: "created", header: "Created", cell: (v) => formatTime(v.created_at) },
              ]}
            />
          </Section>
          <ModelMetricsSection project={project} name={name} versions={m.versions} />
          {Object.keys(m.aliases ?? {}).length > 0 && (
            <Section title="Alias history" id="alias-history">
              {Object.keys(m.aliases ?? {}).map((a) => (
                <AliasHistory key={a} project={project} name={name} alias={a} />
              ))}
            </Section>
          )}
        </>
      )}
    </>
  );
}
