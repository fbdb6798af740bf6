/**
 * Pipelines over HTTP. Pipeline runs live under `/pipeline-runs` (not `/runs`, which the Tracking
 * area serves for tracking runs); each pipeline run and step run carries its `tracking_run_id`.
 */
import { z } from "zod";
import { RUN_STATUSES } from "../../core/pipelines/model.js";
import { tandemJsonSchema } from "../../core/pipelines/spec/schema.js";
import { ConflictError } from "../../core/errors.js";
import { roleAtLeast } from "../../core/governance/model.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";
import { pipelineTriggerRoutes } from "./pipeline-triggers.js";
import { pipelineBlobRoutes } from "./pipeline-blobs.js";
import {
  cacheExplanationToWire,
  cacheExplanationWire,
  logToWire,
  logWire,
  runToWire,
  runWire,
  specToWire,
  specVersionWire,
} from "./pipelines-wire.js";

const projectParams = z.object({ project: z.string() });
const runParams = z.object({ project: z.string(), id: z.string() });
const issueWire = z.object({
  file: z.string(),
  line: z.number(),
  column: z.number(),
  field: z.string(),
  message: z.string(),
});
const specBody = z.object({
  source: z.string().max(1_000_000),
  file: z.string().default("tandem.yaml"),
  /** The folder holding tandem.yaml on the server's machine (local and embedded mode). */
  workspace: z.string().nullable().optional(),
});

export const pipelineRoutes: AnyRoute[] = [
  ...pipelineTriggerRoutes,
  ...pipelineBlobRoutes,
  defineRoute({
    method: "GET",
    url: "/api/v1/schemas/tandem-yaml",
    summary: "The JSON Schema of tandem.yaml, for editors.",
    tags: ["pipelines"],
    auth: "none",
    role: null,
    response: z.record(z.string(), z.unknown()),
    handler: async () => tandemJsonSchema(),
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/projects/:project/specs/validate",
    summary:
      "Checks a tandem.yaml without storing it; every issue and warning names file:line:column and field. With `workspace` (the project folder on the server's machine) it also checks project files and paths scripts read; references to datasets, models and endpoints are checked against the stores.",
    tags: ["pipelines"],
    auth: "bearer",
    role: "viewer",
    changesState: false,
    params: projectParams,
    body: specBody,
    response: z.object({
      valid: z.boolean(),
      issues: z.array(issueWire),
      warnings: z.array(issueWire),
      pipelines: z.array(z.string()),
    }),
    handler: async ({ services, project, principal, role, body }) => {
      // Looking into a folder on the server's machine is for those who may apply a spec from one.
      const workspace = roleAtLeast(role, "member") ? (body.workspace ?? null) : null;
      const { spec, issues, warnings } = await services.pipelines.specs.check(project, {
        ...body,
        workspace,
        role,
        user: principal.userName,
      });
      return { valid: issues.length === 0, issues, warnings, pipelines: Object.keys(spec?.pipelines ?? {}) };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/projects/:project/specs",
    summary: "Stores a versioned copy of tandem.yaml (tandem apply); a new version only when it changed.",
    tags: ["pipelines"],
    auth: "bearer",
    role: "member",
    params: projectParams,
    body: specBody,
    status: 201,
    response: specVersionWire,
    description:
      "A spec whose `policies:` differ from the project's policies in force (canonical JSON; no `policies:` removes them all) needs an admin: anyone else gets 403 naming the policies that differ.",
    handler: async ({ services, project, principal, role, body }) =>
      specToWire(
        await services.pipelines.specs.apply(principal.userName, project, {
          source: body.source,
          file: body.file,
          workspace: body.workspace ?? null,
          role,
        }),
      ),
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/specs/:version",
    summary:
      "A stored spec version, with its source and the commit it was read from (`latest`: the applied spec, the newest version not read from a commit).",
    tags: ["pipelines"],
    auth: "bearer",
    role: "viewer",
    params: z.object({ project: z.string(), version: z.union([z.literal("latest"), z.coerce.number().int().min(1)]) }),
    response: specVersionWire,
    handler: async ({ services, project, params }) =>
      specToWire(
        await services.pipelines.specs.version(project, params.version === "latest" ? undefined : params.version),
        true,
      ),
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/pipelines",
    summary: "The pipelines of the latest spec, with their steps, params, triggers and latest run.",
    tags: ["pipelines"],
    auth: "bearer",
    role: "viewer",
    params: projectParams,
    response: z.object({ spec_version: z.number().nullable(), pipelines: z.array(z.record(z.string(), z.unknown())) }),
    handler: async ({ services, project }) => {
      const v = await services.pipelines.store.latestSpec(project);
      if (!v) return { spec_version: null, pipelines: [] };
      const spec = services.pipelines.specs.parsed(v);
      const pipelines = [];
      for (const [name, p] of Object.entries(spec.pipelines ?? {})) {
        const [latest] = await services.pipelines.listRuns(project, { pipeline: name, limit: 1 });
        pipelines.push({
          name,
          description: p.description ?? null,
          params: p.params ?? {},
          triggers: p.triggers ?? [],
          concurrency: p.concurrency ?? "queue",
          steps: Object.keys(p.steps),
          latest_run: latest ? runToWire(latest) : null,
        });
      }
      return { spec_version: v.version, pipelines };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/projects/:project/pipelines/:pipeline/runs",
    summary:
      "Starts a pipeline run (manual trigger). 409 when the pipeline's concurrency policy is `skip` and a run is active.",
    tags: ["pipelines"],
    auth: "bearer",
    role: "member",
    params: z.object({ project: z.string(), pipeline: z.string() }),
    body: z.object({
      params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
      no_cache: z.boolean().default(false),
      concurrency: z.number().int().min(1).max(1024).optional(),
      spec_version: z.number().int().min(1).optional(),
      workspace: z.string().nullable().optional(),
      at: z
        .string()
        .regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, "a full commit id (40 hex digits; `tandem run --at REF` resolves REF)")
        .optional()
        .describe(
          "Run this commit: a clean checkout from the git repository holding the spec's folder, with the commit's own tandem.yaml (stored as a spec version; its policies: are checked against the caller's role).",
        ),
    }),
    status: 202,
    response: runWire,
    handler: async ({ services, project, principal, params, body }) => {
      // A step starting a run through its run token acts for the person behind its own run.
      const fromRun = principal.runId ?? null;
      const run = await services.pipelines.startRun(principal.userName, project, {
        pipeline: params.pipeline,
        params: body.params,
        noCache: body.no_cache,
        concurrency: body.concurrency,
        specVersion: body.spec_version,
        workspace: body.workspace,
        trigger: { kind: "manual", user: principal.userName, ...(fromRun ? { from_run: fromRun } : {}) },
        triggeredBy: fromRun ? (await services.pipelines.personBehind(project, fromRun)).user : principal.userName,
        ...(body.at ? { at: { commit: body.at }, role: await services.access.roleIn(principal, project) } : {}),
      });
      if (!run)
        throw new ConflictError(
          `pipeline ${params.pipeline} already has an active run and its concurrency policy is skip`,
        );
      return runToWire(await services.pipelines.getRun(project, run.id));
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/pipeline-runs",
    summary: "Pipeline runs, newest first.",
    tags: ["pipelines"],
    auth: "bearer",
    role: "viewer",
    params: projectParams,
    query: z.object({
      pipeline: z.string().optional(),
      status: z.enum(RUN_STATUSES).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(50),
    }),
    response: z.object({ runs: z.array(runWire) }),
    handler: async ({ services, project, query }) => ({
      runs: (
        await services.pipelines.listRuns(project, {
          pipeline: query.pipeline,
          status: query.status ? [query.status] : undefined,
          limit: query.limit,
        })
      ).map((r) => runToWire(r)),
    }),
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/pipeline-runs/:id",
    summary: "A pipeline run with its step runs.",
    tags: ["pipelines"],
    auth: "bearer",
    role: "viewer",
    params: runParams,
    response: runWire,
    handler: async ({ services, project, params }) => runToWire(await services.pipelines.getRun(project, params.id)),
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/pipeline-runs/:id/logs",
    summary: "Log lines of a run (or one step), after a sequence number; poll with `after` to follow.",
    tags: ["pipelines"],
    auth: "bearer",
    role: "viewer",
    params: runParams,
    query: z.object({
      after: z.coerce.number().int().min(0).optional(),
      step: z.string().optional(),
      limit: z.coerce.number().int().min(1).max(10_000).default(1000),
    }),
    response: z.object({ lines: z.array(logWire), run_status: z.string(), next_after: z.number() }),
    handler: async ({ services, project, params, query }) => {
      const { chunks, run } = await services.pipelines.logs(project, params.id, {
        afterSeq: query.after,
        step: query.step,
        limit: query.limit,
      });
      return {
        lines: chunks.map(logToWire),
        run_status: run.status,
        next_after: chunks.length ? chunks[chunks.length - 1]!.seq : (query.after ?? 0),
      };
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/pipeline-runs/:id/steps/:step/cache",
    summary:
      "Why a step run was or was not served from the cache: each part of its key with its digest, and for a miss the parts that differ from the nearest earlier key of the same step.",
    tags: ["pipelines"],
    auth: "bearer",
    role: "viewer",
    params: z.object({ project: z.string(), id: z.string(), step: z.string() }),
    response: cacheExplanationWire,
    handler: async ({ services, project, params }) =>
      cacheExplanationToWire(await services.pipelines.explainCache(project, params.id, params.step)),
  }),
  ...(["cancel", "retry", "resume"] as const).map((action) =>
    defineRoute({
      method: "POST",
      url: `/api/v1/projects/:project/pipeline-runs/:id/${action}`,
      summary: {
        cancel: "Cancels a run: running steps' process trees are killed, pending steps are cancelled.",
        retry: "Reruns the failed and cancelled steps of an ended run, keeping what succeeded.",
        resume: "Takes over a run whose driver died (expired lease or dead process on this host).",
      }[action],
      tags: ["pipelines"],
      auth: "bearer",
      role: "member",
      params: runParams,
      response: runWire,
      handler: async ({ services, project, principal, params }) => {
        const p = services.pipelines;
        const run =
          action === "cancel"
            ? await p.cancel(principal.userName, project, params.id)
            : action === "retry"
              ? await p.retry(principal.userName, project, params.id)
              : await p.resume(principal.userName, project, params.id);
        return runToWire(run);
      },
    }),
  ),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/secrets",
    summary: "Names of the project's secrets (never their values).",
    tags: ["pipelines"],
    auth: "bearer",
    role: "viewer",
    params: projectParams,
    response: z.object({
      secrets: z.array(z.object({ name: z.string(), updated_at: z.number(), updated_by: z.string() })),
    }),
    handler: async ({ services, project }) => ({
      secrets: (await services.secrets.list(project)).map((s) => ({
        name: s.name,
        updated_at: s.updatedAt,
        updated_by: s.updatedBy,
      })),
    }),
  }),
  defineRoute({
    method: "PUT",
    url: "/api/v1/projects/:project/secrets/:name",
    summary: "Sets a secret (encrypted at rest; steps that list it get it in their environment, masked in logs).",
    tags: ["pipelines"],
    auth: "bearer",
    role: "admin",
    params: z.object({ project: z.string(), name: z.string() }),
    body: z.object({ value: z.string().max(65_536) }),
    response: z.object({ name: z.string() }),
    handler: async ({ services, project, principal, params, body }) => {
      await services.secrets.set(principal.userName, project, params.name, body.value);
      return { name: params.name };
    },
  }),
  defineRoute({
    method: "DELETE",
    url: "/api/v1/projects/:project/secrets/:name",
    summary: "Deletes a secret.",
    tags: ["pipelines"],
    auth: "bearer",
    role: "admin",
    params: z.object({ project: z.string(), name: z.string() }),
    response: z.object({ deleted: z.boolean() }),
    handler: async ({ services, project, principal, params }) => {
      await services.secrets.delete(principal.userName, project, params.name);
      return { deleted: true };
    },
  }),
];
