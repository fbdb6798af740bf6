/**
 * Sign-in for the web UI: a token is exchanged for a session cookie (HttpOnly, SameSite=Strict), so the
 * token never sits where page scripts can read it and server-sent events are authenticated too.
 */
import { z } from "zod";
import type { FastifyReply, FastifyRequest } from "fastify";
import { UnauthenticatedError } from "../../core/errors.js";
import { ROLES } from "../../core/governance/model.js";
import { readCookie, SESSION_COOKIE } from "../auth.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";

function cookie(request: FastifyRequest, value: string, maxAgeSeconds: number): string {
  // Secure only over https: the embedded default listens on plain http://127.0.0.1.
  const secure = request.protocol === "https" ? "; Secure" : "";
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

function clearCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.header("set-cookie", cookie(request, "", 0));
}

export const sessionRoutes: AnyRoute[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/session",
    summary: "Whether the request's session cookie is signed in, and as whom.",
    description: "Always 200, so a browser asking before sign-in logs no failed request.",
    tags: ["access"],
    auth: "none",
    role: null,
    response: z.object({
      signed_in: z.boolean(),
      user: z.string().nullable(),
      is_admin: z.boolean(),
      token_role: z.enum(ROLES).nullable(),
      token_project: z.string().nullable(),
    }),
    handler: async ({ services, request }) => {
      const id = readCookie(request, SESSION_COOKIE);
      // Only an ended session reads as "signed out"; a store failure still answers as an error.
      const principal = id
        ? await services.sessions.authenticate(id).catch((e: unknown) => {
            if (e instanceof UnauthenticatedError) return null;
            throw e;
          })
        : null;
      if (!principal) return { signed_in: false, user: null, is_admin: false, token_role: null, token_project: null };
      return {
        signed_in: true,
        user: principal.userName,
        is_admin: principal.isAdmin,
        token_role: principal.tokenRole,
        token_project: principal.tokenProject,
      };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/session",
    summary: "Sign in: exchange the request's token (Authorization: Bearer) for a session cookie.",
    description:
      "The cookie is HttpOnly, SameSite=Strict and Path=/. The session acts as the token: revoking the token ends it.",
    tags: ["access"],
    auth: "bearer",
    role: "authenticated",
    status: 201,
    response: z.object({ user: z.string(), is_admin: z.boolean(), expires_at: z.number() }),
    handler: async ({ services, principal, request, reply }) => {
      const opened = await services.sessions.open(principal);
      reply.header("set-cookie", cookie(request, opened.id, Math.floor(services.sessions.lifetimeMs / 1000)));
      return { user: principal.userName, is_admin: principal.isAdmin, expires_at: opened.expiresAt };
    },
  }),
  defineRoute({
    method: "DELETE",
    url: "/api/v1/session",
    summary: "Sign out: end the session named by the cookie and clear it.",
    tags: ["access"],
    auth: "bearer",
    role: "authenticated",
    response: z.object({ signed_out: z.literal(true) }),
    handler: async ({ services, request, reply }) => {
      const id = readCookie(request, SESSION_COOKIE);
      if (id) await services.sessions.close(id);
      clearCookie(request, reply);
      return { signed_out: true as const };
    },
  }),
];
