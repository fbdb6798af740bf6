/**
 * `tandem serve E…`: a standalone serving replica. It opens the same stores as `tandem server`, but
 * mounts only health, metrics and the prediction routes, loads only the named endpoints, and runs
 * only the serving loops (change-counter poll, controller for its endpoints, retention). Any number
 * of them can sit behind a load balancer; they agree through the database.
 */
import type { Config } from "../config.js";
import { createServices } from "../main.js";
import { inferenceRoutes } from "../server/routes/inference.js";
import { oipV2Routes } from "../server/routes/oip-v2.js";
import { systemRoutes } from "../server/routes/system.js";
import { listenUntilStopped } from "../server/listen.js";
import { loggerFor } from "../server/logging.js";
import { buildServer } from "../server/server.js";
import { startServingLoops } from "../wiring/serving.js";

export interface ServeProcessOptions {
  config: Config;
  host: string;
  port: number;
  project: string;
  endpoints: string[];
  /** Stop on SIGINT/SIGTERM (default true). */
  handleSignals?: boolean;
}

export async function startServeProcess(
  options: ServeProcessOptions,
): Promise<{ url: string; stop(): Promise<void>; closed: Promise<void>; logWindowMs: number }> {
  const logger = await loggerFor(options.config, "info");
  const opened = await createServices(options.config, { logger });
  const only = new Set(options.endpoints.map((e) => `${options.project}/${e}`));
  const serving = opened.services.serving;
  serving.runtime.only = only;
  await serving.runtime.sync(true);
  const { app } = await buildServer({
    services: opened.services,
    routes: [...systemRoutes, ...inferenceRoutes, ...oipV2Routes],
    logger,
  });
  // Stop accepting, let in-flight requests finish, then flush the log and unload models.
  const running = await listenUntilStopped({
    app,
    opened,
    host: options.host,
    port: options.port,
    handleSignals: options.handleSignals,
    startLoops: (signal) => startServingLoops(serving, signal, only, logger.child({ area: "serving" })),
  });
  return { ...running, logWindowMs: serving.logger.windowMs };
}
