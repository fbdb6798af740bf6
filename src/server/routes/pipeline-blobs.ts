/**
 * A run's blobs for its remote steps (`tandem step-agent` on a Slurm node or in a pod), with the
 * run's own token only (core/pipelines/run-artifacts.ts):
 *   GET   …/pipeline-runs/R/blobs/SHA   → octet-stream (an input or output of run R)
 *   POST  …/pipeline-runs/R/blobs       octet-stream body → {sha256, size} (while R is active)
 */
import { z } from "zod";
import { defineRoute, type AnyRoute } from "../route-kit.js";
import { bodyStream } from "./data.js";

const BASE = "/api/v1/projects/:project/pipeline-runs/:id/blobs";

export const pipelineBlobRoutes: AnyRoute[] = [
  defineRoute({
    method: "GET",
    url: `${BASE}/:sha`,
    summary: "One blob of the run's inputs or outputs, for its remote steps; only with the run's own token.",
    tags: ["pipelines"],
    auth: "bearer",
    role: "viewer",
    params: z.object({ project: z.string(), id: z.string(), sha: z.string().regex(/^[0-9a-f]{64}$/) }),
    raw: true,
    handler: async ({ services, params, project, principal, reply }) => {
      const stream = await services.pipelines.runArtifacts.read(principal, project, params.id, params.sha);
      return reply.type("application/octet-stream").header("x-tandem-sha256", params.sha).send(stream);
    },
  }),
  defineRoute({
    method: "POST",
    url: BASE,
    summary: "Upload one output blob of a remote step (octet-stream; hashed here) while the run is active.",
    tags: ["pipelines"],
    auth: "bearer",
    role: "member",
    params: z.object({ project: z.string(), id: z.string() }),
    bodyLimit: Number.MAX_SAFE_INTEGER,
    response: z.object({ sha256: z.string(), size: z.number() }),
    handler: async ({ services, params, project, principal, request }) =>
      services.pipelines.runArtifacts.write(principal, project, params.id, bodyStream(request)),
  }),
];
