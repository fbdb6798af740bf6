/**
 * MLflow's `metrics/get-history-bulk-interval`: one metric of up to 100 runs, sampled to at most
 * `max_results` steps, which the MLflow UI's charts call. It follows MLflow 2.12's handler
 * (mlflow/server/handlers.py, get_metric_history_bulk_interval_handler) step for step, so a chart
 * drawn from Tandem shows the same points as one drawn from MLflow: the steps are sampled across all
 * runs together, every run's first and last step are always kept, and each run answers the points
 * logged at the chosen steps.
 */
import { InvalidInputError } from "../errors.js";
import type { MetricPoint } from "./model.js";
import type { Page } from "./experiments-service.js";
import { missingParameter } from "./validation.js";

/** MLflow's limits, with its wording in the errors below. */
export const BULK_INTERVAL_LIMITS = { runs: 100, resultsPerRun: 2500, pointsPerRun: 25_000 } as const;

export interface BulkIntervalQuery {
  runIds: string[];
  metricKey?: string;
  startStep?: number;
  endStep?: number;
  /** Steps to sample per run (default 2500, MLflow's MAX_RESULTS_PER_RUN). */
  maxResults?: number;
}

export type MetricPointOfRun = MetricPoint & { runId: string };

/** What this needs of the tracking service: one run's history of one metric, paged. */
export interface MetricHistorySource {
  metricHistory(
    project: string,
    runId: string,
    key: string,
    q?: { pageToken?: string; maxResults?: number },
  ): Promise<Page<MetricPoint>>;
}

/**
 * Evenly spaced steps of the sorted `allSteps` within [start, end], at most `maxResults` of them plus
 * the last one (MLflow's _get_sampled_steps_from_steps, including its quirks).
 */
export function sampledSteps(start: number, end: number, maxResults: number, allSteps: number[]): Set<number> {
  const startIdx = bisectLeft(allSteps, start);
  const endIdx = bisectRight(allSteps, end);
  if (endIdx - startIdx <= maxResults) return new Set(allSteps.slice(startIdx, endIdx));
  const count = endIdx - startIdx;
  const interval = count / maxResults;
  const out = new Set<number>();
  for (let i = 0; i < maxResults; i++) {
    const idx = startIdx + Math.trunc(i * interval);
    // MLflow compares the absolute index with the count; kept so the same steps come out.
    if (idx < count) out.add(allSteps[idx]!);
  }
  out.add(allSteps[endIdx - 1]!);
  return out;
}

function bisectLeft(xs: number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function bisectRight(xs: number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < xs[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function validate(q: BulkIntervalQuery): { key: string; maxResults: number; range?: [number, number] } {
  if (q.runIds.length === 0) throw missingParameter("run_ids");
  if (q.runIds.length > BULK_INTERVAL_LIMITS.runs)
    throw new InvalidInputError(
      `GetMetricHistoryBulkInterval request must specify at most ${BULK_INTERVAL_LIMITS.runs} run_ids. Received ${q.runIds.length} run_ids.`,
    );
  if (!q.metricKey) throw missingParameter("metric_key");
  const maxResults = q.maxResults ?? BULK_INTERVAL_LIMITS.resultsPerRun;
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > BULK_INTERVAL_LIMITS.resultsPerRun)
    throw new InvalidInputError(`max_results must be between 1 and ${BULK_INTERVAL_LIMITS.resultsPerRun}.`);
  if (q.startStep !== undefined && q.endStep !== undefined) {
    if (q.startStep > q.endStep)
      throw new InvalidInputError(
        `end_step must be greater than start_step. Found start_step=${q.startStep} and end_step=${q.endStep}.`,
      );
    return { key: q.metricKey, maxResults, range: [q.startStep, q.endStep] };
  }
  if (q.startStep !== undefined || q.endStep !== undefined)
    throw new InvalidInputError("If either start step or end step are specified, both must be specified.");
  return { key: q.metricKey, maxResults };
}

async function wholeHistory(source: MetricHistorySource, project: string, runId: string, key: string) {
  const points: MetricPoint[] = [];
  let pageToken: string | undefined;
  do {
    const page = await source.metricHistory(project, runId, key, {
      pageToken,
      maxResults: BULK_INTERVAL_LIMITS.pointsPerRun,
    });
    points.push(...page.items);
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);
  return points;
}

/** The sampled points of every run, run by run in the order asked, each by step, time and value. */
export async function metricHistoryBulkInterval(
  source: MetricHistorySource,
  project: string,
  q: BulkIntervalQuery,
): Promise<MetricPointOfRun[]> {
  const { key, maxResults, range } = validate(q);
  const histories = new Map<string, MetricPoint[]>();
  for (const runId of new Set(q.runIds)) histories.set(runId, await wholeHistory(source, project, runId, key));
  const perRun = [...histories.values()].map((h) => h.map((p) => p.step));
  const allSteps = [...new Set(perRun.flat())].sort((a, b) => a - b);
  const [start, end] = range ?? [0, allSteps.at(-1) ?? 0];
  const keep = sampledSteps(start, end, maxResults, allSteps);
  // Every run's first and last step stay, so each line in a chart starts and ends where it does.
  for (const steps of perRun) {
    if (!steps.length) continue;
    const edges = [steps.reduce((a, b) => Math.min(a, b)), steps.reduce((a, b) => Math.max(a, b))];
    for (const edge of edges) if (edge >= start && edge <= end) keep.add(edge);
  }
  return q.runIds.flatMap((runId) =>
    histories
      .get(runId)!
      .filter((p) => keep.has(p.step))
      .sort((a, b) => a.step - b.step || a.timestamp - b.timestamp || a.value - b.value)
      .slice(0, BULK_INTERVAL_LIMITS.pointsPerRun)
      .map((p) => ({ ...p, runId })),
  );
}
