import { z } from "zod";
import type { AuditEvent } from "../../core/governance/model.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";

const eventWire = z.object({
  seq: z.number(),
  id: z.string(),
  at: z.number(),
  actor: z.string(),
  project: z.string().nullable(),
  action: z.string(),
  target: z.string(),
  summary: z.record(z.string(), z.unknown()),
  prev_hash: z.string(),
  hash: z.string(),
});

export const auditToWire = (e: AuditEvent) => ({
  seq: e.seq,
  id: e.id,
  at: e.at,
  actor: e.actor,
  project: e.project,
  action: e.action,
  target: e.target,
  summary: e.summary,
  prev_hash: e.prevHash,
  hash: e.hash,
});

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** Page backwards: events older than this seq. */
  before: z.coerce.number().int().optional(),
});

export const auditRoutes: AnyRoute[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/audit",
    operationId: "listProjectAuditEvents",
    summary: "A project's audit events, newest first.",
    tags: ["audit"],
    auth: "bearer",
    role: "viewer",
    params: z.object({ project: z.string() }),
    query: listQuery,
    response: z.object({ events: z.array(eventWire) }),
    handler: async ({ services, project, query }) => ({
      events: (
        await services.audit.list({ project, limit: query.limit, afterSeq: query.before, descending: true })
      ).map(auditToWire),
    }),
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/audit",
    operationId: "listAuditEvents",
    summary: "Every audit event, newest first (site admins).",
    tags: ["audit"],
    auth: "bearer",
    role: "site-admin",
    query: listQuery,
    response: z.object({ events: z.array(eventWire) }),
    handler: async ({ services, query }) => ({
      events: (await services.audit.list({ limit: query.limit, afterSeq: query.before, descending: true })).map(
        auditToWire,
      ),
    }),
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/audit/verify",
    summary: "Walk the hash chain and compare its head with the one kept outside the database.",
    tags: ["audit"],
    auth: "bearer",
    role: "site-admin",
    query: z.object({
      /** Verify the chain alone: the head file is missing on purpose (moved, new). */
      without_head: z
        .enum(["true", "false"])
        .default("false")
        .transform((v) => v === "true"),
    }),
    response: z.object({
      ok: z.boolean(),
      events: z.number(),
      broken_at: z.number().nullable(),
      reason: z.string().nullable(),
    }),
    handler: async ({ services, query }) => {
      const v = await services.audit.verify({ withoutHead: query.without_head });
      return v.ok
        ? { ok: true, events: v.events, broken_at: null, reason: null }
        : { ok: false, events: v.events, broken_at: v.brokenAt, reason: v.reason };
    },
  }),
];
