/**
 * MLflow's model-registry API (mlflow/protos/model_registry.proto) mapped onto Tandem's registry
 * (core/registry/service.ts has the mapping table). Versions are created READY at once, from any
 * source an MLflow client registers (mlflow-registry-wire.ts). Aliases go through the registry's
 * policy gate; a refusal answers 409 INVALID_STATE with the reason.
 */
import { z } from "zod";
import { InvalidInputError } from "../../core/errors.js";
import { matchesSimple, parseSimpleFilter } from "../../core/tracking/filter/simple.js";
import { decodePageToken, encodePageToken } from "../../core/tracking/paging.js";
import { missingParameter } from "../../core/tracking/validation.js";
import { modelVersionsOrder, registeredModelsOrder, sortByClauses } from "./mlflow-registry-order.js";
import { mlflowRoute } from "./mlflow-tracking.js";
import {
  aliasesOf,
  artifactOfSource,
  downloadUri,
  mirrorVersion,
  modelOut,
  sourceOf,
  versionNumber,
  versionOut,
  versionWire,
} from "./mlflow-registry-wire.js";
import { keyValue, queryInt, repeated } from "./mlflow-wire.js";

const search = z.object({
  filter: z.string().optional(),
  max_results: queryInt.optional(),
  order_by: repeated.optional(),
  page_token: z.string().optional(),
});
const nameVersion = z.object({ name: z.string().optional(), version: z.union([z.string(), z.number()]).optional() });
type Merged = Record<string, unknown>;
/** DELETE and PATCH requests carry their fields in a JSON body; some clients put them in the query. */
const merged = (ctx: { query: unknown; body: unknown }): Merged => ({
  ...((ctx.query as Merged) ?? {}),
  ...((ctx.body as Merged) ?? {}),
});
const requireName = (m: Merged): string => {
  if (typeof m.name !== "string" || !m.name) throw missingParameter("name");
  return m.name;
};
const loose = z.record(z.string(), z.unknown()).optional();
/** A filter's `tags.<key>`: the tag's own value only (`tags.toString` is not Object.prototype's). */
const tagOf = (tags: Record<string, string>, filterKey: string): string | undefined => {
  const key = filterKey.slice("tags.".length);
  return Object.hasOwn(tags, key) ? tags[key] : undefined;
};
/**
 * How long after `registered-models/create` a refused first version still removes the model: the
 * two requests of one `mlflow.register_model` call follow each other within milliseconds; a minute
 * leaves room for a slow client without touching a model someone made on purpose earlier.
 */
const UNDO_REGISTRATION_MS = 60_000;

/** MLflow's thresholds: 1000 registered models, 200 000 model versions per page. */
function page<T>(items: T[], q: z.infer<typeof search>, fallback: number, max: number) {
  const limit = q.max_results ?? fallback;
  if (limit < 1 || limit > max)
    throw new InvalidInputError(`Invalid value ${limit} for parameter 'max_results': between 1 and ${max}`);
  const offset = decodePageToken(q.page_token);
  return {
    items: items.slice(offset, offset + limit),
    next: offset + limit < items.length ? encodePageToken(offset + limit) : undefined,
  };
}

export const mlflowRegistryRoutes = [
  mlflowRoute("POST", "/registered-models/create", {
    summary: "Create a registered model.",
    body: z.object({ name: z.string(), tags: z.array(keyValue).optional(), description: z.string().optional() }),
    handler: async ({ body, project, services, principal }) => {
      const tags = Object.fromEntries((body.tags ?? []).map((t) => [t.key, t.value ?? ""]));
      const m = await services.registry.createModel(principal.userName, project, {
        name: body.name,
        description: body.description,
        tags,
      });
      return { registered_model: await modelOut(services, project, m) };
    },
  }),
  mlflowRoute("GET", "/registered-models/get", {
    summary: "Get a registered model.",
    query: z.object({ name: z.string() }),
    handler: async ({ query, project, services }) => ({
      registered_model: await modelOut(services, project, await services.registry.getModel(project, query.name)),
    }),
  }),
  mlflowRoute("POST", "/registered-models/rename", {
    summary: "Rename a registered model.",
    body: z.object({ name: z.string(), new_name: z.string() }),
    handler: async ({ body, project, services, principal }) => ({
      registered_model: await modelOut(
        services,
        project,
        await services.registry.renameModel(principal.userName, project, body.name, body.new_name),
      ),
    }),
  }),
  mlflowRoute("PATCH", "/registered-models/update", {
    summary: "Update a registered model's description.",
    body: z.object({ name: z.string(), description: z.string().optional() }),
    handler: async ({ body, project, services, principal }) => ({
      registered_model: await modelOut(
        services,
        project,
        await services.registry.updateModel(principal.userName, project, body.name, {
          description: body.description ?? "",
        }),
      ),
    }),
  }),
  mlflowRoute("DELETE", "/registered-models/delete", {
    summary: "Delete a registered model (admins, as DELETE /api/v1/projects/{project}/models/{name}).",
    role: "admin",
    query: loose,
    body: loose,
    handler: async (ctx) => {
      await ctx.services.registry.deleteModel(ctx.principal.userName, ctx.project, requireName(merged(ctx)));
      return {};
    },
  }),
  mlflowRoute("GET", "/registered-models/search", {
    summary: "Search registered models (name and tags filters).",
    query: search,
    handler: async ({ query, project, services }) => {
      const clauses = parseSimpleFilter(query.filter, ["name"]);
      const order = registeredModelsOrder(query.order_by);
      const { models } = await services.registry.searchModels(project, { limit: 100_000, offset: 0 });
      const found = models.filter((m) => matchesSimple(clauses, (k) => (k === "name" ? m.name : tagOf(m.tags, k))));
      const sorted = sortByClauses(found, order, (m, field) => (field === "name" ? m.name : m.updatedAt));
      const p = page(sorted, query, 100, 1000);
      return {
        registered_models: await Promise.all(p.items.map((m) => modelOut(services, project, m))),
        ...(p.next ? { next_page_token: p.next } : {}),
      };
    },
  }),
  mlflowRoute("POST", "/registered-models/set-tag", {
    summary: "Set a tag on a registered model.",
    body: z.object({ name: z.string(), key: z.string(), value: z.string().nullish() }),
    handler: async ({ body, project, services, principal }) => {
      await services.registry.setModelTag(principal.userName, project, body.name, body.key, body.value ?? "");
      return {};
    },
  }),
  mlflowRoute("DELETE", "/registered-models/delete-tag", {
    summary: "Delete a tag of a registered model.",
    query: loose,
    body: loose,
    handler: async (ctx) => {
      const m = merged(ctx);
      const name = requireName(m);
      const key = String(m.key ?? "");
      // A tag the model does not have is deleted without a word, as in MLflow's store.
      const model = await ctx.services.registry.getModel(ctx.project, name);
      if (!Object.hasOwn(model.tags, key)) return {};
      await ctx.services.registry.setModelTag(ctx.principal.userName, ctx.project, name, key, null);
      return {};
    },
  }),
  ...(["POST", "GET"] as const).map((method) =>
    mlflowRoute(method, "/registered-models/get-latest-versions", {
      summary: "The newest version per stage (deprecated stages, kept for older clients).",
      role: "viewer",
      changesState: false,
      query: loose,
      body: loose,
      handler: async (ctx) => {
        const m = merged(ctx);
        const name = requireName(m);
        const stages =
          m.stages === undefined ? [] : Array.isArray(m.stages) ? m.stages.map(String) : [String(m.stages)];
        const aliases = await aliasesOf(ctx.services, ctx.project, name);
        return {
          model_versions: (await ctx.services.registry.latestVersions(ctx.project, name, stages)).map((v) =>
            versionOut(v, aliases),
          ),
        };
      },
    }),
  ),
  mlflowRoute("POST", "/registered-models/alias", {
    summary: "Point an alias at a version (through the project's policies).",
    body: z.object({ name: z.string(), alias: z.string(), version: z.union([z.string(), z.number()]) }),
    handler: async ({ body, project, services, principal }) => {
      await services.registry.setAlias({
        actor: principal.userName,
        project,
        ref: `${body.name}@${versionNumber(body.version)}`,
        alias: body.alias,
      });
      return {};
    },
  }),
  mlflowRoute("DELETE", "/registered-models/alias", {
    summary: "Delete an alias.",
    query: loose,
    body: loose,
    handler: async (ctx) => {
      const { services, project } = ctx;
      const m = merged(ctx);
      const name = requireName(m);
      const alias = String(m.alias ?? "");
      // MLflow 2.12 deletes an alias the model does not have without a word (its store's
      // delete_registered_model_alias), so a clean-up step that runs twice passes; an unknown
      // model is still RESOURCE_DOES_NOT_EXIST.
      await services.registry.getModel(project, name);
      if (!(await aliasesOf(services, project, name)).some((a) => a.alias === alias)) return {};
      await services.registry.deleteAlias(ctx.principal.userName, project, name, alias, ctx.role);
      return {};
    },
  }),
  mlflowRoute("GET", "/registered-models/alias", {
    summary: "The version an alias points at.",
    query: z.object({ name: z.string(), alias: z.string() }),
    handler: async ({ query, project, services }) => {
      await services.registry.getModel(project, query.name);
      const held = (await aliasesOf(services, project, query.name)).find((a) => a.alias === query.alias);
      // MLflow answers an alias the model does not have with INVALID_PARAMETER_VALUE (not
      // RESOURCE_DOES_NOT_EXIST), and a script loading models:/m@alias catches that code.
      if (!held) throw new InvalidInputError(`Registered model alias ${query.alias} not found.`);
      return {
        model_version: await versionWire(
          services,
          project,
          await services.registry.getVersion(project, query.name, held.version),
        ),
      };
    },
  }),

  mlflowRoute("POST", "/model-versions/create", {
    summary: "Register any logged artifact as a new version (READY at once): an MLflow model, ONNX, or any other file.",
    body: z.object({
      name: z.string(),
      source: z.string(),
      run_id: z.string().optional(),
      tags: z.array(keyValue).optional(),
      description: z.string().optional(),
      run_link: z.string().optional(),
    }),
    handler: async ({ body, project, services, principal }) => {
      const register = async () => {
        const { artifact, runId, isFile } = await artifactOfSource(services, project, body.source);
        const tags = Object.fromEntries((body.tags ?? []).map((t) => [t.key, t.value ?? ""]));
        const { version } = await services.registry.registerVersion({
          actor: principal.userName,
          project,
          name: body.name,
          artifact,
          runId: body.run_id || runId,
          description: body.description,
          tags,
          source: { uri: body.source, isFile },
          // A step's MLflow client (its run token) registers for the person behind the run.
          pipelineRunId: principal.runId ?? null,
        });
        await mirrorVersion(services, principal.userName, project, version);
        return version;
      };
      try {
        return { model_version: await versionWire(services, project, await register()) };
      } catch (refusal) {
        // mlflow.register_model created the registered model one request earlier, for this version:
        // a refused version takes that empty model with it, so nothing is left behind.
        await services.registry
          .discardUnusedModel(principal.userName, project, body.name, UNDO_REGISTRATION_MS)
          .catch(() => false); // the refusal is the answer the client needs, not a failed clean-up
        throw refusal;
      }
    },
  }),
  mlflowRoute("GET", "/model-versions/get", {
    summary: "Get a model version.",
    query: nameVersion,
    handler: async ({ query, project, services }) => ({
      model_version: await versionWire(
        services,
        project,
        await services.registry.getVersion(project, requireName(query), versionNumber(query.version)),
      ),
    }),
  }),
  mlflowRoute("PATCH", "/model-versions/update", {
    summary: "Update a version's description.",
    body: nameVersion.extend({ description: z.string().optional() }),
    handler: async ({ body, project, services, principal }) => ({
      model_version: await versionWire(
        services,
        project,
        await services.registry.updateVersion(
          principal.userName,
          project,
          requireName(body),
          versionNumber(body.version),
          { description: body.description ?? "" },
        ),
      ),
    }),
  }),
  mlflowRoute("DELETE", "/model-versions/delete", {
    summary: "Delete a version.",
    query: loose,
    body: loose,
    handler: async (ctx) => {
      const m = merged(ctx);
      await ctx.services.registry.deleteVersion(
        ctx.principal.userName,
        ctx.project,
        requireName(m),
        versionNumber(m.version as string),
      );
      return {};
    },
  }),
  mlflowRoute("GET", "/model-versions/search", {
    summary: "Search versions (name, run_id and tags filters).",
    query: search,
    handler: async ({ query, project, services }) => {
      const clauses = parseSimpleFilter(query.filter, ["name", "run_id", "source_path", "version_number"]);
      const nameEq = clauses.find((c) => c.key === "name" && c.op === "=");
      const all = await services.registry.searchVersions(project, {
        modelName: nameEq?.value as string | undefined,
        limit: 100_000,
        offset: 0,
      });
      const found = all.filter((v) =>
        matchesSimple(clauses, (k) =>
          k === "name"
            ? v.modelName
            : k === "run_id"
              ? (v.sourceRunId ?? "")
              : k === "version_number"
                ? String(v.version)
                : k === "source_path"
                  ? sourceOf(v)
                  : tagOf(v.tags, k),
        ),
      );
      const sorted = sortByClauses(found, modelVersionsOrder(query.order_by), (v, field) =>
        field === "name"
          ? v.modelName
          : field === "version"
            ? v.version
            : field === "createdAt"
              ? v.createdAt
              : v.updatedAt,
      );
      const p = page(sorted, query, 10_000, 200_000);
      const out = [];
      for (const v of p.items) out.push(await versionWire(services, project, v));
      return { model_versions: out, ...(p.next ? { next_page_token: p.next } : {}) };
    },
  }),
  mlflowRoute("GET", "/model-versions/get-download-uri", {
    summary: "Where a version's files can be downloaded (the artifact proxy).",
    query: nameVersion,
    handler: async ({ query, project, services, principal }) => {
      const v = await services.registry.getVersion(project, requireName(query), versionNumber(query.version));
      await mirrorVersion(services, principal.userName, project, v);
      return { artifact_uri: downloadUri(v) };
    },
  }),
  mlflowRoute("POST", "/model-versions/transition-stage", {
    summary:
      "Move a version to a stage (deprecated in MLflow). Staging and Production go through the policies that govern them, as aliases do.",
    body: nameVersion.extend({
      stage: z.string(),
      archive_existing_versions: z.union([z.boolean(), z.string()]).optional(),
    }),
    handler: async ({ body, project, services, principal, role }) => {
      const archive = body.archive_existing_versions === true || body.archive_existing_versions === "true";
      const v = await services.registry.requestStage({
        actor: principal.userName,
        role,
        project,
        name: requireName(body),
        version: versionNumber(body.version),
        stage: body.stage,
        archiveExisting: archive,
      });
      return { model_version: await versionWire(services, project, v) };
    },
  }),
  mlflowRoute("POST", "/model-versions/set-tag", {
    summary: "Set a tag on a version.",
    body: nameVersion.extend({ key: z.string(), value: z.string().nullish() }),
    handler: async ({ body, project, services, principal }) => {
      await services.registry.setVersionTag(
        principal.userName,
        project,
        requireName(body),
        versionNumber(body.version),
        body.key,
        body.value ?? "",
      );
      return {};
    },
  }),
  mlflowRoute("DELETE", "/model-versions/delete-tag", {
    summary: "Delete a tag of a version.",
    query: loose,
    body: loose,
    handler: async (ctx) => {
      const m = merged(ctx);
      const [name, version, key] = [requireName(m), versionNumber(m.version as string), String(m.key ?? "")];
      // A tag the version does not have is deleted without a word, as in MLflow's store.
      const v = await ctx.services.registry.getVersion(ctx.project, name, version);
      if (!Object.hasOwn(v.tags, key)) return {};
      await ctx.services.registry.setVersionTag(ctx.principal.userName, ctx.project, name, version, key, null);
      return {};
    },
  }),
];
