/**
 * One search box over the project's datasets, pipelines, models and endpoints, built from their list
 * routes (there is no server-side catalog route): names, owners and descriptions as each API gives them.
 */
import { useMemo, useState } from "react";
import { projectPath } from "../api/client";
import type { DatasetSummaryWire } from "../api/data";
import type { PipelineSummaryWire } from "../api/pipelines";
import type { ModelWire } from "../api/registry";
import type { EndpointWire } from "../api/serving";
import { DataTable } from "../components/table";
import { ErrorBox, Loading, Section } from "../components/status";
import { Link, projectHref, setQueryParam, useLocation } from "../lib/router";
import { useApi } from "../lib/use-api";

export interface CatalogItem {
  kind: "dataset" | "pipeline" | "model" | "endpoint";
  name: string;
  owner: string;
  description: string;
  href: string;
}

export function CatalogPage({ project }: { project: string }) {
  const url = useLocation();
  const query = url.searchParams.get("q") ?? "";
  const [draft, setDraft] = useState(query);
  const datasets = useApi<{ datasets: DatasetSummaryWire[] }>(projectPath(project, "/datasets"));
  const pipelines = useApi<{ pipelines: PipelineSummaryWire[] }>(projectPath(project, "/pipelines"));
  const models = useApi<{ models: ModelWire[] }>(projectPath(project, "/models"));
  const endpoints = useApi<{ endpoints: EndpointWire[] }>(projectPath(project, "/endpoints"));
  const loading = datasets.loading || pipelines.loading || models.loading || endpoints.loading;

  const items = useMemo<CatalogItem[]>(
    () => [
      ...(datasets.data?.datasets ?? []).map((d) => ({
        kind: "dataset" as const,
        name: d.name,
        owner: d.created_by,
        description: d.latest_version !== null ? `latest version ${d.latest_version}` : "",
        href: projectHref(project, "datasets", d.name),
      })),
      ...(pipelines.data?.pipelines ?? []).map((p) => ({
        kind: "pipeline" as const,
        name: p.name,
        owner: p.latest_run?.created_by ?? "—",
        description: p.description ?? `steps: ${p.steps.join(", ")}`,
        href: projectHref(project, "pipeline-runs"),
      })),
      ...(models.data?.models ?? []).map((m) => ({
        kind: "model" as const,
        name: m.name,
        owner: m.owner,
        description: m.description,
        href: projectHref(project, "models", m.name),
      })),
      ...(endpoints.data?.endpoints ?? []).map((e) => ({
        kind: "endpoint" as const,
        name: e.name,
        owner: e.created_by,
        description: `serves ${e.primary}`,
        href: projectHref(project, "endpoints", e.name),
      })),
    ],
    [project, datasets.data, pipelines.data, models.data, endpoints.data],
  );
  const needle = query.trim().toLowerCase();
  const shown = needle
    ? items.filter((i) => [i.name, i.owner, i.description, i.kind].some((s) => s.toLowerCase().includes(needle)))
    : items;

  return (
    <>
      <h1>Catalog</h1>
      <form
        role="search"
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          setQueryParam("q", draft.trim());
        }}
      >
        <label className="field grow">
          <span>Search datasets, pipelines, models and endpoints</span>
          <input type="search" value={draft} onChange={(e) => setDraft(e.target.value)} data-testid="catalog-search" />
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorBox error={datasets.error ?? pipelines.error ?? models.error ?? endpoints.error} />
      <Section title={needle ? `Results for “${query}”` : "Everything in the project"} id="catalog">
        {loading && items.length === 0 ? (
          <Loading what="catalog" />
        ) : (
          <DataTable
            caption="Catalog entries"
            testId="catalog-table"
            rows={shown}
            rowKey={(i) => `${i.kind}:${i.name}`}
            columns={[
              { key: "name", header: "Name", cell: (i) => <Link href={i.href}>{i.name}</Link> },
              { key: "kind", header: "Kind", cell: (i) => i.kind },
              { key: "owner", header: "Owner", cell: (i) => i.owner },
              { key: "description", header: "Description", cell: (i) => i.description },
            ]}
          />
        )}
      </Section>
    </>
  );
}
