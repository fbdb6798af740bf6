/**
 * Starts a listening server with its background loops, and stops it cleanly on SIGINT/SIGTERM.
 */
import { setMaxListeners } from "node:events";
import type { FastifyInstance } from "fastify";
import type { Config } from "../config.js";
import { createServices, type OpenedServices } from "../main.js";
import { coordinateServer } from "../wiring/server-coordination.js";
import { loggerFor } from "./logging.js";
import { buildServer } from "./server.js";

export interface StartServerOptions {
  config: Config;
  host: string;
  /** 0 binds a free port. */
  port: number;
  /** (default false) */
  noAuth?: boolean;
  /** Start background loops (schedules, monitors, lease sweeps) (default true). */
  background?: boolean;
  /** Stop on SIGINT/SIGTERM (default true). */
  handleSignals?: boolean;
  /** Where TANDEM_LOG_LEVEL is unset (default info: every request). */
  defaultLogLevel?: "info" | "warn" | "error";
}

export interface RunningServer {
  url: string;
  opened: OpenedServices;
  stop(): Promise<void>;
  /** Resolves once the server has stopped. */
  closed: Promise<void>;
}

/**
 * Listens, starts the process's loops, and returns a stop that ends them, lets in-flight requests
 * finish (app.close), then closes the stores (flushing the prediction log). `tandem server` and the
 * standalone `tandem serve` replica share it.
 */
export async function listenUntilStopped(options: {
  app: FastifyInstance;
  opened: OpenedServices;
  host: string;
  port: number;
  /** Starts the loops this process runs; they stop when the signal aborts. */
  startLoops(signal: AbortSignal, url: string): void;
  /** (default true) */
  handleSignals?: boolean;
}): Promise<{ url: string; stop(): Promise<void>; closed: Promise<void> }> {
  const { app, opened } = options;
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const hostForUrl = options.host.includes(":") ? `[${options.host}]` : options.host;
  const url = `http://${hostForUrl}:${port}`;
  const abort = new AbortController();
  // Every background loop listens for the stop (a dozen and growing): past Node's default of 10 it
  // printed a MaxListenersExceededWarning at each start, which reads like a leak and is not one.
  setMaxListeners(0, abort.signal);
  options.startLoops(abort.signal, url);
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      abort.abort();
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

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const logger = await loggerFor(options.config, options.defaultLogLevel ?? "info");
  // Before anything opens the store: a second server on a SQLite file stops here, with its reason.
  const coordination = coordinateServer(options.config);
  let opened: OpenedServices;
  try {
    opened = await createServices(options.config, { logger });
  } catch (error) {
    await coordination.close();
    throw error;
  }
  opened.services.closers.unshift(() => coordination.close());
  const { app } = await buildServer({ services: opened.services, noAuth: options.noAuth, logger });
  const running = await listenUntilStopped({
    app,
    opened,
    host: options.host,
    port: options.port,
    handleSignals: options.handleSignals,
    startLoops(signal, url) {
      opened.services.config = { ...opened.services.config, serverUrl: url };
      if (options.background ?? true) {
        for (const task of opened.services.background)
          task.start(signal, logger.child({ area: task.name }), coordination.lock);
        logger.info(coordination.description);
      }
    },
  });
  return { ...running, opened };
}
