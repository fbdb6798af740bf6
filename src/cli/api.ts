/**
 * How the CLI reaches Tandem: always through the HTTP API, so every feature is implemented once,
 * behind its routes. With $TANDEM_URL it is a real HTTP client; without, it builds the app in this
 * process over the embedded stores in $TANDEM_HOME and calls it through Fastify's inject (no port).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Server, Socket } from "node:net";
import type { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { Config } from "../config.js";
import type { Area, OpenedServices } from "../main.js";
import type { Role } from "../core/governance/model.js";
import type { AnyRoute } from "../server/route-kit.js";
import type { Services } from "../server/services.js";
import { checkTokenScope } from "../server/token-scope.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** The server's X-Request-Id for this answer: its logs carry it. */
    readonly requestId?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The server (TANDEM_URL) or the metadata store (TANDEM_DATABASE_URL) did not answer at all. */
export class UnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnreachableError";
  }
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);

/** The network error code behind `error` (fetch wraps it in `cause`), or null. */
function networkCode(error: unknown): string | null {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === "string" && NETWORK_CODES.has(e.code)) return e.code;
    if (e instanceof AggregateError) return networkCode(e.errors[0]);
    e = e.cause as typeof e;
  }
  return null;
}

/** A database URL with its password hidden, for messages. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable URL)";
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** A raw body (upload); sent as application/octet-stream. */
  stream?: Readable | Buffer;
  headers?: Record<string, string>;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function buildUrl(path: string, query?: RequestOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

function toApiError(status: number, body: Buffer, requestId: string | undefined): ApiError {
  let parsed: { error?: { code?: string; message?: string; details?: unknown }; error_code?: string; message?: string };
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    return new ApiError(
      status,
      "HTTP_ERROR",
      `HTTP ${status}: ${body.toString("utf8").slice(0, 200)}`,
      undefined,
      requestId,
    );
  }
  if (parsed.error)
    return new ApiError(
      status,
      parsed.error.code ?? "ERROR",
      parsed.error.message ?? `HTTP ${status}`,
      parsed.error.details,
      requestId,
    );
  return new ApiError(status, parsed.error_code ?? "ERROR", parsed.message ?? `HTTP ${status}`, undefined, requestId);
}

/**
 * What an embedded command needs of the app: some areas' services and the routes it calls. The
 * whole app (every area, every route) costs about 0.6 s of CPU to load and build; one area's, a
 * fraction (issue 18: re-adding an unchanged dataset was 1.0 s of CPU, nearly all of it this).
 * Ignored with TANDEM_URL: the server has everything.
 */
export interface ApiScope {
  /** (default: every area) */
  areas?: Area[];
  routes: () => Promise<AnyRoute[]>;
}

/** The loopback port steps reach the API on, while its app is built on first connection. */
interface LazyLoopback {
  server: Server;
  sockets: Set<Socket>;
  app: Promise<FastifyInstance> | null;
}

export class TandemApi {
  private constructor(
    /** Base URL of a remote server, or null in embedded mode. */
    readonly baseUrl: string | null,
    private readonly token: string | undefined,
    private readonly embedded: {
      /** Built on the first request (`appOf`): a command that only reads services never builds it. */
      app: Promise<FastifyInstance> | null;
      /** The scope's routes (default: every route). */
      routes: ApiScope["routes"] | undefined;
      opened: OpenedServices;
      /** The app has a scope's routes only (not every route). */
      scoped: boolean;
    } | null,
  ) {}

  private loopback: LazyLoopback | null = null;

  static async connect(config: Config, scope?: ApiScope): Promise<TandemApi> {
    if (config.serverUrl) {
      const token =
        config.token ?? (await readFile(join(config.home, "admin.token"), "utf8").catch(() => undefined))?.trim();
      return new TandemApi(config.serverUrl, token, null);
    }
    // Loaded here, not at the top: a remote command, `--help` and every command that never talks to
    // the API start without the services and the HTTP app (about 1 s of CPU of modules).
    const [{ createServices }, { loggerFor }] = await Promise.all([
      import("../main.js"),
      import("../server/logging.js"),
    ]);
    // In-process, a request's failure reaches the terminal through the CLI's own message; the log
    // adds the stack of an internal error (and more with TANDEM_LOG_LEVEL).
    const logger = await loggerFor(config, "error");
    let opened: OpenedServices;
    try {
      opened = await createServices(config, { logger, areas: scope?.areas });
    } catch (error) {
      const code = networkCode(error);
      if (code && config.database.kind === "postgres") {
        throw new UnreachableError(
          `cannot reach the metadata store at ${safeUrl(config.database.url)} (TANDEM_DATABASE_URL): ${code}`,
        );
      }
      throw error;
    }
    const token =
      config.token ??
      opened.firstAdminToken ??
      (await readFile(join(config.home, "admin.token"), "utf8").catch(() => undefined))?.trim();
    return new TandemApi(null, token, { app: null, routes: scope?.routes, opened, scoped: scope !== undefined });
  }

  /**
   * The embedded app, built on first use. Not at connect: Fastify, the routes' zod schemas and
   * prom-client are about 0.2 s of a start-up that a command answering from the services alone
   * (a re-add of unchanged data, `embeddedRead`) never needs (issue 18).
   */
  private appOf(embedded: NonNullable<TandemApi["embedded"]>): Promise<FastifyInstance> {
    embedded.app ??= (async () => {
      const { buildServer } = await import("../server/server.js");
      const { services, logger } = embedded.opened;
      const { app } = await buildServer({ services, logger, routes: await embedded.routes?.() });
      return app;
    })();
    return embedded.app;
  }

  /**
   * Embedded: `read(services)`, after the checks a route with `guard.role` and `guard.route` makes
   * before its handler (the CLI's token authenticated, its role in `guard.project`, a tracking-only
   * token's scope), without building the app. Null when remote, and when a check or the read fails:
   * the caller then asks the route, whose answer (an error's status and words included) stands.
   * For reads only: a write's audit entries and listeners belong to its route.
   */
  async embeddedRead<T>(
    guard: { project: string; role: Role; route: Pick<AnyRoute, "method" | "url" | "tags"> },
    read: (services: Services) => Promise<T>,
  ): Promise<T | null> {
    if (!this.embedded) return null;
    const { services } = this.embedded.opened;
    try {
      const principal = await services.access.authenticate(this.token);
      await services.access.authorize(principal, guard.project, guard.role);
      checkTokenScope(guard.route as AnyRoute, principal);
      return await read(services);
    } catch {
      return null;
    }
  }

  /** In embedded mode, the services behind the API (for long work the CLI drives in-process). */
  get embeddedServices(): OpenedServices | null {
    return this.embedded?.opened ?? null;
  }

  /**
   * In embedded mode, serves the in-process app on a loopback port as well (for steps, which reach
   * the API over HTTP) and answers its URL; null when remote. The same app as inject's: building a
   * second one cost every `tandem run` about 0.4 s of CPU. It stops listening when the API closes.
   */
  async listenOnLoopback(): Promise<string | null> {
    if (!this.embedded) return null;
    if (this.embedded.scoped) return this.listenLazily();
    const app = await this.appOf(this.embedded);
    await app.listen({ host: "127.0.0.1", port: 0 });
    const address = app.server.address();
    return `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  }

  /**
   * A scoped app (`tandem run`'s: the pipelines routes over the services a run reaches) serves
   * steps through a full app with every route, built when a step first connects, over every area
   * (the ones the scope left out are wired first): a run whose steps never call the API does not
   * build it. Building it (every route module, every route registered) was about 0.35 s of the 1.3 s
   * of CPU a 1-step embedded run took (issue 18). The port is bound now, so steps get their URL as
   * before; their connections wait for the app, then go to its server.
   */
  private async listenLazily(): Promise<string> {
    const embedded = this.embedded!;
    const { createServer } = await import("node:net");
    const sockets = new Set<Socket>();
    const lazy: LazyLoopback = { server: createServer({ pauseOnConnect: true }), sockets, app: null };
    lazy.server.on("connection", (socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      lazy.app ??= (async () => {
        const { buildServer } = await import("../server/server.js");
        await embedded.opened.wireEveryArea();
        const { app } = await buildServer({ services: embedded.opened.services, logger: embedded.opened.logger });
        await app.ready();
        return app;
      })();
      lazy.app.then(
        (app) => {
          if (socket.destroyed) return;
          app.server.emit("connection", socket);
          socket.resume();
        },
        () => socket.destroy(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      lazy.server.once("error", reject);
      lazy.server.listen({ host: "127.0.0.1", port: 0 }, () => resolve());
    });
    this.loopback = lazy;
    const address = lazy.server.address();
    return `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  }

  get isEmbedded(): boolean {
    return this.embedded !== null;
  }

  /** The URL steps and clients should use to reach this API (null in embedded mode without a server). */
  get url(): string | null {
    return this.baseUrl;
  }

  get authToken(): string | undefined {
    return this.token;
  }

  async raw(method: string, path: string, options: RequestOptions = {}): Promise<RawResponse> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let payload: string | Buffer | Readable | undefined;
    if (options.stream !== undefined) {
      headers["content-type"] = "application/octet-stream";
      payload = options.stream;
    } else if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(options.body);
    }
    const url = buildUrl(path, options.query);
    if (this.embedded) {
      const app = await this.appOf(this.embedded);
      const res = await app.inject({ method: method as "GET", url, headers, payload });
      return { status: res.statusCode, headers: res.headers as RawResponse["headers"], body: res.rawPayload };
    }
    let res: Response;
    try {
      res = await fetch(this.baseUrl + url, {
        method,
        headers,
        body: payload as unknown as string | undefined,
        // Node's fetch needs this for a streamed request body.
        ...(payload && typeof payload === "object" && !Buffer.isBuffer(payload) ? { duplex: "half" } : {}),
      } as RequestInit);
    } catch (error) {
      // fetch rejects with TypeError("fetch failed") for anything on the way (refused, DNS, TLS).
      const code =
        networkCode(error) ?? (error instanceof TypeError ? (error.cause as Error | undefined)?.message : null);
      if (!code) throw error;
      throw new UnreachableError(
        `cannot reach the server at ${this.baseUrl} (TANDEM_URL): ${code}; is \`tandem server\` running there?`,
      );
    }
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, headers: Object.fromEntries(res.headers.entries()), body };
  }

  /** A JSON request; non-2xx answers become ApiError with the server's code and message. */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.raw(method, path, options);
    if (res.status >= 400) {
      const id = res.headers["x-request-id"];
      throw toApiError(res.status, res.body, typeof id === "string" ? id : undefined);
    }
    if (res.body.length === 0) return undefined as T;
    return JSON.parse(res.body.toString("utf8")) as T;
  }

  get<T = unknown>(path: string, query?: RequestOptions["query"]): Promise<T> {
    return this.request<T>("GET", path, { query });
  }
  post<T = unknown>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("POST", path, { body: body ?? {} });
  }
  put<T = unknown>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("PUT", path, { body: body ?? {} });
  }
  delete<T = unknown>(path: string): Promise<T> {
    return this.request<T>("DELETE", path);
  }

  async close(): Promise<void> {
    const lazy = this.loopback;
    if (lazy) {
      this.loopback = null;
      const closed = new Promise<void>((resolve) => lazy.server.close(() => resolve()));
      for (const socket of lazy.sockets) socket.destroy();
      await closed;
      await (await lazy.app?.catch(() => null))?.close();
    }
    if (this.embedded) {
      await (await this.embedded.app?.catch(() => null))?.close();
      await this.embedded.opened.close();
    }
  }
}
