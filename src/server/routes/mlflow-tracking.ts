/**
 * MLflow REST API 2.0 — experiments, runs, metrics and artifact listing (mlflow/protos/service.proto),
 * under `/api/2.0/mlflow/…` and the UI's `/ajax-api/2.0/mlflow/…`. GET routes read their fields from the
 * query string; run routes accept `run_id` or the older `run_uuid`. The project is the
 * `X-Tandem-Project` header, else `default`. Errors come out as MLflow's `{error_code, message}`.
 */
import { z } from "zod";
import { InvalidInputError } from "../../core/errors.js";
import { nowMs } from "../../core/ids.js";
import { missingParameter } from "../../core/tracking/validation.js";
import type { RouteDef, RouteContext } from "../route-kit.js";
import { defineRoute, type AnyRoute, type HttpMethod } from "../route-kit.js";
import {
  double,
  experimentOut,
  int64,
  keyValue,
  metricOut,
  queryInt,
  repeated,
  runInfoOut,
  readMetric,
  runOut,
  viewType,
} from "./mlflow-wire.js";

/** log-batch bodies are capped at MLflow's 1 MB (plus slack for JSON whitespace). */
const BATCH_BODY_LIMIT = 1_100_000;

type MlflowRoute<P, Q, B> = Omit<RouteDef<P, Q, B>, "url" | "aliases" | "tags" | "auth" | "role" | "method"> & {
  role?: "viewer" | "member" | "admin";
};

export function mlflowRoute<P, Q, B>(method: HttpMethod, path: string, def: MlflowRoute<P, Q, B>): AnyRoute {
  return defineRoute({
    ...def,
    method,
    url: `/api/2.0/mlflow${path}`,
    aliases: [`/ajax-api/2.0/mlflow${path}`],
    tags: ["mlflow"],
    auth: "bearer",
    role: def.role ?? (method === "GET" ? "viewer" : "member"),
  }) as AnyRoute;
}

const runRef = { run_id: z.string().optional(), run_uuid: z.string().optional() };

function runIdOf(x: { run_id?: string; run_uuid?: string }): string {
  const id = x.run_id || x.run_uuid;
  if (!id) throw missingParameter("run_id");
  return id;
}

const actorOf = (ctx: RouteContext<unknown, unknown, unknown>) => ctx.principal.userName;

/** The logged-model history tag, tolerating a hand-edited or foreign value. */
function parseHistory(tag: string | undefined): unknown[] {
  try {
    const parsed: unknown = JSON.parse(tag ?? "[]");
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}

function toPoint(m: { key: string; value: number; timestamp?: number; step?: number }) {
  return { key: m.key, value: m.value, timestamp: m.timestamp ?? nowMs(), step: m.step ?? 0 };
}

const experimentSearch = z.object({
  max_results: queryInt.optional(),
  page_token: z.string().optional(),
  filter: z.string().optional(),
  order_by: repeated.optional(),
  view_type: viewType,
});

export const mlflowTrackingRoutes: AnyRoute[] = [
  // ---- experiments
  mlflowRoute("POST", "/experiments/create", {
    summary: "Create an experiment.",
    body: z.object({
      name: z.string().optional(),
      artifact_location: z.string().optional(),
      tags: z.array(keyValue).optional(),
    }),
    handler: async (ctx) => {
      const { body, project, services } = ctx;
      const tags = Object.fromEntries((body.tags ?? []).map((t) => [t.key, t.value ?? ""]));
      const e = await services.tracking.createExperiment(actorOf(ctx), project, {
        name: body.name ?? "",
        artifactLocation: body.artifact_location,
        tags,
      });
      return { experiment_id: e.experimentId };
    },
  }),
  mlflowRoute("GET", "/experiments/get", {
    summary: "Get an experiment by id.",
    query: z.object({ experiment_id: z.string() }),
    handler: async ({ query, project, services }) => ({
      experiment: experimentOut(await services.tracking.getExperiment(project, query.experiment_id)),
    }),
  }),
  mlflowRoute("GET", "/experiments/get-by-name", {
    summary: "Get an experiment by name.",
    query: z.object({ experiment_name: z.string() }),
    handler: async ({ query, project, services }) => ({
      experiment: experimentOut(await services.tracking.getExperimentByName(project, query.experiment_name)),
    }),
  }),
  ...(["POST", "GET"] as const).map((method) =>
    mlflowRoute(method, "/experiments/search", {
      summary: "Search experiments.",
      role: "viewer",
      changesState: false,
      ...(method === "GET" ? { query: experimentSearch } : { body: experimentSearch }),
      handler: async ({ query, body, project, services }) => {
        const q = (method === "GET" ? query : body) as z.infer<typeof experimentSearch>;
        const page = await services.tracking.searchExperiments(project, {
          viewType: q.view_type,
          filter: q.filter,
          orderBy: q.order_by,
          maxResults: q.max_results,
          pageToken: q.page_token,
        });
        return {
          experiments: page.items.map(experimentOut),
          ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
        };
      },
    }),
  ),
  mlflowRoute("POST", "/experiments/update", {
    summary: "Rename an experiment.",
    body: z.object({ experiment_id: z.string(), new_name: z.string().optional() }),
    handler: async (ctx) => {
      await ctx.services.tracking.renameExperiment(
        actorOf(ctx),
        ctx.project,
        ctx.body.experiment_id,
        ctx.body.new_name ?? "",
      );
      return {};
    },
  }),
  ...(["delete", "restore"] as const).map((verb) =>
    mlflowRoute("POST", `/experiments/${verb}`, {
      summary: `${verb === "delete" ? "Soft-delete" : "Restore"} an experiment and its runs.`,
      body: z.object({ experiment_id: z.string() }),
      handler: async (ctx) => {
        await ctx.services.tracking.setExperimentDeleted(
          actorOf(ctx),
          ctx.project,
          ctx.body.experiment_id,
          verb === "delete",
        );
        return {};
      },
    }),
  ),
  mlflowRoute("POST", "/experiments/set-experiment-tag", {
    summary: "Set a tag on an experiment.",
    body: z.object({ experiment_id: z.string(), key: z.string(), value: z.string().nullish() }),
    handler: async (ctx) => {
      await ctx.services.tracking.setExperimentTag(
        actorOf(ctx),
        ctx.project,
        ctx.body.experiment_id,
        ctx.body.key,
        ctx.body.value ?? "",
      );
      return {};
    },
  }),
  mlflowRoute("POST", "/experiments/delete-experiment-tag", {
    summary: "Delete a tag of an experiment.",
    body: z.object({ experiment_id: z.string(), key: z.string() }),
    handler: async (ctx) => {
      await ctx.services.tracking.setExperimentTag(
        actorOf(ctx),
        ctx.project,
        ctx.body.experiment_id,
        ctx.body.key,
        null,
      );
      return {};
    },
  }),

  // ---- runs
  mlflowRoute("POST", "/runs/create", {
    summary: "Create a run.",
    body: z.object({
      experiment_id: z.string().optional(),
      user_id: z.string().optional(),
      run_name: z.string().optional(),
      start_time: int64.optional(),
      tags: z.array(keyValue).optional(),
    }),
    handler: async (ctx) => {
      const { body } = ctx;
      const tags = Object.fromEntries((body.tags ?? []).map((t) => [t.key, t.value ?? ""]));
      const run = await ctx.services.tracking.createRun(actorOf(ctx), ctx.project, {
        experimentId: body.experiment_id,
        userId: body.user_id,
        runName: body.run_name,
        startTime: body.start_time,
        tags,
      });
      // MLflow's CreateRun answers the run without its (still empty) inputs.
      const { inputs: _none, ...created } = runOut(run);
      return { run: created };
    },
  }),
  mlflowRoute("POST", "/runs/update", {
    summary: "Update a run's status, end time or name.",
    body: z.object({
      ...runRef,
      status: z.string().optional(),
      end_time: int64.optional(),
      run_name: z.string().optional(),
    }),
    handler: async (ctx) => {
      const info = await ctx.services.tracking.updateRun(actorOf(ctx), ctx.project, runIdOf(ctx.body), {
        status: ctx.body.status,
        endTime: ctx.body.end_time,
        runName: ctx.body.run_name,
      });
      return { run_info: runInfoOut(info) };
    },
  }),
  ...(["delete", "restore"] as const).map((verb) =>
    mlflowRoute("POST", `/runs/${verb}`, {
      summary: `${verb === "delete" ? "Soft-delete" : "Restore"} a run.`,
      body: z.object(runRef),
      handler: async (ctx) => {
        await ctx.services.tracking.setRunDeleted(actorOf(ctx), ctx.project, runIdOf(ctx.body), verb === "delete");
        return {};
      },
    }),
  ),
  mlflowRoute("GET", "/runs/get", {
    summary: "Get a run with its latest metrics, params, tags and inputs.",
    query: z.object(runRef),
    handler: async ({ query, project, services }) => ({
      run: runOut(await services.tracking.getRun(project, runIdOf(query))),
    }),
  }),
  mlflowRoute("POST", "/runs/log-metric", {
    summary: "Log one metric point.",
    body: z.object({ ...runRef, key: z.string(), value: double, timestamp: int64.optional(), step: int64.optional() }),
    handler: async (ctx) => {
      await ctx.services.tracking.logBatch(actorOf(ctx), ctx.project, runIdOf(ctx.body), {
        metrics: [toPoint(ctx.body)],
      });
      return {};
    },
  }),
  mlflowRoute("POST", "/runs/log-parameter", {
    summary: "Log one param.",
    body: z.object({ ...runRef, key: z.string(), value: z.string().nullish() }),
    handler: async (ctx) => {
      await ctx.services.tracking.logBatch(actorOf(ctx), ctx.project, runIdOf(ctx.body), {
        params: [{ key: ctx.body.key, value: ctx.body.value ?? "" }],
      });
      return {};
    },
  }),
  mlflowRoute("POST", "/runs/set-tag", {
    summary: "Set a tag on a run.",
    body: z.object({ ...runRef, key: z.string(), value: z.string().nullish() }),
    handler: async (ctx) => {
      await ctx.services.tracking.logBatch(actorOf(ctx), ctx.project, runIdOf(ctx.body), {
        tags: [{ key: ctx.body.key, value: ctx.body.value ?? "" }],
      });
      return {};
    },
  }),
  mlflowRoute("POST", "/runs/delete-tag", {
    summary: "Delete a tag of a run.",
    body: z.object({ run_id: z.string(), key: z.string() }),
    handler: async (ctx) => {
      await ctx.services.tracking.deleteTag(actorOf(ctx), ctx.project, ctx.body.run_id, ctx.body.key);
      return {};
    },
  }),
  mlflowRoute("POST", "/runs/log-batch", {
    summary: "Log up to 1000 metrics, 100 params and 100 tags in one transaction.",
    bodyLimit: BATCH_BODY_LIMIT,
    body: z.object({
      run_id: z.string().optional(),
      // Checked by readMetric in the handler (zod was the slowest step of a 1000-metric batch).
      metrics: z.array(z.unknown()).optional(),
      params: z.array(keyValue).optional(),
      tags: z.array(keyValue).optional(),
    }),
    handler: async (ctx) => {
      const { body } = ctx;
      const now = nowMs();
      await ctx.services.tracking.logBatch(actorOf(ctx), ctx.project, runIdOf(body), {
        metrics: (body.metrics ?? []).map((m, i) => readMetric(m, `metrics.${i}`, now)),
        params: (body.params ?? []).map((p) => ({ key: p.key, value: p.value ?? "" })),
        tags: (body.tags ?? []).map((t) => ({ key: t.key, value: t.value ?? "" })),
      });
      return {};
    },
  }),
  mlflowRoute("POST", "/runs/log-model", {
    summary: "Record a logged model's MLmodel description (kept as the mlflow.log-model.history tag).",
    body: z.object({ run_id: z.string(), model_json: z.string().optional() }),
    handler: async (ctx) => {
      const { services, project, body } = ctx;
      const run = await services.tracking.getRun(project, body.run_id);
      const history = parseHistory(run.tags["mlflow.log-model.history"]);
      try {
        history.push(JSON.parse(body.model_json ?? "{}"));
      } catch {
        throw new InvalidInputError("model_json is not valid JSON");
      }
      await services.tracking.logBatch(actorOf(ctx), project, body.run_id, {
        tags: [{ key: "mlflow.log-model.history", value: JSON.stringify(history) }],
      });
      return {};
    },
  }),
  mlflowRoute("POST", "/runs/log-inputs", {
    summary: "Record the datasets a run used.",
    body: z.object({
      run_id: z.string(),
      datasets: z
        .array(
          z.object({
            tags: z.array(keyValue).optional(),
            dataset: z.object({
              name: z.string(),
              digest: z.string(),
              source_type: z.string().optional(),
              source: z.string().optional(),
              schema: z.string().optional(),
              profile: z.string().optional(),
            }),
          }),
        )
        .optional(),
    }),
    handler: async (ctx) => {
      const inputs = (ctx.body.datasets ?? []).map((d) => ({
        tags: (d.tags ?? []).map((t) => ({ key: t.key, value: t.value ?? "" })),
        dataset: {
          name: d.dataset.name,
          digest: d.dataset.digest,
          sourceType: d.dataset.source_type ?? "",
          source: d.dataset.source ?? "",
          schema: d.dataset.schema,
          profile: d.dataset.profile,
        },
      }));
      await ctx.services.tracking.logInputs(actorOf(ctx), ctx.project, ctx.body.run_id, inputs);
      return {};
    },
  }),
  mlflowRoute("POST", "/runs/search", {
    summary: "Search runs with MLflow's filter language, order_by and page tokens.",
    role: "viewer",
    changesState: false,
    body: z.object({
      experiment_ids: z.array(z.string()).optional(),
      filter: z.string().optional(),
      run_view_type: viewType,
      max_results: int64.optional(),
      order_by: z.array(z.string()).optional(),
      page_token: z.string().optional(),
    }),
    handler: async ({ body, project, services }) => {
      const page = await services.tracking.searchRuns(project, {
        experimentIds: body.experiment_ids,
        filter: body.filter,
        orderBy: body.order_by,
        viewType: body.run_view_type,
        maxResults: body.max_results,
        pageToken: body.page_token,
      });
      return { runs: page.items.map(runOut), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
    },
  }),
  mlflowRoute("GET", "/metrics/get-history", {
    summary: "All points of one metric of a run, by step.",
    query: z.object({
      ...runRef,
      metric_key: z.string().optional(),
      page_token: z.string().optional(),
      max_results: queryInt.optional(),
    }),
    handler: async ({ query, project, services }) => {
      const page = await services.tracking.metricHistory(project, runIdOf(query), query.metric_key ?? "", {
        pageToken: query.page_token,
        maxResults: query.max_results,
      });
      return {
        metrics: page.items.map(metricOut),
        ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
      };
    },
  }),
  mlflowRoute("GET", "/artifacts/list", {
    summary: "List a run's artifacts under a path.",
    query: z.object({ ...runRef, path: z.string().optional(), page_token: z.string().optional() }),
    handler: async ({ query, project, services }) => {
      const info = await services.tracking.getRunInfoIn(project, runIdOf(query));
      const prefix = /^mlflow-artifacts:\/(.*)$/.exec(info.artifactUri)?.[1];
      if (prefix === undefined) return { root_uri: info.artifactUri, files: [] };
      const sub = (query.path ?? "").replace(/^\/+|\/+$/g, "");
      const files = await services.trackingArtifacts.list(project, sub ? `${prefix}/${sub}` : prefix);
      return {
        root_uri: info.artifactUri,
        files: files.map((f) => ({
          path: sub ? `${sub}/${f.path}` : f.path,
          is_dir: f.isDir,
          ...(f.size ? { file_size: f.size } : {}), // protobuf leaves out 0, as MLflow answers
        })),
      };
    },
  }),
];
