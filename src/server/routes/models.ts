/** Registry routes: models, versions (register, show, tags, stage), artifacts (upload, pull), lineage, model card. */
import type { Readable } from "node:stream";
import { z } from "zod";
import { getManifest } from "../../core/artifacts/manifest.js";
import { InvalidInputError, NotFoundError } from "../../core/errors.js";
import { modelCardMarkdown } from "../../core/registry/card.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";
import {
  cardToWire,
  lineageToWire,
  modelToWire,
  modelWire,
  outcomeToWire,
  outcomeWire,
  versionToWire,
  versionWire,
} from "./models-wire.js";

const P = "/api/v1/projects/:project";
const tags = ["models"];
const modelParams = z.object({ project: z.string(), name: z.string() });
/** `:v` is a number, `latest` or an alias: it is resolved as `name@v`. */
const versionParams = modelParams.extend({ v: z.string() });
const refOf = (p: { name: string; v: string }) => `${p.name}@${p.v}`;
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "expected a sha256 (64 lowercase hex)");

const artifactBody = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("blob"), sha256, file_name: z.string().min(1) }),
  z.object({
    kind: z.literal("tree"),
    entries: z.array(z.object({ path: z.string().min(1), sha256, size: z.number().int().min(0) })).min(1),
  }),
]);

const manifestWire = z.object({
  storage: z.string(),
  sha256: z.string(),
  entries: z.array(z.object({ path: z.string(), sha256: z.string(), size: z.number() })),
});

export const modelRoutes: AnyRoute[] = [
  defineRoute({
    method: "POST",
    url: `${P}/model-blobs`,
    summary: "Upload one file of a model (raw body); answers its sha256, to name in a registration.",
    tags,
    auth: "bearer",
    role: "member",
    status: 201,
    bodyLimit: 8 * 1024 * 1024 * 1024,
    response: z.object({ sha256: z.string(), size: z.number() }),
    handler: async ({ services, request }) => {
      const body = request.body as Readable | Buffer | undefined;
      if (!body || typeof body !== "object")
        throw new InvalidInputError("send the file as the raw request body (Content-Type: application/octet-stream)");
      return services.artifacts.putBlob(body as Readable);
    },
  }),
  defineRoute({
    method: "GET",
    url: `${P}/models`,
    summary: "List registered models with their aliases and latest version.",
    tags,
    auth: "bearer",
    role: "viewer",
    params: z.object({ project: z.string() }),
    query: z.object({
      name_like: z.string().optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      offset: z.coerce.number().int().min(0).default(0),
    }),
    response: z.object({ models: z.array(modelWire), total: z.number() }),
    handler: async ({ services, project, query }) => {
      const { models, total } = await services.registry.searchModels(project, {
        nameLike: query.name_like,
        limit: query.limit,
        offset: query.offset,
      });
      const out = [];
      for (const m of models) {
        const latest =
          (await services.registry.searchVersions(project, { modelName: m.name, limit: 1 }))[0]?.version ?? null;
        out.push(modelToWire(m, { aliases: await services.registry.listAliases(project, m.name), latest }));
      }
      return { models: out, total };
    },
  }),
  defineRoute({
    method: "POST",
    url: `${P}/models`,
    summary: "Create a registered model (registering a version creates it too).",
    tags,
    auth: "bearer",
    role: "member",
    status: 201,
    params: z.object({ project: z.string() }),
    body: z.object({
      name: z.string(),
      description: z.string().optional(),
      tags: z.record(z.string(), z.string()).optional(),
    }),
    response: modelWire,
    handler: async ({ services, principal, project, body }) =>
      modelToWire(await services.registry.createModel(principal.userName, project, body)),
  }),
  defineRoute({
    method: "GET",
    url: `${P}/models/:name`,
    summary: "A model with its aliases and versions (newest first).",
    tags,
    auth: "bearer",
    role: "viewer",
    params: modelParams,
    response: modelWire.extend({ versions: z.array(versionWire) }),
    handler: async ({ services, project, params }) => {
      const model = await services.registry.getModel(project, params.name);
      const aliases = await services.registry.listAliases(project, params.name);
      const versions = await services.registry.searchVersions(project, { modelName: params.name, limit: 1000 });
      return {
        ...modelToWire(model, { aliases, latest: versions[0]?.version ?? null }),
        versions: versions.map((v) => versionToWire(v, aliases)),
      };
    },
  }),
  defineRoute({
    method: "PATCH",
    url: `${P}/models/:name`,
    summary: "Change a model's description or owner.",
    tags,
    auth: "bearer",
    role: "member",
    params: modelParams,
    body: z.object({ description: z.string().optional(), owner: z.string().optional() }),
    response: modelWire,
    handler: async ({ services, principal, project, params, body }) =>
      modelToWire(await services.registry.updateModel(principal.userName, project, params.name, body)),
  }),
  defineRoute({
    method: "DELETE",
    url: `${P}/models/:name`,
    summary: "Delete a model and its versions (refused while it has aliases).",
    tags,
    auth: "bearer",
    role: "admin",
    params: modelParams,
    response: z.object({ deleted: z.literal(true) }),
    handler: async ({ services, principal, project, params }) => {
      await services.registry.deleteModel(principal.userName, project, params.name);
      return { deleted: true as const };
    },
  }),
  defineRoute({
    method: "PUT",
    url: `${P}/models/:name/tags/:key`,
    summary: "Set a model tag.",
    tags,
    auth: "bearer",
    role: "member",
    params: modelParams.extend({ key: z.string() }),
    body: z.object({ value: z.string() }),
    response: z.object({ key: z.string(), value: z.string() }),
    handler: async ({ services, principal, project, params, body }) => {
      await services.registry.setModelTag(principal.userName, project, params.name, params.key, body.value);
      return { key: params.key, value: body.value };
    },
  }),
  defineRoute({
    method: "POST",
    url: `${P}/models/:name/versions`,
    summary:
      "Register a new version from uploaded files (creates the model on first use); optionally request an alias under the policies.",
    description:
      "Without run_id a run is recorded for the registration, so lineage is never empty. With alias, the answer's `promotion` says whether the alias moved (applied), awaits approvals (pending) or was refused, with the decision record.",
    tags,
    auth: "bearer",
    role: "member",
    status: 201,
    params: modelParams,
    body: z.object({
      artifact: artifactBody,
      run_id: z.string().nullable().optional(),
      description: z.string().optional(),
      intended_use: z.string().optional(),
      tags: z.record(z.string(), z.string()).optional(),
      alias: z.string().optional(),
      policy: z.string().optional(),
      /** Without run_id: lineage facts for the run recorded for this registration. */
      lineage: z
        .object({ dataset_versions: z.array(z.string().min(1)).optional(), git_commit: z.string().min(1).optional() })
        .optional(),
    }),
    response: z.object({ version: versionWire, created: z.boolean(), promotion: outcomeWire.nullable() }),
    handler: async ({ services, principal, project, params, body }) => {
      const artifact =
        body.artifact.kind === "blob"
          ? { kind: "blob" as const, sha256: body.artifact.sha256, fileName: body.artifact.file_name }
          : body.artifact;
      const { version, created } = await services.registry.registerVersion({
        actor: principal.userName,
        project,
        name: params.name,
        artifact,
        runId: body.run_id ?? null,
        description: body.description,
        intendedUse: body.intended_use,
        tags: body.tags,
        lineage: body.lineage
          ? { datasetVersions: body.lineage.dataset_versions, gitCommit: body.lineage.git_commit }
          : undefined,
        // A run token's registrations are the person behind its run's.
        pipelineRunId: principal.runId ?? null,
      });
      const promotion = body.alias
        ? await services.registry.promote({
            actor: principal.userName,
            project,
            ref: `${params.name}@${version.version}`,
            target: { kind: "alias", name: body.alias },
            policy: body.policy,
          })
        : null;
      return { version: versionToWire(version), created, promotion: promotion ? outcomeToWire(promotion) : null };
    },
  }),
  defineRoute({
    method: "GET",
    url: `${P}/models/:name/versions/:v`,
    summary: "One version; `:v` is a number, `latest` or an alias.",
    tags,
    auth: "bearer",
    role: "viewer",
    params: versionParams,
    response: versionWire,
    handler: async ({ services, project, params }) => {
      const v = await services.registry.resolve(project, refOf(params));
      return versionToWire(v, await services.registry.listAliases(project, params.name));
    },
  }),
  defineRoute({
    method: "PATCH",
    url: `${P}/models/:name/versions/:v`,
    summary: "Change a version's description (its artifact never changes).",
    tags,
    auth: "bearer",
    role: "member",
    params: versionParams,
    body: z.object({ description: z.string() }),
    response: versionWire,
    handler: async ({ services, principal, project, params, body }) => {
      const v = await services.registry.resolve(project, refOf(params));
      return versionToWire(
        await services.registry.updateVersion(principal.userName, project, v.modelName, v.version, body),
      );
    },
  }),
  defineRoute({
    method: "PUT",
    url: `${P}/models/:name/versions/:v/tags/:key`,
    summary: "Set a version tag.",
    tags,
    auth: "bearer",
    role: "member",
    params: versionParams.extend({ key: z.string() }),
    body: z.object({ value: z.string() }),
    response: versionWire,
    handler: async ({ services, principal, project, params, body }) => {
      const v = await services.registry.resolve(project, refOf(params));
      return versionToWire(
        await services.registry.setVersionTag(
          principal.userName,
          project,
          v.modelName,
          v.version,
          params.key,
          body.value,
        ),
      );
    },
  }),
  defineRoute({
    method: "GET",
    url: `${P}/models/:name/versions/:v/artifact`,
    summary:
      "The files of a version's artifact, each with its sha256 (what `tandem models pull` fetches and verifies).",
    tags,
    auth: "bearer",
    role: "viewer",
    params: versionParams,
    response: manifestWire,
    handler: async ({ services, project, params }) => {
      const v = await services.registry.resolve(project, refOf(params));
      const a = v.artifact;
      const entries =
        a.storage === "blob"
          ? [{ path: a.fileName ?? "model.onnx", sha256: a.sha256, size: a.size }]
          : (await getManifest(services.artifacts, a.sha256)).entries;
      return { storage: a.storage, sha256: a.sha256, entries };
    },
  }),
  defineRoute({
    method: "GET",
    url: `${P}/models/:name/versions/:v/artifact/file`,
    summary: "One file of a version's artifact (raw bytes, verified against its sha256 as they stream).",
    tags,
    auth: "bearer",
    role: "viewer",
    raw: true,
    params: versionParams,
    query: z.object({ path: z.string().optional() }),
    handler: async ({ services, project, params, query, reply }) => {
      const v = await services.registry.resolve(project, refOf(params));
      const a = v.artifact;
      let sha = a.sha256;
      if (a.storage === "tree") {
        const entry = (await getManifest(services.artifacts, a.sha256)).entries.find((e) => e.path === query.path);
        if (!entry) throw new NotFoundError(`${refOf(params)} has no file ${JSON.stringify(query.path ?? "")}`);
        sha = entry.sha256;
      }
      const stream = await services.artifacts.getBlob(sha);
      return reply.header("content-type", "application/octet-stream").header("x-tandem-sha256", sha).send(stream);
    },
  }),
  defineRoute({
    method: "GET",
    url: `${P}/models/:name/versions/:v/lineage`,
    summary: "Lineage: version → source run → pipeline run → steps → dataset versions, git commit, environment digest.",
    tags,
    auth: "bearer",
    role: "viewer",
    params: versionParams,
    response: z.object({
      version: versionWire,
      source_run: z.unknown(),
      pipeline_run: z.unknown(),
      steps: z.array(z.unknown()),
      dataset_versions: z.array(z.string()),
      git_commit: z.string().nullable(),
      git_dirty: z.array(z.string()),
      env_digest: z.string().nullable(),
      env_parts: z.record(z.string(), z.string()),
      requirements: z.record(z.string(), z.string()),
      nodes: z.array(
        z.object({
          id: z.string(),
          kind: z.string(),
          label: z.string(),
          attributes: z.record(z.string(), z.unknown()),
        }),
      ),
      edges: z.array(z.object({ from: z.string(), to: z.string(), relation: z.string() })),
    }),
    handler: async ({ services, project, params }) =>
      lineageToWire(await services.registry.lineage(project, refOf(params))),
  }),
  defineRoute({
    method: "GET",
    url: `${P}/lineage/datasets/:dataset/models`,
    summary: "Reverse lineage: the model versions trained on a dataset version (e.g. flights@3).",
    tags,
    auth: "bearer",
    role: "viewer",
    params: z.object({ project: z.string(), dataset: z.string() }),
    response: z.object({ dataset: z.string(), versions: z.array(versionWire) }),
    handler: async ({ services, project, params }) => ({
      dataset: params.dataset,
      versions: (await services.registry.versionsTrainedOn(project, params.dataset)).map((v) => versionToWire(v)),
    }),
  }),
  defineRoute({
    method: "GET",
    url: `${P}/models/:name/versions/:v/card`,
    summary: "The version's model card: JSON, or Markdown with ?format=md.",
    tags,
    auth: "bearer",
    role: "viewer",
    raw: true,
    params: versionParams,
    query: z.object({ format: z.enum(["json", "md"]).default("json") }),
    handler: async ({ services, project, params, query, reply }) => {
      const card = await services.registry.card(project, refOf(params));
      if (query.format === "md")
        return reply.header("content-type", "text/markdown; charset=utf-8").send(modelCardMarkdown(card));
      return reply.header("content-type", "application/json").send(JSON.stringify(cardToWire(card)));
    },
  }),
];
