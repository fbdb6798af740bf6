/**
 * Events that start pipelines: git push webhooks (GitHub/GitLab signatures, no token) and a
 * project-scoped trigger route for data and alert events from other systems.
 */
import { Readable } from "node:stream";
import type { FastifyRequest, RequestPayload } from "fastify";
import { z } from "zod";
import { InvalidInputError, UnauthenticatedError } from "../../core/errors.js";
import { DEFAULT_PROJECT, SYSTEM_USER, type Principal } from "../../core/governance/model.js";
import type { EventKind } from "../../core/pipelines/triggers.js";
import { parseGitPush, verifyGitWebhook, WEBHOOK_SECRET_NAME } from "../../core/pipelines/webhooks.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";
import type { Services } from "../services.js";

/** Set by the preParsing hook the pipelines wiring installs: the body's exact bytes, for HMACs. */
export interface RawBodyRequest extends FastifyRequest {
  tandemRawBody?: Buffer;
}

export const GIT_HOOK_URL = "/api/v1/hooks/git";

const SYSTEM: Principal = { userName: SYSTEM_USER, isAdmin: true, tokenId: null, tokenRole: null, tokenProject: null };

function hookProject(request: FastifyRequest): string {
  const q = (request.query as { project?: unknown } | undefined)?.project;
  const h = request.headers["x-tandem-project"];
  return typeof q === "string" && q ? q : typeof h === "string" && h ? h : DEFAULT_PROJECT;
}

/**
 * Route guard (runs in onRequest, before the body is read): the request must carry a GitHub or
 * GitLab signature header and the project must have a webhook secret. The signature itself covers
 * the body, so `checkSignature` verifies it in the handler, before anything acts on the payload.
 */
async function verifyGit(request: FastifyRequest, services: Services): Promise<Principal> {
  if (!request.headers["x-hub-signature-256"] && !request.headers["x-gitlab-token"]) {
    throw new UnauthenticatedError(
      "a git webhook needs an X-Hub-Signature-256 (GitHub) or X-Gitlab-Token (GitLab) header",
    );
  }
  await webhookSecret(request, services);
  return SYSTEM;
}

async function webhookSecret(request: FastifyRequest, services: Services): Promise<string> {
  const project = hookProject(request);
  const secret = await services.secrets.value(project, WEBHOOK_SECRET_NAME);
  if (!secret) {
    throw new UnauthenticatedError(
      `project ${project} has no ${WEBHOOK_SECRET_NAME} secret (tandem secrets set ${WEBHOOK_SECRET_NAME})`,
    );
  }
  return secret;
}

async function checkSignature(request: FastifyRequest, services: Services): Promise<"github" | "gitlab"> {
  const raw = (request as RawBodyRequest).tandemRawBody ?? Buffer.alloc(0);
  const provider = verifyGitWebhook(request.headers, raw, await webhookSecret(request, services));
  if (!provider) throw new UnauthenticatedError("the webhook signature does not match");
  return provider;
}

/** Webhook signatures cover the exact bytes sent: kept before JSON parsing, on this route only. */
async function keepRawBody(request: FastifyRequest, payload: RequestPayload): Promise<RequestPayload> {
  const chunks: Buffer[] = [];
  for await (const c of payload) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  (request as RawBodyRequest).tandemRawBody = raw;
  return Readable.from([raw]);
}

const firedWire = z.object({ pipeline: z.string(), run_id: z.string().nullable(), reason: z.string().optional() });

export const pipelineTriggerRoutes: AnyRoute[] = [
  defineRoute({
    method: "POST",
    url: GIT_HOOK_URL,
    summary:
      "GitHub or GitLab push webhook: starts pipelines with a matching `git: { branch }` trigger (project from ?project= or X-Tandem-Project).",
    tags: ["pipelines"],
    auth: "hmac",
    role: null,
    verify: verifyGit,
    preParsing: keepRawBody,
    query: z.object({ project: z.string().optional() }),
    response: z.object({ event: z.string().nullable(), runs: z.array(firedWire) }),
    handler: async ({ services, request, body }) => {
      const project = hookProject(request);
      const provider = await checkSignature(request, services);
      const push = parseGitPush(provider, body);
      if (!push) return { event: null, runs: [] };
      // The person behind the push: a site admin maps `github:<login>` / `gitlab:<username>` to a user.
      const identity = push.pusher ? `${provider}:${push.pusher}` : null;
      const person = identity ? await services.access.userForIdentity(identity) : null;
      // The commit's tandem.yaml is held to `tandem apply`'s rules for this person (policies: admins only).
      const role = person ? await services.access.roleOfUser(person, project) : null;
      const fired = await services.pipelineTriggers.fire(
        "git",
        project,
        push.branch,
        {
          commit: push.commit,
          branch: push.branch,
          repository: push.repository,
          pusher: push.pusher,
          pusher_identity: identity,
          source: provider,
        },
        `git:${push.commit}`,
        { triggeredBy: person, role },
      );
      return {
        event: `push ${push.branch} ${push.commit}`,
        runs: fired.map((f) => ({ pipeline: f.pipeline, run_id: f.runId, ...(f.reason ? { reason: f.reason } : {}) })),
      };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/projects/:project/triggers/:kind",
    summary: "Fires a data or alert event (one event key starts at most one run per pipeline).",
    tags: ["pipelines"],
    auth: "bearer",
    role: "member",
    // A plain string here: the guard parses params before authorising, and a bad kind is a 400 after that.
    params: z.object({ project: z.string(), kind: z.string() }),
    body: z.object({
      name: z.string().min(1),
      idempotency_key: z.string().min(1).max(500),
      payload: z.record(z.string(), z.unknown()).default({}),
    }),
    response: z.object({ runs: z.array(firedWire) }),
    handler: async ({ services, project, params, body, principal }) => {
      if (params.kind !== "data" && params.kind !== "alert" && params.kind !== "git") {
        throw new InvalidInputError(`trigger kind ${JSON.stringify(params.kind)}: expected data, alert or git`);
      }
      const fromRun = principal.runId ?? null;
      const person = fromRun ? (await services.pipelines.personBehind(project, fromRun)).user : principal.userName;
      const fired = await services.pipelineTriggers.fire(
        params.kind as EventKind,
        project,
        body.name,
        { ...body.payload, fired_by: principal.userName, ...(fromRun ? { from_run: fromRun } : {}) },
        body.idempotency_key,
        // The caller fires it: the runs are theirs, whatever the payload claims (e.g. a `pusher`).
        { triggeredBy: person, role: await services.access.roleIn(principal, project) },
      );
      return {
        runs: fired.map((f) => ({ pipeline: f.pipeline, run_id: f.runId, ...(f.reason ? { reason: f.reason } : {}) })),
      };
    },
  }),
];
