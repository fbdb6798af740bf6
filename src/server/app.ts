/**
 * Builds the HTTP app from route definitions: parses and validates input with each route's zod
 * schemas, authenticates and authorises before anything else runs, maps errors in one place,
 * counts every request for /metrics and logs it under its request id.
 */
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RequestPayload,
} from "fastify";
import { createRequire } from "node:module";
import pino, { type Logger as PinoLogger } from "pino";
import type { z } from "zod";
import { InvalidInputError, NotFoundError, UnauthenticatedError } from "../core/errors.js";
import { fastId } from "../core/serving/fast-id.js";
import { DEFAULT_PROJECT, type Principal, type Role } from "../core/governance/model.js";
import { authenticateRequest, readCookie, SESSION_COOKIE } from "./auth.js";
import { RequestLogger } from "./logging.js";
import { checkTokenScope } from "./token-scope.js";
import { FailedAuthLimiter } from "./auth-limit.js";
import { sendError, zodToInvalidInput } from "./errors.js";
import { ServerMetrics } from "./metrics.js";
import { changesState, JsonText, type AnyRoute } from "./route-kit.js";
import type { Services } from "./services.js";

/**
 * Fastify's own schema compilers (Ajv, fast-json-stringify), loaded the first time a route declares a
 * Fastify schema. Tandem's routes validate with zod and declare none, yet Fastify loaded both when
 * each app was built: about 90 modules, 6% of an embedded `tandem runs ls` at load 20 (issue 18).
 * The same compilers with the same options when used; only header schemas would differ (Fastify
 * lowercases their keys for its default compiler alone), and no route declares one.
 */
type CompilerFactory = (...args: unknown[]) => unknown;
/** The compiler package as Fastify itself would load it (from Fastify's own folder). */
const fastifysOwn = (name: string) =>
  (createRequire(createRequire(import.meta.url).resolve("fastify"))(name) as () => CompilerFactory)();
const loadedCompilers: { validator?: CompilerFactory; serializer?: CompilerFactory } = {};
const LAZY_SCHEMA_COMPILERS = {
  buildValidator: (...args: unknown[]) => (loadedCompilers.validator ??= fastifysOwn("@fastify/ajv-compiler"))(...args),
  buildSerializer: (...args: unknown[]) =>
    (loadedCompilers.serializer ??= fastifysOwn("@fastify/fast-json-stringify-compiler"))(...args),
};

export const PROJECT_HEADER = "x-tandem-project";
const ANONYMOUS: Principal = {
  userName: "anonymous",
  isAdmin: false,
  tokenId: null,
  tokenRole: null,
  tokenProject: null,
};

export interface AppOptions {
  services: Services;
  routes: AnyRoute[];
  /** Skip authentication: every request acts as a site admin (default false). */
  noAuth?: boolean;
  /** Check every success response against its schema and fail loudly (default false; tests turn it on). */
  validateResponses?: boolean;
  /** Default body limit in bytes (default 16 MiB). */
  bodyLimit?: number;
  /** The process's logger (src/server/logging.ts) (default: silent). */
  logger?: PinoLogger;
  /** Mounts extra handlers (metrics, static files) before the app is sealed. */
  beforeReady?: (app: FastifyInstance, metrics: ServerMetrics) => Promise<void>;
}

function parsePart<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return value as T;
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw zodToInvalidInput(result.error, where);
  return result.data;
}

function projectOf(params: unknown, request: FastifyRequest, principal?: Principal): string {
  const fromParams = (params as { project?: unknown } | undefined)?.project;
  if (typeof fromParams === "string" && fromParams) return fromParams;
  const header = request.headers[PROJECT_HEADER];
  if (typeof header === "string" && header) return header;
  // A token limited to one project (a pipeline step's) acts there: MLflow clients send no header.
  if (principal?.tokenProject) return principal.tokenProject;
  return DEFAULT_PROJECT;
}

async function authorizeRoute(
  route: AnyRoute,
  services: Services,
  principal: Principal,
  project: string,
): Promise<Role | null> {
  switch (route.role) {
    case null:
    case "authenticated":
      return null;
    case "site-admin":
      services.access.requireSiteAdmin(principal);
      return "admin";
    default: {
      const role = await services.access.authorize(principal, project, route.role);
      if (changesState(route)) await services.access.ensureProject(project, principal.userName);
      return role;
    }
  }
}

/** Whether a request presents a credential (so a failure is a wrong guess, not a missing sign-in). */
function presentsCredential(request: FastifyRequest, route: AnyRoute): boolean {
  const h = request.headers;
  if (route.auth === "hmac")
    return Object.keys(h).some((k) => k.startsWith("x-hub-signature") || k === "x-gitlab-token");
  return h.authorization !== undefined || readCookie(request, SESSION_COOKIE) !== undefined;
}

interface Guarded {
  principal: Principal;
  params: unknown;
  project: string;
  role: Role | null;
}
const GUARDED = Symbol("tandem.guarded");
type GuardedRequest = FastifyRequest & { [GUARDED]?: Guarded };

export const REQUEST_ID_HEADER = "x-request-id";
/** A caller's X-Request-Id is kept when it is a plain token (it goes into logs and headers as it is). */
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:@+=-]{1,128}$/;

function requestIdOf(request: { headers: Record<string, string | string[] | undefined> }): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === "string" && ACCEPTED_REQUEST_ID.test(given) ? given : fastId();
}

/** Prediction, probe and scrape traffic is counted in /metrics and kept in the prediction log; logging each at info would drown the rest. */
function routineUrl(url: string): boolean {
  return (
    url.startsWith("/v1/endpoints/") ||
    url.startsWith("/v2/") ||
    url === "/healthz" ||
    url === "/readyz" ||
    url === "/metrics"
  );
}

/** Open Inference readiness routes, which answer 503 until a model is loaded and warm. */
function readinessProbe(url: string): boolean {
  return /^\/v2\/(health\/ready|models\/[^/]+(\/versions\/[^/]+)?\/ready)(\?|$)/.test(url);
}

/**
 * One line per request when it completes (Fastify writes two by default), at `error` for a 5xx,
 * `debug` for routine traffic, `info` otherwise, with who asked. Errors themselves are logged by
 * the error handler (errors.ts) with their stack.
 */
class RequestLog extends LogController {
  constructor() {
    super({ requestIdLogLabel: "request_id" });
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const status = reply.statusCode;
    // 501 is a client asking for what this server does not do (MLflow 3 endpoints), not a failure;
    // a readiness probe's 503 ("not warm yet") is its answer, polled until it turns 200.
    const failed = error || (status >= 500 && status !== 501 && !(status === 503 && readinessProbe(request.url)));
    const level = failed ? "error" : routineUrl(request.url) ? "debug" : "info";
    if (!(request.log as PinoLogger).isLevelEnabled(level)) return;
    const user = (request as GuardedRequest)[GUARDED]?.principal.userName;
    request.log[level](
      {
        method: request.method,
        url: request.url,
        route: request.routeOptions.url ?? "unmatched",
        status,
        duration_ms: Math.round(reply.elapsedTime * 100) / 100,
        ...(user && user !== "anonymous" ? { user } : {}),
        ...(error ? { err: error } : {}),
      },
      error ? "request failed while answering" : "request completed",
    );
  }
}

export function registerRoute(
  app: FastifyInstance,
  route: AnyRoute,
  options: AppOptions & { metrics: ServerMetrics; authLimiter: FailedAuthLimiter },
): void {
  const { services, authLimiter } = options;
  // Authentication and authorisation run in onRequest, before the body is even read, so a caller
  // without the right credentials learns nothing about the body's validity (401/403 before 400/413).
  const onRequest = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      let principal = ANONYMOUS;
      const credential = route.auth !== "none" && !options.noAuth && presentsCredential(request, route);
      if (credential) authLimiter.check(request.ip);
      try {
        if (route.auth === "bearer") principal = await authenticateRequest(request, services, options.noAuth ?? false);
        else if (route.auth === "hmac") {
          if (!route.verify) throw new Error(`route ${route.method} ${route.url} uses hmac without verify`);
          principal = await route.verify(request, services);
        }
      } catch (error) {
        if (credential && error instanceof UnauthenticatedError) authLimiter.fail(request.ip);
        throw error;
      }
      // Authorise on the raw project before validating the other path parameters, so a caller
      // without the role learns nothing about which ids are well-formed.
      const project = projectOf(request.params, request, principal);
      const role = await authorizeRoute(route, services, principal, project);
      checkTokenScope(route, principal);
      const params = parsePart(route.params, request.params, "path parameters");
      (request as GuardedRequest)[GUARDED] = { principal, params, project, role };
    } catch (error) {
      return sendError(request, reply, error);
    }
  };
  // Bound once per route: prom-client hashes a labels object on every call otherwise.
  const duration = options.metrics.duration.labels({ method: route.method, route: route.url });
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    // performance.now, not prom-client's startTimer: its process.hrtime(start) validates its
    // argument through Node's wrapped validators on every request.
    const started = performance.now();
    try {
      const guarded = (request as GuardedRequest)[GUARDED];
      if (!guarded) throw new Error("route guard did not run");
      const { principal, params, project, role } = guarded;
      const query = parsePart(route.query, request.query, "query string");
      const body =
        route.body && !route.plainBody?.(request.body)
          ? parsePart(route.body, request.body, "request body")
          : request.body;
      const result = await route.handler({ params, query, body, principal, project, role, services, request, reply });
      if (route.raw || reply.sent) return reply;
      const text = result instanceof JsonText ? result.text : null;
      if (options.validateResponses && route.response) {
        const check = route.response.safeParse(text === null ? result : JSON.parse(text));
        if (!check.success) {
          throw new Error(
            `response of ${route.method} ${route.url} breaks its schema: ${JSON.stringify(check.error.issues.slice(0, 3))}`,
          );
        }
      }
      // A handler may set its own status (503 not ready, 201 created); otherwise the route's declared one.
      if (reply.statusCode === 200 && route.status) reply.status(route.status);
      if (text !== null) return reply.type("application/json; charset=utf-8").send(text);
      return reply.send(result ?? {});
    } catch (error) {
      if (reply.sent) {
        request.log.error({ err: error }, "error after the reply was sent");
        return reply;
      }
      return sendError(request, reply, error);
    } finally {
      duration.observe((performance.now() - started) / 1000);
    }
  };
  const readRaw = route.preParsing;
  const preParsing = readRaw
    ? (request: FastifyRequest, _reply: FastifyReply, payload: RequestPayload) => readRaw(request, payload)
    : undefined;
  for (const url of [route.url, ...(route.aliases ?? [])]) {
    app.route({ method: route.method, url, bodyLimit: route.bodyLimit, onRequest, preParsing, handler });
  }
}

/**
 * JSON bodies: Fastify's parser (secure-json-parse) scans every body for prototype poisoning with two
 * Unicode-escape-aware regular expressions, about 8% of the event loop's time on a 64-row predict
 * request. A body in which neither word can be spelled (no "proto", no "constructor", no \u escape)
 * cannot hold `__proto__` or `constructor` keys, so it is parsed directly; any other body, and any
 * body that fails to parse, goes through Fastify's own parser (same checks, same errors).
 */
function useFastJsonParser(app: FastifyInstance): void {
  const secure = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    const text = body as string;
    if (text.length > 0 && !text.includes("proto") && !text.includes("constructor") && !text.includes("\\u")) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        void secure(request, text, done);
        return;
      }
      done(null, parsed);
      return;
    }
    void secure(request, text, (error, value) => {
      const key = error ? poisonedKey(text) : null;
      if (key === null) done(error, value);
      else
        done(
          new InvalidInputError(
            `the JSON body's key ${key} is refused: "__proto__" (or "constructor" holding "prototype") would replace the prototype of the object it is in; rename it`,
            { key },
          ),
        );
    });
  });
}

/**
 * Where the JSON `text` holds a key that the parser refuses (`__proto__`, or `constructor` holding
 * `prototype`), as a path (`columns.__proto__`); null when there is none or the text is no JSON.
 * Fastify's own message said "Body is not valid JSON" of valid JSON, and named nothing.
 */
function poisonedKey(text: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const find = (v: unknown, path: string): string | null => {
    if (typeof v !== "object" || v === null) return null;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const found = find(v[i], `${path}[${i}]`);
        if (found !== null) return found;
      }
      return null;
    }
    for (const [key, item] of Object.entries(v)) {
      const here = path ? `${path}.${key}` : key;
      if (key === "__proto__") return here;
      if (key === "constructor" && typeof item === "object" && item !== null && Object.hasOwn(item, "prototype"))
        return `${here}.prototype`;
      const found = find(item, here);
      if (found !== null) return found;
    }
    return null;
  };
  try {
    return find(value, "");
  } catch {
    return null; // nested deeper than the stack: Fastify's own error then
  }
}

export async function buildApp(options: AppOptions): Promise<{ app: FastifyInstance; metrics: ServerMetrics }> {
  const app = Fastify({
    // Typed as Fastify's base logger so the app keeps Fastify's default instance type.
    loggerInstance: (options.logger ?? pino({ level: "silent" })) as FastifyBaseLogger,
    logController: new RequestLog(),
    // A request's pino child is made when it first logs (most never do at the default level).
    childLoggerFactory: (logger, bindings, childOptions) =>
      (Object.keys(childOptions).length > 0
        ? logger.child(bindings, childOptions)
        : new RequestLogger(logger as PinoLogger, bindings)) as FastifyBaseLogger,
    genReqId: requestIdOf,
    bodyLimit: options.bodyLimit ?? 16 * 1024 * 1024,
    // Routes answer their own 404s; this keeps trailing-slash and case variants from surprising clients.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1000 },
    schemaController: { compilersFactory: LAZY_SCHEMA_COMPILERS as never },
  });
  const metrics = new ServerMetrics();
  // Uploads (artifacts, dataset blobs) arrive as raw streams; routes read them without buffering.
  useFastJsonParser(app);
  app.addContentTypeParser("application/octet-stream", (_req, payload, done) => done(null, payload));
  app.addContentTypeParser("*", (_req, payload, done) => done(null, payload));
  // Callback hooks, not async ones: they run on every request and need no promise.
  app.addHook("onRequest", (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  app.addHook("onResponse", (request, reply, done) => {
    metrics.countRequest(request.method, request.routeOptions.url ?? "unmatched", reply.statusCode);
    done();
  });
  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, new NotFoundError(`no route ${request.method} ${request.url.split("?")[0]}`)),
  );
  const authLimiter = new FailedAuthLimiter(options.services.config.authFailuresPerMinute);
  for (const route of options.routes) registerRoute(app, route, { ...options, metrics, authLimiter });
  await options.beforeReady?.(app, metrics);
  await app.ready();
  return { app, metrics };
}
