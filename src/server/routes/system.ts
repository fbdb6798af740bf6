import { z } from "zod";
import { defineRoute, type AnyRoute } from "../route-kit.js";

export const PACKAGE_VERSION = "0.1.0";

/**
 * Filled in by `buildServer` once every route is known, so the document lists them all. It holds
 * how to build the document, built on the first request for it: converting every route's schemas
 * costs about 70 ms of CPU that an embedded CLI command (which never asks for it) need not pay.
 */
export const openApiHolder: {
  build: (() => Record<string, unknown>) | null;
  document: Record<string, unknown> | null;
} = { build: null, document: null };

export const systemRoutes: AnyRoute[] = [
  defineRoute({
    method: "GET",
    url: "/healthz",
    summary: "Liveness: the process answers.",
    tags: ["system"],
    auth: "none",
    role: null,
    response: z.object({ status: z.literal("ok") }),
    handler: async () => ({ status: "ok" as const }),
  }),
  defineRoute({
    method: "GET",
    url: "/readyz",
    summary: "Readiness: the metadata store answers.",
    tags: ["system"],
    auth: "none",
    role: null,
    response: z.object({ status: z.literal("ready") }),
    handler: async ({ services }) => {
      await services.access.listProjects();
      return { status: "ready" as const };
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/openapi.json",
    summary: "This API's OpenAPI 3.1 document, generated from the route definitions.",
    tags: ["system"],
    auth: "none",
    role: null,
    handler: async () => (openApiHolder.document ??= openApiHolder.build?.() ?? null) ?? {},
  }),
];
