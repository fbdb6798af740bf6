/** Registry routes of the gate: aliases (set under policy, delete, rollback, history), evaluations, approvals, decisions, policies. */
import { z } from "zod";
import { InvalidInputError } from "../../core/errors.js";
import { policySpecSchema, type PolicySpec } from "../../core/pipelines/spec/policies.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";
import {
  aliasEventToWire,
  aliasEventWire,
  aliasToWire,
  aliasWire,
  approvalToWire,
  approvalWire,
  decisionToWire,
  decisionWire,
  evaluationToWire,
  evaluationWire,
  outcomeToWire,
  outcomeWire,
  requestToWire,
  requestWire,
} from "./models-wire.js";

const P = "/api/v1/projects/:project";
const tags = ["models"];
const modelParams = z.object({ project: z.string(), name: z.string() });
const versionParams = modelParams.extend({ v: z.string() });
const aliasParams = modelParams.extend({ alias: z.string() });
const refOf = (p: { name: string; v: string }) => `${p.name}@${p.v}`;

export const modelGateRoutes: AnyRoute[] = [
  defineRoute({
    method: "GET",
    url: `${P}/models/:name/aliases`,
    summary: "A model's aliases.",
    tags,
    auth: "bearer",
    role: "viewer",
    params: modelParams,
    response: z.object({ aliases: z.array(aliasWire) }),
    handler: async ({ services, project, params }) => {
      await services.registry.getModel(project, params.name);
      return { aliases: (await services.registry.listAliases(project, params.name)).map(aliasToWire) };
    },
  }),
  defineRoute({
    method: "GET",
    url: `${P}/models/:name/aliases/:alias/history`,
    summary: "Every set, move, delete and rollback of an alias, oldest first.",
    tags,
    auth: "bearer",
    role: "viewer",
    params: aliasParams,
    response: z.object({ events: z.array(aliasEventWire) }),
    handler: async ({ services, project, params }) => ({
      events: (await services.registry.aliasHistory(project, params.name, params.alias)).map(aliasEventToWire),
    }),
  }),
  defineRoute({
    method: "PUT",
    url: `${P}/models/:name/aliases/:alias`,
    summary: "Point an alias at a version, if the policies allow it (409 with the decision record otherwise).",
    description:
      "`version` is a number, or a reference such as `latest` or another alias. A refusal answers 409 POLICY_REFUSED with details {status, request_id, decision_id, checks[]}; when only approvals are missing the request stays pending and the alias moves by itself once they arrive.",
    tags,
    auth: "bearer",
    role: "member",
    params: aliasParams,
    body: z.object({ version: z.union([z.number().int().min(1), z.string().min(1)]), policy: z.string().optional() }),
    response: outcomeWire,
    handler: async ({ services, principal, project, params, body }) =>
      outcomeToWire(
        await services.registry.setAlias({
          actor: principal.userName,
          project,
          ref: `${params.name}@${body.version}`,
          alias: params.alias,
          policy: body.policy,
        }),
      ),
  }),
  defineRoute({
    method: "DELETE",
    url: `${P}/models/:name/aliases/:alias`,
    summary: "Delete an alias (kept in its history).",
    description:
      "A member deletes an alias nothing governs. One a policy governs, directly or through an endpoint following it, needs the role that could approve a move of it (the policies' approvals role; approver when they require none): deleting it stops name@alias resolving. 403 otherwise.",
    tags,
    auth: "bearer",
    role: "member",
    params: aliasParams,
    response: z.object({ deleted: z.literal(true) }),
    handler: async ({ services, principal, project, role, params }) => {
      await services.registry.deleteAlias(principal.userName, project, params.name, params.alias, role);
      return { deleted: true as const };
    },
  }),
  defineRoute({
    method: "POST",
    url: `${P}/models/:name/aliases/:alias/rollback`,
    summary:
      "Move an alias back to the version it pointed at before (or to `version`, an earlier holder), if the rollback rule allows.",
    description:
      "A member may return to a version that got the alias through a passing decision and has no rejection since; anything else needs an approver who is not its author (403 otherwise). Every rollback writes a decision record (action `rollback`).",
    tags,
    auth: "bearer",
    role: "member",
    params: aliasParams,
    body: z.object({ version: z.number().int().min(1).optional(), reason: z.string().optional() }),
    response: aliasWire,
    handler: async ({ services, principal, project, role, params, body }) =>
      aliasToWire(
        await services.registry.rollbackAlias({
          project,
          model: params.name,
          alias: params.alias,
          version: body.version ?? null,
          actor: principal.userName,
          role,
          reason: body.reason,
        }),
      ),
  }),
  defineRoute({
    method: "POST",
    url: `${P}/models/:name/versions/:v/evaluations`,
    summary:
      "Record an evaluation of a version on a dataset version (metrics and fairness by group); policies read these.",
    tags,
    auth: "bearer",
    role: "member",
    status: 201,
    params: versionParams,
    body: z.object({
      dataset: z.string().min(1),
      metrics: z.record(z.string(), z.number()),
      fairness: z
        .record(
          z.string(),
          z.object({
            metrics: z.record(z.string(), z.number()),
            by_group: z.record(z.string(), z.record(z.string(), z.number())).default({}),
          }),
        )
        .optional(),
      run_id: z.string().nullable().optional(),
    }),
    response: evaluationWire,
    handler: async ({ services, principal, project, params, body }) =>
      evaluationToWire(
        await services.registry.recordEvaluation({
          actor: principal.userName,
          project,
          ref: refOf(params),
          dataset: body.dataset,
          metrics: body.metrics,
          fairness: Object.fromEntries(
            Object.entries(body.fairness ?? {}).map(([k, f]) => [k, { metrics: f.metrics, byGroup: f.by_group }]),
          ),
          runId: body.run_id ?? null,
        }),
      ),
  }),
  defineRoute({
    method: "GET",
    url: `${P}/models/:name/versions/:v/evaluations`,
    summary: "A version's evaluations, newest first.",
    tags,
    auth: "bearer",
    role: "viewer",
    params: versionParams,
    response: z.object({ evaluations: z.array(evaluationWire) }),
    handler: async ({ services, project, params }) => ({
      evaluations: (await services.registry.evaluations(project, refOf(params))).map(evaluationToWire),
    }),
  }),
  ...(["approve", "reject"] as const).map((decision) =>
    defineRoute({
      method: "POST",
      url: `${P}/models/:name/versions/:v/${decision}`,
      summary:
        decision === "approve"
          ? "Approve a version (approvers; never its author). Pending alias requests are re-evaluated and applied when they now pass."
          : "Reject a version: its pending requests are closed as rejected.",
      tags,
      auth: "bearer",
      role: "approver",
      params: versionParams,
      body: z.object({ comment: z.string().optional() }),
      response: z.object({ approval: approvalWire, outcomes: z.array(outcomeWire) }),
      handler: async ({ services, principal, project, role, params, body }) => {
        const r = await services.registry.review({
          actor: principal.userName,
          role: role ?? "approver",
          project,
          ref: refOf(params),
          decision,
          comment: body.comment,
        });
        return { approval: approvalToWire(r.approval), outcomes: r.outcomes.map(outcomeToWire) };
      },
    }),
  ),
  defineRoute({
    method: "GET",
    url: `${P}/models/:name/versions/:v/decisions`,
    summary: "A version's decision records (newest first), promotion requests and approvals.",
    tags,
    auth: "bearer",
    role: "viewer",
    params: versionParams,
    response: z.object({
      decisions: z.array(decisionWire),
      requests: z.array(requestWire),
      approvals: z.array(approvalWire),
    }),
    handler: async ({ services, project, params }) => {
      const v = await services.registry.resolve(project, refOf(params));
      return {
        decisions: (await services.registry.decisions(project, v.modelName, v.version)).map(decisionToWire),
        requests: (await services.registry.requests(project, { modelName: v.modelName, version: v.version })).map(
          requestToWire,
        ),
        approvals: (await services.registry.approvals(project, v.modelName, v.version)).map(approvalToWire),
      };
    },
  }),
  defineRoute({
    method: "GET",
    url: `${P}/promotion-requests`,
    summary: "Promotion requests of the project (e.g. ?status=pending: what awaits approval).",
    tags,
    auth: "bearer",
    role: "viewer",
    params: z.object({ project: z.string() }),
    query: z.object({
      status: z.enum(["pending", "applied", "refused", "rejected", "superseded"]).optional(),
      model: z.string().optional(),
    }),
    response: z.object({ requests: z.array(requestWire) }),
    handler: async ({ services, project, query }) => ({
      requests: (await services.registry.requests(project, { status: query.status, modelName: query.model })).map(
        requestToWire,
      ),
    }),
  }),
  defineRoute({
    method: "GET",
    url: `${P}/policies`,
    summary: "The project's policies in force (only an admin changes them).",
    tags,
    auth: "bearer",
    role: "viewer",
    params: z.object({ project: z.string() }),
    response: z.object({ policies: z.record(z.string(), z.unknown()) }),
    handler: async ({ services, project }) => ({ policies: await services.registry.listPolicies(project) }),
  }),
  defineRoute({
    method: "POST",
    url: `${P}/policies/diff`,
    summary:
      "What applying this tandem.yaml would change in the project's policies (canonical JSON; no `policies:` removes them all), and whether you may.",
    tags,
    auth: "bearer",
    role: "viewer",
    changesState: false,
    params: z.object({ project: z.string() }),
    body: z.object({ source: z.string().max(1_000_000), file: z.string().default("tandem.yaml") }),
    response: z.object({
      project: z.string(),
      changes: z.array(
        z.object({
          policy: z.string(),
          change: z.enum(["added", "removed", "changed"]),
          before: z.unknown().nullable(),
          after: z.unknown().nullable(),
        }),
      ),
      your_role: z.string().nullable(),
      /** False when the spec changes policies and you are not an admin: `tandem apply` would answer 403. */
      may_apply: z.boolean(),
    }),
    handler: async ({ services, project, role, body }) => {
      const { spec, issues } = services.pipelines.specs.validate(body.source, body.file);
      if (!spec || issues.length)
        throw new InvalidInputError(
          `${body.file} is not valid: ${issues.map((i) => `${i.file}:${i.line}:${i.column} ${i.field}: ${i.message}`).join("; ")}`,
          { issues },
        );
      const changes = await services.registry.policyChanges(
        project,
        (spec.policies ?? {}) as Record<string, PolicySpec>,
      );
      return { project, changes, your_role: role, may_apply: changes.length === 0 || role === "admin" };
    },
  }),
  defineRoute({
    method: "PUT",
    url: `${P}/policies`,
    summary:
      "Replace the project's policies in force (what an admin's `tandem apply` does with the spec's `policies:`). Admins only: policies are governance; every change is audited with its diff.",
    tags,
    auth: "bearer",
    role: "admin",
    params: z.object({ project: z.string() }),
    body: z.object({ policies: z.record(z.string(), policySpecSchema) }),
    response: z.object({ policies: z.array(z.string()) }),
    handler: async ({ services, principal, project, role, body }) => {
      await services.registry.changePolicies(
        { actor: principal.userName, user: principal.userName, role },
        project,
        body.policies,
      );
      return { policies: Object.keys(body.policies) };
    },
  }),
];
