/**
 * `tandem serve E…`: a standalone serving replica. It opens the same stores as `tandem server`, but
 * mounts only health, metrics and the prediction routes, loads only the named endpoints, and runs
 * only the serving loops (change-counter poll, controller for its endpoints, retention). Any number
 * of them can sit behind a load balancer; they agree through the database.
 */
import type { Config } from "../config.js";
import { createServices } from "../main.js";
import { inferenceRoutes } from "../server/routes/inference.js";
import { systemRoutes } from "../server/routes/system.js";
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
): Promise<{ url: string; stop(): Promise<void>; closed: Promise<void> }> {
  const opened = await createServices(options.config);
  const only = new Set(options.endpoints.map((e) => `${options.project}/${e}`));
  const serving = opened.services.serving;
  serving.runtime.only = only;
  await serving.runtime.sync(true);
  const { app } = await buildServer({ services: opened.services, routes: [...systemRoutes, ...inferenceRoutes] });
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`;
  const abort = new AbortController();
  startServingLoops(serving, abort.signal, only);
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      abort.abort();
      // Stop accepting, let in-flight requests finish, then flush the log and unload models.
      await app.close();
      await opened.close();
      resolveClosed();
    })();
    return stopping;
  };
  if (options.handleSignals ?? true) {
    process.once("SIGINT", () => void stop());
    process.once("SIGTERM", () => void stop());
  }
  return { url, stop, closed };
}
