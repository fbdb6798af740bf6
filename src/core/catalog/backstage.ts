/**
 * Catalog facts → Backstage entities (see model.ts for the mapping). Pure: the same facts give the
 * same entities, in a stable order, so a Backstage instance reading the export sees no churn.
 *
 * Every relation points at an entity emitted in the same answer: a model's datasets that no longer
 * exist, or an owner that is not a user, are left out rather than left dangling (Backstage shows a
 * dangling ref as an error on the entity page).
 */
import { stringify as toYaml } from "yaml";
import { entityName, entityRef, namespaceName } from "./names.js";
import { endpointApiDefinition } from "./openapi.js";
import type { BackstageEntity, CatalogFacts } from "./model.js";

const API_VERSION = "backstage.io/v1alpha1";
/** Users live in Backstage's default namespace: one person across every project. */
const USER_NAMESPACE = "default";
const TEAM = "team";

export interface BackstageOptions {
  /** Where Tandem's UI is, for links back (e.g. `http://127.0.0.1:7300`). */
  uiUrl: string;
}

const userRef = (user: string) => entityRef("User", USER_NAMESPACE, entityName(user));

function link(uiUrl: string, project: string, title: string, ...rest: string[]) {
  const path = ["p", project, ...rest].map(encodeURIComponent).join("/");
  return { url: `${uiUrl.replace(/\/+$/, "")}/${path}`, title, icon: "dashboard" };
}

/** One project's entities (without Users: people span projects, see {@link toBackstageEntities}). */
function projectEntities(f: CatalogFacts, o: BackstageOptions, users: Map<string, Set<string>>): BackstageEntity[] {
  const ns = namespaceName(f.project);
  const team = entityRef("Group", ns, TEAM);
  const system = entityRef("System", ns, entityName(f.project));
  const note = (user: string) => {
    if (!users.has(user)) users.set(user, new Set());
    return userRef(user);
  };
  const owner = (user: string) => note(user);
  const base = (
    kind: BackstageEntity["kind"],
    name: string,
    title: string,
    extra: Partial<BackstageEntity["metadata"]>,
  ) =>
    ({
      apiVersion: API_VERSION,
      kind,
      metadata: {
        name,
        namespace: ns,
        title,
        ...extra,
        annotations: { "tandem.dev/project": f.project, ...(extra.annotations ?? {}) },
      },
    }) as const;

  const out: BackstageEntity[] = [];
  out.push({
    ...base("System", entityName(f.project), f.project, {
      description: f.description || `Tandem project ${f.project}`,
      links: [link(o.uiUrl, f.project, "Tandem overview"), link(o.uiUrl, f.project, "Tandem catalog", "catalog")],
      annotations: f.specVersion !== null ? { "tandem.dev/spec-version": String(f.specVersion) } : {},
    }),
    spec: { owner: team },
  });
  const members = [...f.members].sort((a, b) => a.user.localeCompare(b.user));
  for (const m of members) users.set(m.user, (users.get(m.user) ?? new Set()).add(team));
  out.push({
    ...base("Group", TEAM, `${f.project} team`, {
      description: `Members of the Tandem project ${f.project}`,
      annotations: Object.fromEntries(members.map((m) => [`tandem.dev/role.${entityName(m.user)}`, m.role])),
    }),
    spec: {
      type: "team",
      profile: { displayName: `${f.project} team` },
      children: [],
      members: members.map((m) => entityName(m.user)).map((n) => entityRef("User", USER_NAMESPACE, n)),
    },
  });

  const datasetNames = new Set(f.datasets.map((d) => d.name));
  const datasetRef = (name: string) => entityRef("Resource", ns, entityName(name, "dataset-"));
  const datasetRefs = (names: string[]) =>
    [...new Set(names)]
      .filter((n) => datasetNames.has(n))
      .sort()
      .map(datasetRef);
  for (const d of [...f.datasets].sort((a, b) => a.name.localeCompare(b.name))) {
    out.push({
      ...base("Resource", entityName(d.name, "dataset-"), d.name, {
        description: `Tandem dataset ${d.name}${d.latestVersion !== null ? `, latest version ${d.latestVersion}` : ""}`,
        links: [link(o.uiUrl, f.project, "Dataset in Tandem", "datasets", d.name)],
        annotations: {
          "tandem.dev/dataset": d.name,
          ...(d.latestVersion !== null ? { "tandem.dev/dataset-version": String(d.latestVersion) } : {}),
        },
      }),
      spec: { type: "dataset", owner: owner(d.createdBy), system },
    });
  }

  const modelNames = new Set(f.models.map((m) => m.name));
  const modelRef = (name: string) => entityRef("Resource", ns, entityName(name, "model-"));
  for (const m of [...f.models].sort((a, b) => a.name.localeCompare(b.name))) {
    const aliases = Object.entries(m.aliases).sort(([a], [b]) => a.localeCompare(b));
    out.push({
      ...base("Resource", entityName(m.name, "model-"), m.name, {
        description: m.description || `Tandem model ${m.name}`,
        links: [link(o.uiUrl, f.project, "Model in Tandem", "models", m.name)],
        annotations: {
          "tandem.dev/model": m.name,
          ...(m.latestVersion !== null ? { "tandem.dev/model-version": String(m.latestVersion) } : {}),
          ...(aliases.length ? { "tandem.dev/aliases": aliases.map(([a, v]) => `${a}=${v}`).join(",") } : {}),
          ...(m.signature ? { "tandem.dev/task": m.signature.task } : {}),
        },
      }),
      spec: { type: "ai-model", owner: owner(m.owner), system, dependsOn: datasetRefs(m.datasets) },
    });
  }

  for (const e of [...f.endpoints].sort((a, b) => a.name.localeCompare(b.name))) {
    const api = entityRef("API", ns, entityName(e.name));
    const model = e.llm ? undefined : f.models.find((m) => m.name === e.model);
    const annotations = {
      "tandem.dev/endpoint": e.name,
      "tandem.dev/serves": e.primary,
      ...(e.primaryVersion !== null
        ? { [e.llm ? "tandem.dev/prompt-version" : "tandem.dev/model-version"]: String(e.primaryVersion) }
        : {}),
    };
    const links = [link(o.uiUrl, f.project, "Endpoint in Tandem", "endpoints", e.name)];
    out.push({
      ...base("Component", entityName(e.name, "endpoint-"), e.name, {
        description: `Tandem ${e.llm ? "LLM" : "model"} endpoint ${e.name}, serving ${e.primary} (${e.status})`,
        links,
        annotations,
      }),
      spec: {
        type: "model-server",
        lifecycle: "production",
        owner: owner(e.createdBy),
        system,
        providesApis: [api],
        dependsOn: !e.llm && modelNames.has(e.model) ? [modelRef(e.model)] : [],
      },
    });
    out.push({
      ...base("API", entityName(e.name), `${e.name} API`, {
        description: e.llm
          ? `OpenAI-compatible chat completions of ${e.name}`
          : `Open Inference Protocol v2 and predict routes of ${e.name}`,
        links,
        annotations,
      }),
      spec: {
        type: e.llm ? "openai" : "openapi",
        lifecycle: "production",
        owner: owner(e.createdBy),
        system,
        definition: endpointApiDefinition(e, model, o.uiUrl),
      },
    });
  }

  for (const p of [...f.pipelines].sort((a, b) => a.name.localeCompare(b.name))) {
    const registers = [...new Set(p.models)]
      .filter((m) => modelNames.has(m))
      .sort()
      .map(modelRef);
    out.push({
      ...base("Component", entityName(p.name, "pipeline-"), p.name, {
        description: p.description ?? `Tandem pipeline ${p.name}: ${p.steps.join(" → ")}`,
        links: [link(o.uiUrl, f.project, "Pipeline runs in Tandem", "pipeline-runs")],
        annotations: {
          "tandem.dev/pipeline": p.name,
          ...(f.specVersion !== null ? { "tandem.dev/spec-version": String(f.specVersion) } : {}),
          ...(p.triggers.length ? { "tandem.dev/triggers": [...new Set(p.triggers)].join(",") } : {}),
        },
      }),
      spec: {
        type: "ml-pipeline",
        lifecycle: "production",
        owner: team,
        system,
        dependsOn: [...datasetRefs(p.datasets), ...registers],
      },
    });
  }
  return out;
}

/** Every visible project's entities, then one User per person any of them names. */
export function toBackstageEntities(projects: CatalogFacts[], options: BackstageOptions): BackstageEntity[] {
  const users = new Map<string, Set<string>>();
  const sorted = [...projects].sort((a, b) => a.project.localeCompare(b.project));
  const out = sorted.flatMap((f) => projectEntities(f, options, users));
  for (const [user, groups] of [...users].sort(([a], [b]) => a.localeCompare(b))) {
    out.push({
      apiVersion: API_VERSION,
      kind: "User",
      metadata: {
        name: entityName(user),
        namespace: USER_NAMESPACE,
        title: user,
        annotations: { "tandem.dev/user": user },
      },
      spec: { profile: { displayName: user }, memberOf: [...groups].sort() },
    });
  }
  return out;
}

/** The entities as one multi-document catalog-info.yaml (what a Backstage `url` location reads). */
export function backstageYaml(items: BackstageEntity[]): string {
  return items.map((e) => toYaml(e, { lineWidth: 0 })).join("---\n");
}
