/**
 * MLflow's proxied multipart upload (mlflow_artifacts.proto: mpu/create|complete|abort/<dir>), used by
 * the client with MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true for files over
 * MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE. The artifact is `<dir>/<basename of the client's path>`,
 * as MLflow names it. Part URLs (`mpu/parts/<signed token>`) carry no bearer token: the signed token
 * is the credential, checked by core/tracking/multipart.ts (signed, expiring, one part, once).
 */
import { basename } from "node:path";
import { Readable } from "node:stream";
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import type { Principal } from "../../core/governance/model.js";
import type { PartClaim } from "../../core/tracking/multipart.js";
import type { Services } from "../services.js";
import { defineRoute, type AnyRoute, type RouteDef } from "../route-kit.js";

const BASE = "/api/2.0/mlflow-artifacts/mpu";
const dirParams = z.object({ "*": z.string() });
/** A part may be as large as a whole artifact PUT (the client's chunks default to 10 MB). */
const PART_LIMIT = 1024 * 1024 * 1024;

function mpuRoute<B>(
  action: "create" | "complete" | "abort",
  def: Omit<RouteDef<{ "*": string }, unknown, B>, "method" | "url" | "tags" | "auth" | "role" | "aliases" | "params">,
): AnyRoute {
  const url = `${BASE}/${action}/*`;
  return defineRoute({
    ...def,
    method: "POST",
    url,
    aliases: [url.replace("/api/2.0/", "/ajax-api/2.0/")],
    params: dirParams,
    tags: ["mlflow"],
    auth: "bearer",
    role: "member",
  }) as AnyRoute;
}

const targetOf = (params: { "*": string }, clientPath: string) => `${params["*"]}/${basename(clientPath)}`;

/** Where the client should PUT a part: this server as the client reached it. */
function partUrl(request: FastifyRequest, token: string): string {
  return `${request.protocol}://${request.headers.host}${BASE}/parts/${token}`;
}

const claims = new WeakMap<FastifyRequest, PartClaim>();

/** The part URL's token is its credential: checked and claimed before the body is read. */
async function verifyPart(request: FastifyRequest, services: Services): Promise<Principal> {
  const token = (request.params as { token?: string }).token ?? "";
  const claim = await services.multipartUploads.claim(token);
  claims.set(request, claim);
  return {
    userName: claim.actor,
    isAdmin: false,
    tokenId: null,
    tokenRole: "member",
    tokenProject: claim.project,
  };
}

export const mlflowMultipartRoutes: AnyRoute[] = [
  mpuRoute("create", {
    summary:
      "Start a multipart upload of `<dir>/<basename of path>`: an upload id and one signed, expiring, single-use URL per part.",
    body: z.object({
      path: z.string(),
      num_parts: z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]).optional(),
    }),
    handler: async ({ params, body, project, principal, services, request }) => {
      const tickets = await services.multipartUploads.create({
        actor: principal.userName,
        project,
        path: targetOf(params, body.path),
        numParts: body.num_parts ?? 1,
      });
      return {
        upload_id: tickets[0]!.uploadId,
        credentials: tickets.map((t) => ({ url: partUrl(request, t.token), part_number: t.partNumber, headers: {} })),
      };
    },
  }),
  mpuRoute("complete", {
    summary: "Join the uploaded parts (each with the ETag its PUT answered) into the artifact.",
    body: z.object({
      path: z.string(),
      upload_id: z.string(),
      parts: z.array(
        z.object({ part_number: z.number().int(), etag: z.string().nullish(), url: z.string().nullish() }),
      ),
    }),
    handler: async ({ params, body, project, principal, services }) => {
      await services.multipartUploads.complete({
        actor: principal.userName,
        project,
        path: targetOf(params, body.path),
        uploadId: body.upload_id,
        parts: body.parts.map((p) => ({ partNumber: p.part_number, etag: p.etag ?? "" })),
      });
      return {};
    },
  }),
  mpuRoute("abort", {
    summary: "Abandon a multipart upload.",
    body: z.object({ path: z.string(), upload_id: z.string() }),
    handler: async ({ params, body, project, services }) => {
      await services.multipartUploads.abort({ project, path: targetOf(params, body.path), uploadId: body.upload_id });
      return {};
    },
  }),
  defineRoute({
    method: "PUT",
    url: `${BASE}/parts/:token`,
    summary:
      "Upload one part (the raw body) to the signed URL `create` handed out; answers its ETag. Works once, until the URL expires.",
    tags: ["mlflow"],
    auth: "hmac",
    role: null,
    verify: verifyPart,
    params: z.object({ token: z.string() }),
    bodyLimit: PART_LIMIT,
    raw: true,
    handler: async ({ request, reply, services }) => {
      const claim = claims.get(request);
      if (!claim) throw new Error("part URL was not verified");
      const body = request.body;
      const data =
        body instanceof Readable ? body : Buffer.isBuffer(body) || typeof body === "string" ? body : request.raw;
      const etag = await services.multipartUploads.putPart(claim, data);
      return reply.header("etag", `"${etag}"`).send({});
    },
  }) as AnyRoute,
];
