/**
 * The HTTP server: the app with every route, /metrics, and the OpenAPI document. Used by
 * `tandem server`, by `tandem serve`, and in-process by the embedded CLI (through inject).
 */
import type { FastifyInstance } from "fastify";
import type { Logger as PinoLogger } from "pino";
import { buildApp } from "./app.js";
import { buildOpenApi } from "./openapi.js";
import { PACKAGE_VERSION, openApiHolder } from "./routes/system.js";
import type { ServerMetrics } from "./metrics.js";
import type { Services } from "./services.js";
import type { AnyRoute } from "./route-kit.js";

/** Extra things a server mounts besides routes (static UI files, SSE). Areas push hooks here. */
export const serverExtensions: Array<
  (app: FastifyInstance, services: Services, metrics: ServerMetrics) => void | Promise<void>
> = [];

export interface ServerOptions {
  services: Services;
  /** (default false) */
  noAuth?: boolean;
  /** (default false) */
  validateResponses?: boolean;
  /** (default: every route) */
  routes?: AnyRoute[];
  /** Where requests and errors are logged (default: silent). */
  logger?: PinoLogger;
}

export async function buildServer(
  options: ServerOptions,
): Promise<{ app: FastifyInstance; metrics: ServerMetrics; routes: AnyRoute[] }> {
  // Loaded only for every route: the embedded CLI builds an app with one area's routes.
  const routes = options.routes ?? (await import("./routes/index.js")).allRoutes();
  openApiHolder.build = () => buildOpenApi(routes, PACKAGE_VERSION);
  openApiHolder.document = null;
  const { app, metrics } = await buildApp({
    services: options.services,
    routes,
    noAuth: options.noAuth,
    validateResponses: options.validateResponses,
    logger: options.logger,
    beforeReady: async (app, metrics) => {
      app.get("/metrics", async (_req, reply) => {
        const text = await metrics.registry.metrics();
        return reply.header("content-type", metrics.registry.contentType).send(text);
      });
      for (const extend of serverExtensions) await extend(app, options.services, metrics);
    },
  });
  return { app, metrics, routes };
}
