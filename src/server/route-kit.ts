/**
 * One place per route contract: method, URL, schemas, auth scheme and required role sit next to the
 * handler. The app registers routes from these definitions, the OpenAPI document is generated from
 * the same schemas, and the route-guard test walks them to prove every state change is guarded.
 */
import type { FastifyReply, FastifyRequest, RequestPayload } from "fastify";
import type { z } from "zod";
import type { Principal, Role } from "../core/governance/model.js";
import type { Services } from "./services.js";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * - `bearer`: a token (Authorization: Bearer, Basic with the token as password, or the UI's session cookie).
 * - `hmac`: a webhook; `verify` checks the provider's signature and names who acts.
 * - `none`: public (health, metrics, OpenAPI, sign-in). Never for a route that changes state.
 */
export type AuthScheme = "bearer" | "hmac" | "none";

/** A role in the route's project, `site-admin` for server-wide administration, or `authenticated` for any valid token. */
export type RequiredRole = Role | "site-admin" | "authenticated";

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** Null only on `auth: "none"` routes. */
  principal: Principal;
  /** The project the route acts in: the `:project` URL param, else the X-Tandem-Project header, else `default`. */
  project: string;
  /** The principal's role in `project` (null where the route needs none). */
  role: Role | null;
  services: Services;
  request: FastifyRequest;
  reply: FastifyReply;
}

export interface RouteDef<P = unknown, Q = unknown, B = unknown> {
  method: HttpMethod;
  /** Fastify path syntax, e.g. `/api/v1/projects/:project/runs/:id`. */
  url: string;
  /** Extra URLs served by the same handler (e.g. MLflow's `/ajax-api/2.0/…` twins). Not in OpenAPI. */
  aliases?: string[];
  summary: string;
  tags: string[];
  /** The OpenAPI operationId (default: derived from method and URL, see operation-ids.ts). */
  operationId?: string;
  auth: AuthScheme;
  role: RequiredRole | null;
  /** Whether it changes state (default: every method but GET). The guard test relies on it. */
  changesState?: boolean;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /**
   * A quick check that `body` accepts a request body as it is (never looser than the schema): when it
   * says so the body skips the schema's parse; otherwise the schema parses it (or words the error).
   * For hot routes whose schema costs more than the route's own work.
   */
  plainBody?: (body: unknown) => boolean;
  /** The success response body; `raw` routes that stream may leave it out. */
  response?: z.ZodType;
  /** Success status (default 200). */
  status?: number;
  /** Largest accepted body in bytes (default: the server's 16 MiB). */
  bodyLimit?: number;
  /** The handler writes the reply itself (streams, files, SSE); its return value is ignored. */
  raw?: boolean;
  /** Shown in the OpenAPI document only. */
  description?: string;
  /**
   * Reads the raw body before any content-type parser (webhook signatures, gzip OTLP), after
   * authentication; returns the stream the parsers get. On this route only: a hook on the app ran
   * on every request, two promise hops each on the serving path.
   */
  preParsing?: (request: FastifyRequest, payload: RequestPayload) => Promise<RequestPayload>;
  /** For `auth: "hmac"`: checks the signature (throw UnauthenticatedError) and returns who acts. */
  verify?: (request: FastifyRequest, services: Services) => Promise<Principal>;
  handler: (ctx: RouteContext<P, Q, B>) => Promise<unknown>;
}

/**
 * A response body a handler has already written as JSON text (the prediction route reuses the
 * predictions' text the log made): sent as it is, checked against the route's schema like any other
 * response when responses are validated.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

/** Identity function that infers P, Q and B from the schemas, so handlers are typed. */
export function defineRoute<P = unknown, Q = unknown, B = unknown>(def: RouteDef<P, Q, B>): RouteDef<P, Q, B> {
  return def;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a table of routes with different types
export type AnyRoute = RouteDef<any, any, any>;

export function changesState(route: AnyRoute): boolean {
  return route.changesState ?? route.method !== "GET";
}
