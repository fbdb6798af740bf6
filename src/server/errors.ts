/**
 * The one error handler. Domain errors map to a status by their code; everything else is a 500 whose
 * details stay in the server log, never in the response. MLflow routes answer in MLflow's shape.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ZodError } from "zod";
import { RateLimitedError, TandemError, type ErrorCode } from "../core/errors.js";
import { assertNever } from "../core/errors.js";
import type { RegistryResource } from "../core/registry/missing.js";

export function statusOf(code: ErrorCode): number {
  switch (code) {
    case "INVALID_INPUT":
      return 400;
    case "UNAUTHENTICATED":
      return 401;
    case "FORBIDDEN":
      return 403;
    case "NOT_FOUND":
      return 404;
    case "CONFLICT":
    case "POLICY_REFUSED":
      return 409;
    case "PAYLOAD_TOO_LARGE":
      return 413;
    case "UNPROCESSABLE":
      return 422;
    case "RATE_LIMITED":
      return 429;
    case "INTERNAL":
      return 500;
    case "BAD_GATEWAY":
      return 502;
    default:
      return assertNever(code, "error code");
  }
}

/** MLflow clients read `error_code`; they retry any 5xx for minutes, so client errors must be 4xx. */
function mlflowCode(code: ErrorCode): string {
  switch (code) {
    case "INVALID_INPUT":
    case "UNPROCESSABLE":
    case "PAYLOAD_TOO_LARGE":
      return "INVALID_PARAMETER_VALUE";
    case "NOT_FOUND":
      return "RESOURCE_DOES_NOT_EXIST";
    case "CONFLICT":
      return "RESOURCE_ALREADY_EXISTS";
    case "POLICY_REFUSED":
      return "INVALID_STATE";
    case "UNAUTHENTICATED":
      return "UNAUTHENTICATED";
    case "FORBIDDEN":
      return "PERMISSION_DENIED";
    case "INTERNAL":
      return "INTERNAL_ERROR";
    case "BAD_GATEWAY":
      return "TEMPORARILY_UNAVAILABLE";
    case "RATE_LIMITED":
      return "REQUEST_LIMIT_EXCEEDED";
    default:
      return assertNever(code, "error code");
  }
}

function mlflowStatus(code: ErrorCode): number {
  // MLflow answers RESOURCE_ALREADY_EXISTS with 400, and its clients expect that.
  return code === "CONFLICT" ? 400 : statusOf(code);
}

/**
 * A missing or taken registered model or version in the words of MLflow 2.12's SQL store
 * (sqlalchemy_store.py), which its clients show and scripts match; anything else as Tandem says it.
 */
function mlflowMessage(e: TandemError): string {
  const resource = (e.details as { resource?: RegistryResource } | undefined)?.resource;
  if (!resource) return e.message;
  if (e.code === "NOT_FOUND")
    return resource.type === "model_version"
      ? `Model Version (name=${resource.name}, version=${resource.version}) not found`
      : `Registered Model with name=${resource.name} not found`;
  if (e.code === "CONFLICT" && resource.type === "registered_model")
    return `Registered Model (name=${resource.name}) already exists.`;
  return e.message;
}

/** MLflow's REST paths (2.0, and 3.0 where MLflow 3 put its newer endpoints). */
export function isMlflowUrl(url: string): boolean {
  return /^\/(?:ajax-)?api\/[23]\.0\//.test(url);
}

export function zodToInvalidInput(error: ZodError, where: string): TandemError {
  const issues = error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  const first = issues[0];
  const message = first
    ? `invalid ${where}: ${first.path ? `${first.path}: ` : ""}${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ""}`
    : `invalid ${where}`;
  return new TandemError("INVALID_INPUT", message, { issues });
}

/** Turns anything thrown into a TandemError, keeping unknown errors' text out of the response. */
export function normalizeError(error: unknown): TandemError {
  if (error instanceof TandemError) return error;
  if (error instanceof ZodError) return zodToInvalidInput(error, "request");
  const fe = error as FastifyError;
  if (fe && typeof fe.statusCode === "number" && fe.statusCode < 500) {
    if (fe.statusCode === 413) return new TandemError("PAYLOAD_TOO_LARGE", "request body is too large");
    if (fe.statusCode === 415) return new TandemError("INVALID_INPUT", `unsupported content type: ${fe.message}`);
    if (fe.statusCode === 404) return new TandemError("NOT_FOUND", fe.message);
    return new TandemError("INVALID_INPUT", fe.message || "bad request");
  }
  return new TandemError("INTERNAL", "internal error");
}

/**
 * Answers with the error. An internal error is logged with its stack under the request id (the
 * answer says only "internal error" and that id, which finds the log line). MLflow routes answer in
 * MLflow's exact shape, which has no place for the id: the X-Request-Id header carries it there.
 */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const e = normalizeError(error);
  if (e instanceof RateLimitedError) reply.header("retry-after", String(e.retryAfterS));
  if (e.code === "INTERNAL") request.log.error({ err: error }, "internal error");
  if (isMlflowUrl(request.url)) {
    return reply.status(mlflowStatus(e.code)).send({ error_code: mlflowCode(e.code), message: mlflowMessage(e) });
  }
  const body: { error: { code: string; message: string; details?: unknown; request_id: string } } = {
    error: { code: e.code, message: e.message, request_id: request.id },
  };
  if (e.details !== undefined) body.error.details = e.details;
  return reply.status(statusOf(e.code)).send(body);
}
