import { z } from "zod";
import type { MonitorResult, MonitorState } from "../../core/monitoring/monitors/model.js";
import { renderMonitorHtml } from "../../core/monitoring/monitor-report-html.js";
import { MAX_WINDOW_ROWS } from "../../core/monitoring/monitors/definition.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";

const checkWire = z.object({
  check: z.string(),
  passed: z.boolean(),
  summary: z.string(),
  details: z.record(z.string(), z.unknown()),
});
const resultWire = z.object({
  id: z.string(),
  monitor: z.string(),
  window_start: z.number(),
  window_end: z.number(),
  computed_from: z.enum(["raw", "profile"]),
  status: z.enum(["ok", "failing", "insufficient_data", "error"]),
  rows: z.number(),
  labelled_rows: z.number(),
  checks: z.array(checkWire),
  error: z.string().nullable(),
  alert_id: z.string().nullable(),
  created_at: z.number(),
  /** Set when the window held more than `max_rows` rows: the checks ran on a uniform sample of `rows` of `of`. */
  sampled: z
    .object({
      rows: z.number(),
      of: z.number(),
      reference: z.object({ rows: z.number(), of: z.number() }).optional(),
    })
    .nullable(),
});
const monitorWire = z.object({
  name: z.string(),
  endpoint: z.string().nullable(),
  dataset: z.string().nullable(),
  /** A trace stream: `{model}` (null model: every trace of the project). */
  traces: z.object({ model: z.string().nullable() }).nullable(),
  schedule: z.string().nullable(),
  timezone: z.string(),
  window_ms: z.number().nullable(),
  reference: z.string().nullable(),
  columns: z.record(z.string(), z.unknown()),
  checks: z.array(z.record(z.string(), z.unknown())),
  min_rows: z.number(),
  max_rows: z.number(),
  raw_window_max_ms: z.number(),
  next_run_at: z.number().nullable(),
  last_run_at: z.number().nullable(),
  last_result: resultWire.nullable().optional(),
});

export const resultToWire = (r: MonitorResult) => ({
  id: r.id,
  monitor: r.monitor,
  window_start: r.windowStart,
  window_end: r.windowEnd,
  computed_from: r.computedFrom,
  status: r.status,
  rows: r.rows,
  labelled_rows: r.labelledRows,
  checks: r.checks,
  error: r.error,
  alert_id: r.alertId,
  created_at: r.createdAt,
  sampled: r.sampled,
});

const monitorToWire = (s: MonitorState, last?: MonitorResult | null) => {
  const d = s.definition;
  return {
    name: d.name,
    endpoint: d.endpoint,
    dataset: d.dataset,
    traces: d.traces ?? null,
    schedule: d.schedule,
    timezone: d.timezone,
    window_ms: d.windowMs,
    reference: d.reference,
    columns: { ...d.roles },
    checks: d.checks.map((c) => ({ ...c })),
    min_rows: d.minRows,
    max_rows: d.maxRows ?? MAX_WINDOW_ROWS,
    raw_window_max_ms: d.rawWindowMaxMs,
    next_run_at: s.nextRunAt,
    last_run_at: s.lastRunAt,
    ...(last !== undefined ? { last_result: last ? resultToWire(last) : null } : {}),
  };
};

const projectParams = z.object({ project: z.string() });
const monitorParams = z.object({ project: z.string(), name: z.string() });

export const monitorRoutes: AnyRoute[] = [
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/monitors",
    summary: "A project's monitors with their latest result.",
    tags: ["monitors"],
    auth: "bearer",
    role: "viewer",
    params: projectParams,
    response: z.object({ monitors: z.array(monitorWire) }),
    handler: async ({ services, project }) => {
      const states = await services.monitors.list(project);
      const monitors = [];
      for (const s of states)
        monitors.push(
          monitorToWire(s, (await services.monitors.results(project, s.definition.name, { limit: 1 }))[0] ?? null),
        );
      return { monitors };
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/monitors/:name",
    summary: "One monitor's definition and schedule state.",
    tags: ["monitors"],
    auth: "bearer",
    role: "viewer",
    params: monitorParams,
    response: monitorWire,
    handler: async ({ services, project, params }) => {
      const s = await services.monitors.get(project, params.name);
      return monitorToWire(s, (await services.monitors.results(project, params.name, { limit: 1 }))[0] ?? null);
    },
  }),
  defineRoute({
    method: "PUT",
    url: "/api/v1/projects/:project/monitors/:name",
    summary: "Define or replace a monitor (the body is a tandem.yaml `monitors:` entry).",
    tags: ["monitors"],
    auth: "bearer",
    role: "member",
    params: monitorParams,
    body: z.record(z.string(), z.unknown()),
    response: monitorWire,
    handler: async ({ services, project, params, principal, body }) => {
      await services.monitors.define(principal.userName, project, params.name, body);
      return monitorToWire(await services.monitors.get(project, params.name));
    },
  }),
  defineRoute({
    method: "DELETE",
    url: "/api/v1/projects/:project/monitors/:name",
    summary: "Remove a monitor (its results stay).",
    tags: ["monitors"],
    auth: "bearer",
    role: "member",
    params: monitorParams,
    response: z.object({ removed: z.literal(true) }),
    handler: async ({ services, project, params, principal }) => {
      await services.monitors.remove(principal.userName, project, params.name);
      return { removed: true as const };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/api/v1/projects/:project/monitors/:name/run",
    summary: "Run a monitor now over its window (ending now); raises or resolves its alert.",
    tags: ["monitors"],
    auth: "bearer",
    role: "member",
    params: monitorParams,
    body: z.object({ window_end: z.number().int().optional() }).optional(),
    response: resultWire,
    handler: async ({ services, project, params, principal, body }) =>
      resultToWire(
        await services.monitors.run(principal.userName, project, params.name, { windowEnd: body?.window_end }),
      ),
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/monitors/:name/results",
    summary: "A monitor's results, newest window first: the time series the UI draws.",
    tags: ["monitors"],
    auth: "bearer",
    role: "viewer",
    params: monitorParams,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      before: z.coerce.number().int().optional(),
    }),
    response: z.object({ results: z.array(resultWire) }),
    handler: async ({ services, project, params, query }) => ({
      results: (await services.monitors.results(project, params.name, query)).map(resultToWire),
    }),
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/monitors/:name/report.html",
    summary:
      "A self-contained HTML report: drift per feature in the newest window; drift, performance and fairness over time.",
    tags: ["monitors"],
    auth: "bearer",
    role: "viewer",
    params: monitorParams,
    query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(200) }),
    raw: true,
    handler: async ({ services, project, params, query, reply }) => {
      const state = await services.monitors.get(project, params.name);
      const results = await services.monitors.results(project, params.name, { limit: query.limit });
      return reply.type("text/html; charset=utf-8").send(renderMonitorHtml(state.definition, results));
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/monitor-results/:id",
    summary: "One monitor result with its full evidence (histograms, statistics, groups).",
    tags: ["monitors"],
    auth: "bearer",
    role: "viewer",
    params: z.object({ project: z.string(), id: z.string() }),
    response: resultWire,
    handler: async ({ services, project, params }) => resultToWire(await services.monitors.result(project, params.id)),
  }),
];
