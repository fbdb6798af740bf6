/**
 * MLflow's `metrics/get-history-bulk-interval` (GET, query `run_ids` repeated, `metric_key`,
 * `start_step`, `end_step`, `max_results`): the sampled history the MLflow UI's charts draw.
 * The sampling is MLflow's own, in core/tracking/metric-intervals.ts.
 */
import { z } from "zod";
import { metricHistoryBulkInterval } from "../../core/tracking/metric-intervals.js";
import type { AnyRoute } from "../route-kit.js";
import { mlflowRoute } from "./mlflow-tracking.js";
import { metricOut, queryInt, repeated } from "./mlflow-wire.js";

export const mlflowMetricRoutes: AnyRoute[] = [
  mlflowRoute("GET", "/metrics/get-history-bulk-interval", {
    summary: "One metric of up to 100 runs, sampled to at most max_results steps per run (MLflow's sampling).",
    query: z.object({
      run_ids: repeated.optional(),
      metric_key: z.string().optional(),
      start_step: queryInt.optional(),
      end_step: queryInt.optional(),
      max_results: queryInt.optional(),
    }),
    handler: async ({ query, project, services }) => {
      const points = await metricHistoryBulkInterval(services.tracking, project, {
        runIds: query.run_ids ?? [],
        metricKey: query.metric_key,
        startStep: query.start_step,
        endStep: query.end_step,
        maxResults: query.max_results,
      });
      return { metrics: points.map((p) => ({ ...metricOut(p), run_id: p.runId })) };
    },
  }),
];
