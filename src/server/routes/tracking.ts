/**
 * The native tracking API: `/api/v1/projects/:project/experiments…` and `/runs…` (tracking runs;
 * pipeline runs live at `/pipeline-runs`). Same service as the MLflow routes, Tandem's wire style:
 * snake_case, params/tags/metrics as objects, errors as `{"error": {code, message}}`.
 */
import { z } from "zod";
import type { Experiment, Run } from "../../core/tracking/model.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";
import { double, doubleOut, int64, queryInt, repeated, viewType } from "./mlflow-wire.js";

const P = "/api/v1/projects/:project";
const project = z.object({ project: z.string() });
const runParams = z.object({ project: z.string(), run: z.string() });

export function experimentWire(e: Experiment) {
  return {
    experiment_id: e.experimentId,
    name: e.name,
    artifact_location: e.artifactLocation,
    lifecycle_stage: e.lifecycleStage,
    creation_time: e.creationTime,
    last_update_time: e.lastUpdateTime,
    tags: e.tags,
  };
}

export function runWire(r: Run) {
  const i = r.info;
  return {
    run_id: i.runId,
    experiment_id: i.experimentId,
    run_name: i.runName,
    user_id: i.userId,
    status: i.status,
    start_time: i.startTime,
    end_time: i.endTime,
    lifecycle_stage: i.lifecycleStage,
    artifact_uri: i.artifactUri,
    parent_run_id: i.parentRunId,
    params: r.params,
    tags: r.tags,
    metrics: Object.fromEntries(r.metrics.map((m) => [m.key, doubleOut(m.value)])),
  };
}

const route = defineRoute;
const tags = ["tracking"];

export const nativeTrackingRoutes: AnyRoute[] = [
  route({
    method: "GET",
    url: `${P}/experiments`,
    summary: "List experiments.",
    tags,
    auth: "bearer",
    role: "viewer",
    params: project,
    query: z.object({ view_type: viewType, filter: z.string().optional() }),
    handler: async ({ project, query, services }) => {
      const page = await services.tracking.searchExperiments(project, {
        viewType: query.view_type,
        filter: query.filter,
        maxResults: 50_000,
      });
      return { experiments: page.items.map(experimentWire) };
    },
  }),
  route({
    method: "POST",
    url: `${P}/experiments`,
    summary: "Create an experiment.",
    tags,
    auth: "bearer",
    role: "member",
    status: 201,
    params: project,
    body: z.object({ name: z.string(), tags: z.record(z.string(), z.string()).optional() }),
    handler: async ({ project, body, services, principal }) =>
      experimentWire(
        await services.tracking.createExperiment(principal.userName, project, { name: body.name, tags: body.tags }),
      ),
  }),
  route({
    method: "GET",
    url: `${P}/experiments/:experiment`,
    summary: "Get an experiment by id or name.",
    tags,
    auth: "bearer",
    role: "viewer",
    params: z.object({ project: z.string(), experiment: z.string() }),
    handler: async ({ project, params, services }) =>
      experimentWire(
        /^\d+$/.test(params.experiment)
          ? await services.tracking.getExperiment(project, params.experiment)
          : await services.tracking.getExperimentByName(project, params.experiment),
      ),
  }),
  route({
    method: "POST",
    url: `${P}/runs`,
    summary: "Create a tracking run (in `experiment_id`, else `experiment_name` made on first use, else Default).",
    tags,
    auth: "bearer",
    role: "member",
    status: 201,
    params: project,
    body: z.object({
      experiment_id: z.string().optional(),
      experiment_name: z.string().optional(),
      run_name: z.string().optional(),
      parent_run_id: z.string().optional(),
      tags: z.record(z.string(), z.string()).optional(),
    }),
    handler: async ({ project, body, services, principal }) => {
      const experimentId =
        body.experiment_id ??
        (body.experiment_name
          ? (await services.tracking.getOrCreateExperiment(principal.userName, project, body.experiment_name))
              .experimentId
          : undefined);
      return runWire(
        await services.tracking.createRun(principal.userName, project, {
          experimentId,
          runName: body.run_name,
          parentRunId: body.parent_run_id,
          tags: body.tags,
        }),
      );
    },
  }),
  route({
    method: "GET",
    url: `${P}/runs`,
    summary: "Search tracking runs with MLflow's filter language (all experiments unless `experiment_id` is given).",
    tags,
    auth: "bearer",
    role: "viewer",
    params: project,
    query: z.object({
      experiment_id: repeated.optional(),
      filter: z.string().optional(),
      order_by: repeated.optional(),
      view_type: viewType,
      max_results: queryInt.optional(),
      page_token: z.string().optional(),
    }),
    handler: async ({ project, query, services }) => {
      const experimentIds =
        query.experiment_id ??
        (await services.tracking.searchExperiments(project, { viewType: "ALL", maxResults: 50_000 })).items.map(
          (e) => e.experimentId,
        );
      const page = await services.tracking.searchRuns(project, {
        experimentIds,
        filter: query.filter,
        orderBy: query.order_by,
        viewType: query.view_type,
        maxResults: query.max_results ?? 100,
        pageToken: query.page_token,
      });
      return { runs: page.items.map(runWire), next_page_token: page.nextPageToken };
    },
  }),
  route({
    method: "GET",
    url: `${P}/runs/:run`,
    summary: "Get a tracking run.",
    tags,
    auth: "bearer",
    role: "viewer",
    params: runParams,
    handler: async ({ project, params, services }) => runWire(await services.tracking.getRun(project, params.run)),
  }),
  route({
    method: "PATCH",
    url: `${P}/runs/:run`,
    summary: "Set a run's status, end time or name.",
    tags,
    auth: "bearer",
    role: "member",
    params: runParams,
    body: z.object({ status: z.string().optional(), end_time: int64.optional(), run_name: z.string().optional() }),
    handler: async ({ project, params, body, services, principal }) => {
      await services.tracking.updateRun(principal.userName, project, params.run, {
        status: body.status,
        endTime: body.end_time,
        runName: body.run_name,
      });
      return runWire(await services.tracking.getRun(project, params.run));
    },
  }),
  route({
    method: "POST",
    url: `${P}/runs/:run/log`,
    summary: "Log metrics, params and tags in one transaction (MLflow's log-batch limits).",
    tags,
    auth: "bearer",
    role: "member",
    params: runParams,
    body: z.object({
      metrics: z
        .array(z.object({ key: z.string(), value: double, timestamp: int64.optional(), step: int64.optional() }))
        .optional(),
      params: z.record(z.string(), z.string()).optional(),
      tags: z.record(z.string(), z.string()).optional(),
    }),
    handler: async ({ project, params, body, services, principal }) => {
      const now = Date.now();
      await services.tracking.logBatch(principal.userName, project, params.run, {
        metrics: (body.metrics ?? []).map((m) => ({
          key: m.key,
          value: m.value,
          timestamp: m.timestamp ?? now,
          step: m.step ?? 0,
        })),
        params: Object.entries(body.params ?? {}).map(([key, value]) => ({ key, value })),
        tags: Object.entries(body.tags ?? {}).map(([key, value]) => ({ key, value })),
      });
      return {};
    },
  }),
  route({
    method: "GET",
    url: `${P}/runs/:run/metrics/:key`,
    summary: "Every point of one metric, by step.",
    tags,
    auth: "bearer",
    role: "viewer",
    params: z.object({ project: z.string(), run: z.string(), key: z.string() }),
    query: z.object({ max_results: queryInt.optional(), page_token: z.string().optional() }),
    handler: async ({ project, params, query, services }) => {
      const page = await services.tracking.metricHistory(project, params.run, params.key, {
        maxResults: query.max_results,
        pageToken: query.page_token,
      });
      return {
        points: page.items.map((p) => ({ value: doubleOut(p.value), step: p.step, timestamp: p.timestamp })),
        next_page_token: page.nextPageToken,
      };
    },
  }),
  route({
    method: "DELETE",
    url: `${P}/runs/:run`,
    summary: "Soft-delete a run (restorable until garbage collection).",
    tags,
    auth: "bearer",
    role: "member",
    params: runParams,
    handler: async ({ project, params, services, principal }) => {
      await services.tracking.setRunDeleted(principal.userName, project, params.run, true);
      return {};
    },
  }),
  route({
    method: "POST",
    url: `${P}/runs/:run/restore`,
    summary: "Restore a deleted run.",
    tags,
    auth: "bearer",
    role: "member",
    params: runParams,
    handler: async ({ project, params, services, principal }) => {
      await services.tracking.setRunDeleted(principal.userName, project, params.run, false);
      return {};
    },
  }),
  route({
    method: "POST",
    url: `${P}/runs/gc`,
    summary: "Purge runs deleted at least `older_than_ms` ago and free their artifacts' bytes.",
    tags,
    auth: "bearer",
    role: "admin",
    params: project,
    body: z.object({ older_than_ms: z.number().int().min(0).optional() }),
    handler: async ({ project, body, services, principal }) => {
      const r = await services.trackingArtifacts.collectGarbage(principal.userName, {
        olderThanMs: body.older_than_ms,
        project,
      });
      return { purged_runs: r.purgedRuns, deleted_blobs: r.deletedBlobs, freed_bytes: r.freedBytes };
    },
  }),
];
