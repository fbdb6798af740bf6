import type { FastifyRequest } from "fastify";
import { ForbiddenError, UnauthenticatedError } from "../core/errors.js";
import type { Principal } from "../core/governance/model.js";
import type { Services } from "./services.js";

export const SESSION_COOKIE = "tandem_session";

/** Who acts when the server runs with --no-auth: a site admin, loudly announced at start. */
export const NO_AUTH_PRINCIPAL: Principal = {
  userName: "admin",
  isAdmin: true,
  tokenId: null,
  tokenRole: null,
  tokenProject: null,
};

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      // A malformed %-escape is a bad cookie, not a server error.
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

const WHITESPACE = /\s/;

/**
 * The token a request carries: `Authorization: Bearer T` (MLFLOW_TRACKING_TOKEN) or `Basic user:T`
 * (MLFLOW_TRACKING_USERNAME/PASSWORD with a Tandem token as password). The UI's session cookie is not
 * a token: `authenticateRequest` resolves it through the session service.
 */
export function extractToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header) {
    // The usual form, "Bearer T" with no other space, without a regular expression split (what the
    // split below gives for it: T). ~0.5% of a 1-row infer's event loop went to the split.
    if (header.startsWith("Bearer ") && header.length > 7 && !WHITESPACE.test(header.slice(7))) return header.slice(7);
    const [scheme, value] = header.split(/\s+/, 2);
    if (scheme?.toLowerCase() === "bearer" && value) return value;
    if (scheme?.toLowerCase() === "basic" && value) {
      const decoded = Buffer.from(value, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      return colon >= 0 ? decoded.slice(colon + 1) : undefined;
    }
    throw new UnauthenticatedError("unsupported Authorization scheme: use Bearer <token>");
  }
  return undefined;
}

export async function authenticateRequest(
  request: FastifyRequest,
  services: Services,
  noAuth: boolean,
): Promise<Principal> {
  if (noAuth) return NO_AUTH_PRINCIPAL;
  const token = extractToken(request);
  // An explicit token wins over a cookie, so a CLI call from a signed-in browser's machine is unambiguous.
  const session = token === undefined ? readCookie(request, SESSION_COOKIE) : undefined;
  if (session) {
    assertSameOrigin(request);
    return services.sessions.authenticate(session);
  }
  return services.access.authenticate(token);
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * A browser sends the session cookie with any request to this site, also one another page on the
 * same site makes (SameSite=Strict only keeps other sites out): an HTML form there could approve a
 * version as the signed-in approver. A change made with the cookie must come from this origin, as
 * the browser says (Sec-Fetch-Site, else Origin against Host). Clients without either header are
 * not browsers; they authenticate with tokens, which pages cannot send.
 */
function assertSameOrigin(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return;
  const site = request.headers["sec-fetch-site"];
  if (typeof site === "string") {
    if (site === "same-origin" || site === "none") return;
    throw new ForbiddenError(`a ${site} request cannot change anything with the session cookie`);
  }
  const origin = request.headers.origin;
  if (typeof origin !== "string") return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    host = "";
  }
  if (host !== request.headers.host)
    throw new ForbiddenError(`a request from ${origin} cannot change anything with the session cookie`);
}
