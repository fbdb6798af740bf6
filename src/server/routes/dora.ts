/** `GET /api/v1/projects/:project/dora`: DORA's five metrics over model and service deployments. */
import { z } from "zod";
import { defineRoute, type AnyRoute } from "../route-kit.js";

const band = z.enum(["elite", "high", "medium", "low"]);

const weekWire = z.object({
  week_start: z.number().describe("Monday 00:00 UTC, ms."),
  deployments: z.number().int(),
  failed: z.number().int(),
  rework: z.number().int(),
  lead_time_median_ms: z.number().nullable(),
  recovery_median_ms: z.number().nullable(),
});

const groupWire = z.object({
  deployments: z.number().int(),
  deployment_frequency: z.object({ per_day: z.number(), per_week: z.number(), band }),
  change_lead_time: z.object({
    median_ms: z.number().nullable(),
    measured: z.number().int().describe("Deployments whose commit time is known."),
    band: band.nullable(),
  }),
  change_fail_rate: z.object({ rate: z.number().nullable(), failed: z.number().int(), band: band.nullable() }),
  failed_deployment_recovery_time: z.object({
    median_ms: z.number().nullable(),
    recovered: z.number().int(),
    unrecovered: z.number().int(),
    band: band.nullable(),
  }),
  deployment_rework_rate: z.object({ rate: z.number().nullable(), rework: z.number().int(), band: z.null() }),
  weekly: z.array(weekWire),
});

const metricId = z.enum([
  "deployment_frequency",
  "change_lead_time",
  "change_fail_rate",
  "failed_deployment_recovery_time",
  "deployment_rework_rate",
]);

export const doraWire = z.object({
  project: z.string(),
  target: z.string().nullable(),
  since: z.number(),
  until: z.number(),
  hotfix_window_ms: z.number(),
  report_year: z.number().int().describe("The DORA report the definitions and bands come from."),
  groups: z.object({ all: groupWire, model: groupWire, service: groupWire }),
  definitions: z.array(
    z.object({
      id: metricId,
      name: z.string(),
      definition: z.string(),
      measured_as: z.string(),
      bands: z.object({ elite: z.string(), high: z.string(), medium: z.string(), low: z.string() }).nullable(),
    }),
  ),
  deployments: z
    .array(
      z.object({
        id: z.string(),
        kind: z.enum(["model", "service"]),
        target: z.string(),
        reason: z.string(),
        outcome: z.string(),
        started_at: z.number(),
        commit: z.string().nullable(),
        failed: z.boolean(),
        failed_because: z.string().nullable(),
        rework: z.boolean(),
        lead_time_ms: z.number().nullable(),
        recovery_ms: z.number().nullable(),
      }),
    )
    .describe("The deployments counted, newest first (at most 1000), each with how it was read."),
});

export const doraRoutes: AnyRoute[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/dora",
    summary:
      "DORA's five software delivery metrics (2024 report) over model and service deployments, apart and together, with weekly series and performance bands.",
    tags: ["portal"],
    auth: "bearer",
    role: "viewer",
    params: z.object({ project: z.string() }),
    query: z.object({
      since: z.string().optional().describe("The period before now: 90d (default), 12w, 24h…"),
      target: z.string().min(1).optional().describe("One endpoint or service."),
      hotfix_window: z
        .string()
        .optional()
        .describe("How soon after a deployment a hotfix marks it failed (default 7d)."),
    }),
    response: doraWire,
    handler: async ({ services, project, query }) =>
      services.dora.report(project, { since: query.since, target: query.target, hotfixWindow: query.hotfix_window }),
  }),
];
