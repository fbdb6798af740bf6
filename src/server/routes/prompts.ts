/**
 * Prompt registry routes: `/api/v1/projects/:project/prompts[/:name[/versions/:v]]`, aliases (moved
 * under the policies that govern prompts), their history, the diff of two versions, evaluations
 * (lineage to the runs that judged a version) and approvals.
 */
import { z } from "zod";
import type { PromptAlias, PromptAliasEvent, PromptEvaluation, PromptVersion } from "../../core/llm/model.js";
import { chatMessageSchema, modelParamsSchema, promptContentSchema } from "../../core/llm/prompt-content.js";
import { NotFoundError } from "../../core/errors.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";

const P = "/api/v1/projects/:project/prompts";
const tags = ["prompts"];
const nameParams = z.object({ project: z.string(), name: z.string() });
/** `:v` is a number, `latest` or an alias. */
const versionParams = nameParams.extend({ v: z.string() });

export const versionWire = z.object({
  name: z.string(),
  version: z.number(),
  messages: z.array(chatMessageSchema),
  params: modelParamsSchema,
  variables: z.array(z.string()),
  sha256: z.string(),
  description: z.string(),
  author: z.string(),
  created_at: z.number(),
  aliases: z.array(z.string()),
});
const aliasWire = z.object({ alias: z.string(), version: z.number(), updated_by: z.string(), updated_at: z.number() });
const eventWire = z.object({
  seq: z.number(),
  alias: z.string(),
  action: z.string(),
  from_version: z.number().nullable(),
  to_version: z.number().nullable(),
  actor: z.string(),
  reason: z.string(),
  decision: z.unknown(),
  at: z.number(),
});
const evaluationWire = z.object({
  id: z.string(),
  version: z.number(),
  run_id: z.string().nullable(),
  dataset: z.string(),
  metrics: z.record(z.string(), z.number()),
  created_by: z.string(),
  created_at: z.number(),
  source: z
    .enum(["pipeline", "manual"])
    .describe("`pipeline`: a tandem/eval step made it; `manual`: the API (policies read it only with accept_manual)."),
  pipeline_run_id: z.string().nullable(),
  step: z.string().nullable(),
});

export const versionToWire = (v: PromptVersion, aliases: PromptAlias[] = []) => ({
  name: v.name,
  version: v.version,
  messages: v.messages,
  params: v.params,
  variables: v.variables,
  sha256: v.sha256,
  description: v.description,
  author: v.author,
  created_at: v.createdAt,
  aliases: aliases.filter((a) => a.version === v.version).map((a) => a.alias),
});
const aliasToWire = (a: PromptAlias) => ({
  alias: a.alias,
  version: a.version,
  updated_by: a.updatedBy,
  updated_at: a.updatedAt,
});
const eventToWire = (e: PromptAliasEvent) => ({
  seq: e.seq,
  alias: e.alias,
  action: e.action,
  from_version: e.fromVersion,
  to_version: e.toVersion,
  actor: e.actor,
  reason: e.reason,
  decision: e.decision,
  at: e.at,
});
const evaluationToWire = (e: PromptEvaluation) => ({
  id: e.id,
  version: e.version,
  run_id: e.runId,
  dataset: e.dataset,
  metrics: e.metrics,
  created_by: e.createdBy,
  created_at: e.createdAt,
  source: e.source,
  pipeline_run_id: e.pipelineRunId,
  step: e.step,
});

export const promptRoutes: AnyRoute[] = [
  defineRoute({
    method: "GET",
    url: P,
    summary: "List prompts with their latest version and aliases.",
    tags,
    auth: "bearer",
    role: "viewer",
    params: z.object({ project: z.string() }),
    response: z.object({
      prompts: z.array(
        z.object({
          name: z.string(),
          description: z.string(),
          latest_version: z.number().nullable(),
          aliases: z.array(aliasWire),
          updated_at: z.number(),
        }),
      ),
    }),
    handler: async ({ services, project }) => ({
      prompts: (await services.llm.prompts.list(project)).map((p) => ({
        name: p.name,
        description: p.description,
        latest_version: p.latestVersion,
        aliases: p.aliases.map(aliasToWire),
        updated_at: p.updatedAt,
      })),
    }),
  }),
  defineRoute({
    method: "POST",
    url: `${P}/:name/versions`,
    summary:
      "Create a version (messages with {{ variable }} placeholders, model parameters); same content → same version.",
    tags,
    auth: "bearer",
    role: "member",
    params: nameParams,
    body: promptContentSchema,
    response: z.object({ created: z.boolean(), version: versionWire }),
    handler: async ({ services, principal, project, params, body, reply }) => {
      // A step creating it with its run token: the person behind the run is its author, so they
      // cannot approve it (finding 5), as for model versions.
      const behind = principal.runId ? (await services.pipelines.personBehind(project, principal.runId)).user : null;
      const { version, created } = await services.llm.prompts.createVersion(
        principal.userName,
        project,
        params.name,
        body,
        behind ? { author: behind } : {},
      );
      if (created) void reply.status(201);
      return { created, version: versionToWire(version, await services.llm.prompts.aliases(project, params.name)) };
    },
  }),
  defineRoute({
    method: "GET",
    url: `${P}/:name`,
    summary: "A prompt: its versions (newest first), aliases and evaluations.",
    tags,
    auth: "bearer",
    role: "viewer",
    params: nameParams,
    response: z.object({
      name: z.string(),
      description: z.string(),
      created_by: z.string(),
      versions: z.array(versionWire),
      aliases: z.array(aliasWire),
      evaluations: z.array(evaluationWire),
    }),
    handler: async ({ services, project, params }) => {
      const prompts = services.llm.prompts;
      const prompt = await prompts.getPrompt(project, params.name);
      const aliases = await prompts.aliases(project, params.name);
      return {
        name: prompt.name,
        description: prompt.description,
        created_by: prompt.createdBy,
        versions: (await prompts.versions(project, params.name)).map((v) => versionToWire(v, aliases)),
        aliases: aliases.map(aliasToWire),
        evaluations: (await prompts.evaluations(project, params.name)).map(evaluationToWire),
      };
    },
  }),
  defineRoute({
    method: "GET",
    url: `${P}/:name/versions/:v`,
    summary: "One version (`:v` is a number, `latest` or an alias), with the evaluation runs that judged it.",
    tags,
    auth: "bearer",
    role: "viewer",
    params: versionParams,
    response: versionWire.extend({ evaluations: z.array(evaluationWire) }),
    handler: async ({ services, project, params }) => {
      const v = await services.llm.prompts.resolve(project, `${params.name}@${params.v}`);
      return {
        ...versionToWire(v, await services.llm.prompts.aliases(project, params.name)),
        evaluations: (await services.llm.prompts.evaluations(project, v.name, v.version)).map(evaluationToWire),
      };
    },
  }),
  defineRoute({
    method: "GET",
    url: `${P}/:name/diff`,
    summary: "Side-by-side diff of two versions: messages line by line, parameters, variables.",
    tags,
    auth: "bearer",
    role: "viewer",
    params: nameParams,
    query: z.object({ a: z.string().min(1), b: z.string().min(1) }),
    handler: async ({ services, project, params, query }) =>
      services.llm.prompts.diff(project, `${params.name}@${query.a}`, `${params.name}@${query.b}`),
  }),
  defineRoute({
    method: "PUT",
    url: `${P}/:name/aliases/:alias`,
    summary:
      "Point an alias at a version, under the policies that govern this prompt (409 with the decision when refused).",
    tags,
    auth: "bearer",
    role: "member",
    params: nameParams.extend({ alias: z.string() }),
    body: z.object({ version: z.union([z.number().int().min(1), z.string().min(1)]), policy: z.string().optional() }),
    response: z.object({ alias: aliasWire, decision: z.unknown() }),
    handler: async ({ services, principal, project, params, body }) => {
      const r = await services.llm.prompts.setAlias(
        principal.userName,
        project,
        `${params.name}@${body.version}`,
        params.alias,
        { policy: body.policy ?? null },
      );
      return { alias: aliasToWire(r.alias), decision: r.decision };
    },
  }),
  defineRoute({
    method: "DELETE",
    url: `${P}/:name/aliases/:alias`,
    summary: "Remove an alias (kept in its history).",
    description:
      "A member removes an alias nothing governs. One a policy governs needs the role that could approve a move of it (the policies' approvals role; approver when they require none): removing it leaves every endpoint serving name@alias without a prompt. 403 otherwise.",
    tags,
    auth: "bearer",
    role: "member",
    params: nameParams.extend({ alias: z.string() }),
    response: z.object({ deleted: z.boolean() }),
    handler: async ({ services, principal, project, role, params }) => {
      await services.llm.prompts.deleteAlias(principal.userName, project, params.name, params.alias, role);
      return { deleted: true };
    },
  }),
  defineRoute({
    method: "GET",
    url: `${P}/:name/history`,
    summary: "Every alias set, move, rollback and delete of a prompt, oldest first.",
    tags,
    auth: "bearer",
    role: "viewer",
    params: nameParams,
    query: z.object({ alias: z.string().optional() }),
    response: z.object({ events: z.array(eventWire) }),
    handler: async ({ services, project, params, query }) => ({
      events: (await services.llm.prompts.history(project, params.name, query.alias ?? null)).map(eventToWire),
    }),
  }),
  defineRoute({
    method: "GET",
    url: `${P}/:name/evaluations/:id/cases`,
    summary: "An evaluation's per-case table (the run's eval/cases.json): variables, expected, answer, scores, errors.",
    tags,
    auth: "bearer",
    role: "viewer",
    params: nameParams.extend({ id: z.string() }),
    handler: async ({ services, project, params }) => {
      const evaluation = (await services.llm.prompts.evaluations(project, params.name)).find((e) => e.id === params.id);
      if (!evaluation) throw new NotFoundError(`prompt ${params.name} has no evaluation ${params.id}`);
      if (!evaluation.runId)
        throw new NotFoundError(`evaluation ${params.id} was recorded without a run: no case table`);
      const run = await services.tracking.getRun(project, evaluation.runId);
      const path = `${run.info.experimentId}/${evaluation.runId}/artifacts/eval/cases.json`;
      const { stream } = await services.trackingArtifacts.get(project, path);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return {
        evaluation: evaluationToWire(evaluation),
        ...(JSON.parse(Buffer.concat(chunks).toString("utf8")) as object),
      };
    },
  }),
  defineRoute({
    method: "POST",
    url: `${P}/:name/versions/:v/evaluations`,
    summary: "Record an evaluation's metrics for a version (what policies gate on); `tandem/eval` does it for you.",
    tags,
    auth: "bearer",
    role: "member",
    status: 201,
    params: versionParams,
    body: z.object({
      dataset: z.string().min(1),
      metrics: z.record(z.string(), z.number()),
      run_id: z.string().nullable().optional(),
    }),
    response: evaluationWire,
    handler: async ({ services, principal, project, params, body }) =>
      evaluationToWire(
        await services.llm.prompts.recordEvaluation(principal.userName, project, `${params.name}@${params.v}`, {
          dataset: body.dataset,
          metrics: body.metrics,
          runId: body.run_id ?? null,
        }),
      ),
  }),
  defineRoute({
    method: "POST",
    url: `${P}/:name/versions/:v/approvals`,
    summary: "Approve or reject a version (approvers; never its author).",
    tags,
    auth: "bearer",
    role: "approver",
    status: 201,
    params: versionParams,
    body: z.object({ decision: z.enum(["approve", "reject"]).default("approve"), comment: z.string().default("") }),
    response: z.object({ recorded: z.boolean() }),
    handler: async ({ services, principal, role, project, params, body }) => {
      await services.llm.prompts.approve(
        principal.userName,
        role,
        project,
        `${params.name}@${params.v}`,
        body.decision,
        body.comment,
      );
      return { recorded: true };
    },
  }),
];
