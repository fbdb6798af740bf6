/**
 * Endpoints and deployment records: `/api/v1/projects/:project/endpoints…` and `…/deployments`.
 * Deploying needs `member` and passes the project's policies; promote and rollback likewise.
 */
import { z } from "zod";
import { ConflictError, InvalidInputError } from "../../core/errors.js";
import type { DeploymentRecord, Endpoint, ModelSelector, ServingEvent } from "../../core/serving/model.js";
import { formatSelector, parseModelRef, parseSelector } from "../../core/serving/model.js";
import { SERVICE_DEPLOYMENT_REASONS } from "../../core/serving/service.js";
import { judgementToWire, sloFromSpec, type SloVerdict } from "../../core/serving/slo.js";
import { sloSpecSchema } from "../../core/pipelines/spec/endpoints.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";

const selectorText = (model: string, s: ModelSelector | null) => (s ? formatSelector(model, s) : null);

export function endpointToWire(e: Endpoint) {
  return {
    project: e.project,
    name: e.name,
    model: e.model,
    primary: selectorText(e.model, e.primary)!,
    canary: e.canary ? { model: selectorText(e.model, e.canary.selector)!, percent: e.canary.percent } : null,
    shadow: selectorText(e.model, e.shadow),
    shadow_percent: e.shadowPercent,
    policy: e.policy,
    slo: {
      max_error_rate_increase: e.slo.maxErrorRateIncrease,
      max_p95_ratio: e.slo.maxP95Ratio,
      significance: e.slo.significance,
      latency_floor_ms: e.slo.latencyFloorMs,
      latency_margin_ms: e.slo.latencyMarginMs,
      window_seconds: e.slo.windowMs / 1000,
      min_requests: e.slo.minRequests,
      auto_promote_after_seconds: e.slo.autoPromoteAfterMs / 1000,
    },
    primary_version: e.primaryVersion,
    canary_version: e.canaryVersion,
    shadow_version: e.shadowVersion,
    rollout: e.rollout
      ? {
          version: e.rollout.version,
          previous_version: e.rollout.previousVersion,
          deployment_id: e.rollout.deploymentId,
          started_at: e.rollout.startedAt,
        }
      : null,
    blocked_canary_version: e.blockedCanaryVersion,
    status: e.status,
    revision: e.revision,
    created_at: e.createdAt,
    updated_at: e.updatedAt,
    created_by: e.createdBy,
  };
}

export function deploymentToWire(d: DeploymentRecord) {
  return {
    id: d.id,
    project: d.project,
    kind: d.kind,
    target: d.target,
    model: d.model,
    version: d.version,
    previous_version: d.previousVersion,
    commit: d.commit,
    commit_at: d.commitAt,
    environment: d.environment,
    reason: d.reason,
    actor: d.actor,
    outcome: d.outcome,
    started_at: d.startedAt,
    finished_at: d.finishedAt,
    details: d.details,
  };
}

export function eventToWire(e: ServingEvent) {
  return {
    id: e.id,
    endpoint: e.endpoint,
    at: e.at,
    kind: e.kind,
    severity: e.severity,
    message: e.message,
    deployment_id: e.deploymentId,
    details: e.details,
  };
}

const endpointWire = z.object({
  project: z.string(),
  name: z.string(),
  model: z.string(),
  primary: z.string(),
  canary: z.object({ model: z.string(), percent: z.number() }).nullable(),
  shadow: z.string().nullable(),
  shadow_percent: z.number(),
  policy: z.string().nullable(),
  slo: z.object({
    max_error_rate_increase: z.number(),
    max_p95_ratio: z.number(),
    significance: z.number(),
    latency_floor_ms: z.number(),
    latency_margin_ms: z.number(),
    window_seconds: z.number(),
    min_requests: z.number(),
    auto_promote_after_seconds: z.number(),
  }),
  primary_version: z.number().nullable(),
  canary_version: z.number().nullable(),
  shadow_version: z.number().nullable(),
  rollout: z
    .object({
      version: z.number(),
      previous_version: z.number().nullable(),
      deployment_id: z.string(),
      started_at: z.number(),
    })
    .nullable(),
  blocked_canary_version: z.number().nullable(),
  status: z.string(),
  revision: z.number(),
  created_at: z.number(),
  updated_at: z.number(),
  created_by: z.string(),
});
/** The canary's standing as the controller judges it now: every SLO with both values, sizes and p. */
const judgementWire = z.object({
  verdict: z.enum(["breach", "healthy", "insufficient_data"]),
  reason: z.string(),
  canary_requests: z.number(),
  primary_requests: z.number(),
  slos: z.array(
    z.object({
      slo: z.enum(["error_rate", "latency"]),
      canary_value: z.number().nullable(),
      primary_value: z.number().nullable(),
      canary_requests: z.number(),
      primary_requests: z.number(),
      p_value: z.number(),
      passed: z.boolean(),
      summary: z.string(),
    }),
  ),
});

function verdictToWire(v: SloVerdict | null): z.infer<typeof judgementWire> | null {
  if (!v) return null;
  if (v.verdict === "insufficient_data")
    return {
      verdict: v.verdict,
      reason: v.reason,
      canary_requests: v.requests,
      primary_requests: v.primaryRequests,
      slos: [],
    };
  return {
    verdict: v.verdict,
    reason: v.reason,
    canary_requests: v.canary.requests,
    primary_requests: v.primary.requests,
    slos: v.judgements.map(judgementToWire),
  };
}

const deploymentWire = z.object({
  id: z.string(),
  project: z.string(),
  kind: z.string(),
  target: z.string(),
  model: z.string().nullable(),
  version: z.number().nullable(),
  previous_version: z.number().nullable(),
  commit: z.string().nullable(),
  commit_at: z.number().nullable().describe("When the commit was made (ms), where known."),
  environment: z.string().nullable(),
  reason: z.string(),
  actor: z.string(),
  outcome: z.string(),
  started_at: z.number(),
  finished_at: z.number().nullable(),
  details: z.record(z.string(), z.unknown()),
});
const eventWire = z.object({
  id: z.string(),
  endpoint: z.string(),
  at: z.number(),
  kind: z.string(),
  severity: z.string(),
  message: z.string(),
  deployment_id: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});

export const sloBody = sloSpecSchema.optional();

const deployBody = z.object({
  /** `name@alias` (follow the alias) or `name@N` (pin a version). */
  model: z.string().min(1),
  /** Alias or version number of the same model, and its share of traffic. */
  canary: z
    .object({ selector: z.string().min(1), percent: z.number().min(0).max(100) })
    .nullable()
    .optional(),
  shadow: z.string().min(1).nullable().optional(),
  /** Share of requests mirrored to the shadow (default 100). */
  shadow_percent: z.number().min(0).max(100).optional(),
  policy: z.string().nullable().optional(),
  slo: sloBody,
});

const projectEndpoint = z.object({ project: z.string(), endpoint: z.string() });

export const endpointRoutes: AnyRoute[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/endpoints",
    summary: "List endpoints with the versions they serve.",
    tags: ["serving"],
    auth: "bearer",
    role: "viewer",
    params: z.object({ project: z.string() }),
    response: z.object({ endpoints: z.array(endpointWire) }),
    handler: async ({ services, project }) => ({
      endpoints: (await services.serving.endpoints.list(project)).map(endpointToWire),
    }),
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/endpoints/:endpoint",
    summary: "One endpoint, its recent events (rollouts, rollbacks, SLO breaches) and deployments.",
    tags: ["serving"],
    auth: "bearer",
    role: "viewer",
    params: projectEndpoint,
    response: endpointWire.extend({
      events: z.array(eventWire),
      deployments: z.array(deploymentWire),
      load_error: z.string().nullable(),
      canary_judgement: judgementWire.nullable(),
    }),
    handler: async ({ services, project, params }) => {
      const e = await services.serving.endpoints.get(project, params.endpoint);
      const events = await services.serving.endpoints.listEvents(project, params.endpoint, 20);
      const deployments = await services.serving.endpoints.listDeployments(project, {
        target: params.endpoint,
        kind: "model",
        limit: 20,
      });
      return {
        ...endpointToWire(e),
        canary_judgement: verdictToWire(await services.serving.endpoints.controller.judgeNow(e)),
        events: events.map(eventToWire),
        deployments: deployments.map(deploymentToWire),
        // Why this server could not load its models (e.g. a model process that exits at startup), so it never sits unready in silence.
        load_error: services.serving.runtime.loadError(project, params.endpoint),
      };
    },
  }),
  defineRoute({
    method: "PUT",
    url: "/api/v1/projects/:project/endpoints/:endpoint",
    summary: "Deploy: create or update an endpoint (checked by the project's policies).",
    tags: ["serving"],
    auth: "bearer",
    role: "member",
    params: projectEndpoint,
    body: deployBody,
    response: endpointWire,
    handler: async ({ services, project, params, body, principal }) => {
      const ref = parseModelRef(body.model);
      if (!ref)
        throw new InvalidInputError(`model: expected "name@alias" or "name@N", got ${JSON.stringify(body.model)}`, {
          field: "model",
        });
      const endpoint = await services.serving.endpoints.deploy(
        project,
        params.endpoint,
        {
          model: ref.model,
          primary: ref.selector,
          canary: body.canary ? { selector: parseSelector(body.canary.selector), percent: body.canary.percent } : null,
          shadow: body.shadow ? parseSelector(body.shadow) : null,
          shadowPercent: body.shadow_percent,
          policy: body.policy ?? null,
          slo: sloFromSpec(body.slo),
        },
        principal.userName,
      );
      // Load it here at once, so a model that cannot start is a 409 with the reason, not a silent "not ready".
      const runtime = services.serving.runtime;
      if (!runtime.only || runtime.only.has(`${project}/${params.endpoint}`)) {
        await runtime.sync();
        const failed = runtime.loadError(project, params.endpoint);
        if (failed)
          throw new ConflictError(
            `endpoint ${params.endpoint} is deployed but cannot serve: loading its model failed: ${failed}`,
            { endpoint: endpointToWire(endpoint), load_error: failed },
          );
      }
      return endpointToWire(endpoint);
    },
  }),
  defineRoute({
    method: "DELETE",
    url: "/api/v1/projects/:project/endpoints/:endpoint",
    summary: "Stop serving an endpoint.",
    tags: ["serving"],
    auth: "bearer",
    role: "member",
    params: projectEndpoint,
    response: z.object({ deleted: z.literal(true) }),
    handler: async ({ services, project, params, principal }) => {
      await services.serving.endpoints.remove(project, params.endpoint, principal.userName);
      return { deleted: true as const };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/projects/:project/endpoints/:endpoint/rollback",
    summary: "Move traffic and the followed alias back to the previous version, together.",
    description:
      "A rollback is a decision: a member may return to a version that got there through a passing decision and has no rejection since; anything else needs an approver who is not its author (403 otherwise, with the decision record).",
    tags: ["serving"],
    auth: "bearer",
    role: "member",
    params: projectEndpoint,
    response: endpointWire.extend({ rolled_back_from: z.number().nullable(), rolled_back_to: z.number().nullable() }),
    handler: async ({ services, project, params, principal, role }) => {
      const r = await services.serving.endpoints.rollback(project, params.endpoint, principal.userName, role);
      return { ...endpointToWire(r.endpoint), rolled_back_from: r.from, rolled_back_to: r.to };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/projects/:project/endpoints/:endpoint/promote",
    summary: "The canary becomes primary, under the endpoint's policy.",
    tags: ["serving"],
    auth: "bearer",
    role: "member",
    params: projectEndpoint,
    response: endpointWire,
    handler: async ({ services, project, params, principal }) =>
      endpointToWire(await services.serving.endpoints.promote(project, params.endpoint, principal.userName)),
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/endpoints/:endpoint/events",
    summary: "An endpoint's events, newest first; `critical` ones are alerts.",
    tags: ["serving"],
    auth: "bearer",
    role: "viewer",
    params: projectEndpoint,
    query: z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() }),
    response: z.object({ events: z.array(eventWire) }),
    handler: async ({ services, project, params, query }) => ({
      events: (await services.serving.endpoints.listEvents(project, params.endpoint, query.limit ?? 100)).map(
        eventToWire,
      ),
    }),
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/deployments",
    summary: "Deployment records of models and software services, newest first (the basis of DORA metrics).",
    tags: ["serving"],
    auth: "bearer",
    role: "viewer",
    params: z.object({ project: z.string() }),
    query: z.object({
      target: z.string().optional(),
      kind: z.enum(["model", "service"]).optional(),
      limit: z.coerce.number().int().min(1).max(1000).optional(),
    }),
    response: z.object({ deployments: z.array(deploymentWire) }),
    handler: async ({ services, project, query }) => ({
      deployments: (
        await services.serving.endpoints.listDeployments(project, {
          target: query.target,
          kind: query.kind,
          limit: query.limit,
        })
      ).map(deploymentToWire),
    }),
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/projects/:project/deployments",
    summary: "Record a software service's deployment (commit, time, outcome).",
    tags: ["serving"],
    auth: "bearer",
    role: "member",
    status: 201,
    params: z.object({ project: z.string() }),
    body: z.object({
      service: z.string().min(1),
      commit: z.string().nullable().optional(),
      commit_at: z
        .number()
        .int()
        .nonnegative()
        .nullable()
        .optional()
        .describe("When the commit was made (ms): where DORA's change lead time starts."),
      environment: z.string().nullable().optional(),
      outcome: z.enum(["succeeded", "failed"]).optional(),
      reason: z
        .enum(SERVICE_DEPLOYMENT_REASONS)
        .optional()
        .describe("deploy (default), or rollback / hotfix: an intervention after a failed deployment."),
      at: z.number().int().nonnegative().optional(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
    response: deploymentWire,
    handler: async ({ services, project, body, principal }) =>
      deploymentToWire(
        await services.serving.endpoints.recordServiceDeployment(
          project,
          { ...body, commitAt: body.commit_at },
          principal.userName,
        ),
      ),
  }),
];
