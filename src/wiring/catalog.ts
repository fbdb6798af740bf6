/**
 * The catalog area: Backstage entities read from the other areas' services (data, registry, serving,
 * pipelines, access) — the same list calls the UI's catalog page makes, in one place on the server.
 */
import { roleAtLeast } from "../core/governance/model.js";
import type { CatalogFacts, CatalogModel, CatalogPipeline } from "../core/catalog/model.js";
import { CatalogService, type CatalogFactsSource } from "../core/catalog/service.js";
import type { PipelineSpec } from "../core/pipelines/spec/schema.js";
import type { Services } from "../server/services.js";
import type { Wiring } from "./kit.js";

declare module "../server/services.js" {
  interface Services {
    catalog: CatalogService;
  }
}

/** Versions read per model for the datasets its lineage names (the newest; plenty for a catalog). */
const VERSIONS_PER_MODEL = 1000;

/** `dataset://flights@3`, `flights@latest` → `flights`. */
export const datasetOfRef = (ref: string) => ref.replace(/^dataset:\/\//, "").split("@")[0] ?? ref;

/** What a pipeline reads and registers, as its spec says (expressions are left out: they name step outputs). */
export function pipelineFacts(name: string, p: PipelineSpec): CatalogPipeline {
  const datasets = new Set<string>();
  const models = new Set<string>();
  const text = JSON.stringify(p);
  for (const m of text.matchAll(/dataset:\/\/([A-Za-z][A-Za-z0-9_-]*)@/g)) datasets.add(m[1]!);
  for (const step of Object.values(p.steps)) {
    const w = (step as { with?: Record<string, unknown>; uses?: string }).with;
    const uses = (step as { uses?: string }).uses;
    if (!w || !uses) continue;
    if (typeof w.dataset === "string" && !w.dataset.includes("${{")) datasets.add(datasetOfRef(w.dataset));
    if (uses === "tandem/register" && typeof w.model === "string" && !w.model.includes("${{")) models.add(w.model);
  }
  return {
    name,
    description: p.description ?? null,
    steps: Object.keys(p.steps),
    triggers: (p.triggers ?? []).flatMap((t) => Object.keys(t)),
    datasets: [...datasets],
    models: [...models],
  };
}

export class ServicesCatalogFacts implements CatalogFactsSource {
  constructor(private readonly services: Services) {}

  async collect(project: string): Promise<CatalogFacts> {
    const s = this.services;
    const info = (await s.access.listProjects()).find((p) => p.name === project);
    const models: CatalogModel[] = [];
    const { models: registered } = await s.registry.searchModels(project, { limit: 1000, offset: 0 });
    for (const m of registered) {
      const versions = await s.registry.searchVersions(project, { modelName: m.name, limit: VERSIONS_PER_MODEL });
      const aliases = await s.registry.listAliases(project, m.name);
      models.push({
        name: m.name,
        description: m.description,
        owner: m.owner,
        latestVersion: versions[0]?.version ?? null,
        aliases: Object.fromEntries(aliases.map((a) => [a.alias, a.version])),
        datasets: [...new Set(versions.flatMap((v) => v.lineage.datasetVersions.map(datasetOfRef)))],
        signature: versions[0]?.signature.model ?? null,
      });
    }
    const spec = await s.pipelines.store.latestSpec(project);
    const pipelines = spec
      ? Object.entries(s.pipelines.specs.parsed(spec).pipelines ?? {}).map(([name, p]) => pipelineFacts(name, p))
      : [];
    return {
      project,
      description: info?.description ?? "",
      createdBy: info?.createdBy ?? "",
      members: (await s.access.listMembers(project)).map((m) => ({
        user: m.userName,
        displayName: m.userName,
        role: m.role,
      })),
      datasets: (await s.data.listDatasets(project)).map((d) => ({
        name: d.name,
        latestVersion: d.latestVersion,
        createdBy: d.createdBy,
      })),
      models,
      endpoints: (await s.serving.endpoints.list(project)).map((e) => ({
        name: e.name,
        model: e.model,
        primary: `${e.model}@${e.primary.kind === "alias" ? e.primary.alias : e.primary.version}`,
        primaryVersion: e.primaryVersion,
        status: e.status,
        createdBy: e.createdBy,
        llm: Boolean(e.llm),
      })),
      pipelines,
      specVersion: spec?.version ?? null,
    };
  }
}

export const wireCatalog: Wiring = ({ services }) => {
  services.catalog = new CatalogService({
    facts: new ServicesCatalogFacts(services),
    visibleProjects: async (principal) => {
      const out: string[] = [];
      for (const p of await services.access.listProjects())
        if (roleAtLeast(await services.access.roleIn(principal, p.name), "viewer")) out.push(p.name);
      return out;
    },
  });
};
