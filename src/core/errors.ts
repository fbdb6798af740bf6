/**
 * Domain errors. They carry a stable machine code and optional details but know nothing of HTTP:
 * the one error handler in `server/errors.ts` maps `code` to a status.
 */
export type ErrorCode =
  | "INVALID_INPUT"
  | "NOT_FOUND"
  | "CONFLICT"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "PAYLOAD_TOO_LARGE"
  | "UNPROCESSABLE"
  | "POLICY_REFUSED"
  | "BAD_GATEWAY"
  | "RATE_LIMITED"
  | "INTERNAL";

export class TandemError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.code = code;
    this.details = details;
    this.name = new.target.name;
  }
}

/** The input is malformed: a bad field, a bad filter, a spec error (file:line:column in the message). */
export class InvalidInputError extends TandemError {
  constructor(message: string, details?: unknown) {
    super("INVALID_INPUT", message, details);
  }
}

export class NotFoundError extends TandemError {
  constructor(message: string, details?: unknown) {
    super("NOT_FOUND", message, details);
  }
}

/** The request is well-formed but clashes with the current state (already exists, wrong state). */
export class ConflictError extends TandemError {
  constructor(message: string, details?: unknown) {
    super("CONFLICT", message, details);
  }
}

export class UnauthenticatedError extends TandemError {
  constructor(message = "a valid token is required", details?: unknown) {
    super("UNAUTHENTICATED", message, details);
  }
}

export class ForbiddenError extends TandemError {
  constructor(message: string, details?: unknown) {
    super("FORBIDDEN", message, details);
  }
}

export class PayloadTooLargeError extends TandemError {
  constructor(message: string, details?: unknown) {
    super("PAYLOAD_TOO_LARGE", message, details);
  }
}

/** Syntactically valid but unusable input, e.g. an instance missing a model feature. */
export class UnprocessableError extends TandemError {
  constructor(message: string, details?: unknown) {
    super("UNPROCESSABLE", message, details);
  }
}

/** Too many attempts (failed sign-ins from one address); `retryAfterS` says when to try again. */
export class RateLimitedError extends TandemError {
  constructor(
    message: string,
    readonly retryAfterS: number,
  ) {
    super("RATE_LIMITED", message, { retry_after_s: retryAfterS });
  }
}

/** A policy gate said no; `details` holds the decision record (every check, value, threshold). */
export class PolicyRefusedError extends TandemError {
  constructor(message: string, details?: unknown) {
    super("POLICY_REFUSED", message, details);
  }
}

export function assertNever(value: never, what = "value"): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
