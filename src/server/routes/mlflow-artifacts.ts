/**
 * MLflow's artifact proxy (mlflow/protos/mlflow_artifacts.proto): clients upload and download run
 * artifacts through the server at `/api/2.0/mlflow-artifacts/artifacts/<path>`, where a run's files
 * live under `<experiment>/<run>/artifacts/` (its `artifact_uri` is `mlflow-artifacts:/` + that).
 */
import { Readable } from "node:stream";
import { z } from "zod";
import { defineRoute, type AnyRoute, type HttpMethod } from "../route-kit.js";

const BASE = "/api/2.0/mlflow-artifacts/artifacts";
const pathParams = z.object({ "*": z.string() });

function route(
  method: HttpMethod,
  url: string,
  def: Omit<Parameters<typeof defineRoute>[0], "method" | "url" | "tags" | "auth" | "role" | "aliases">,
): AnyRoute {
  return defineRoute({
    ...def,
    method,
    url,
    aliases: [url.replace("/api/2.0/", "/ajax-api/2.0/")],
    tags: ["mlflow"],
    auth: "bearer",
    role: method === "GET" ? "viewer" : "member",
  }) as AnyRoute;
}

export const mlflowArtifactRoutes: AnyRoute[] = [
  route("GET", BASE, {
    summary: "List the files and directories directly under `path`.",
    query: z.object({ path: z.string().optional() }),
    handler: async ({ query, project, services }) => {
      const files = await services.trackingArtifacts.list(project, (query as { path?: string }).path);
      return {
        // Protobuf leaves out a 0 file_size, as for a directory: MLflow's clients read None for both.
        files: files.map((f) => ({ path: f.path, is_dir: f.isDir, ...(f.size ? { file_size: f.size } : {}) })),
      };
    },
  }),
  route("GET", `${BASE}/*`, {
    summary: "Download an artifact.",
    params: pathParams,
    raw: true,
    handler: async ({ params, project, services, reply }) => {
      const { record, stream } = await services.trackingArtifacts.get(project, (params as { "*": string })["*"]);
      return reply.type("application/octet-stream").header("content-length", record.size).send(stream);
    },
  }),
  route("PUT", `${BASE}/*`, {
    summary: "Upload an artifact (the raw request body), replacing any file at that path.",
    params: pathParams,
    bodyLimit: 1024 * 1024 * 1024,
    handler: async ({ params, project, services, request, principal }) => {
      const body = request.body;
      // A body with a content type arrives as a stream (app.ts's catch-all parser); one without any
      // content type was never read, so it is still in the raw request.
      const data =
        body instanceof Readable ? body : Buffer.isBuffer(body) || typeof body === "string" ? body : request.raw;
      await services.trackingArtifacts.put(principal.userName, project, (params as { "*": string })["*"], data);
      return {};
    },
  }),
  route("DELETE", `${BASE}/*`, {
    summary: "Delete an artifact file or directory.",
    params: pathParams,
    handler: async ({ params, project, services, principal }) => {
      await services.trackingArtifacts.delete(principal.userName, project, (params as { "*": string })["*"]);
      return {};
    },
  }),
];
