/**
 * MLflow's limits (mlflow/utils/validation.py), so a client that works against MLflow works here and
 * a client that MLflow would refuse is refused the same way: INVALID_PARAMETER_VALUE, never a 500.
 */
import { InvalidInputError } from "../errors.js";
import type { MetricPoint } from "./model.js";

export const LIMITS = {
  metricsPerBatch: 1000,
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  /** Sum of metrics, params and tags in one log-batch. */
  entitiesPerBatch: 1000,
  batchBodyBytes: 1_000_000,
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
  experimentNameLength: 500,
  runNameLength: 250,
  searchRunsMaxResults: 50_000,
  searchRunsDefault: 1000,
  searchExperimentsMaxResults: 50_000,
  metricHistoryMaxResults: 25_000,
} as const;

// Same character class as MLflow's _VALID_PARAM_AND_METRIC_NAMES (plus Unicode word characters),
// so a key that would be an unsafe path component on the file store is refused everywhere.
const KEY_PATTERN = /^[\p{L}\p{N}_\-. /:]+$/u;

export function validateKey(kind: string, key: unknown): string {
  if (typeof key !== "string" || key === "")
    throw new InvalidInputError(`Missing value for required parameter 'key' of a ${kind}`);
  if (key.length > LIMITS.keyLength)
    throw new InvalidInputError(`${kind} key '${key.slice(0, 40)}…' is longer than ${LIMITS.keyLength} characters`);
  if (!KEY_PATTERN.test(key)) {
    throw new InvalidInputError(
      `Invalid ${kind} name: '${key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).`,
    );
  }
  if (key.split("/").some((p) => p === "." || p === ".."))
    throw new InvalidInputError(`Invalid ${kind} name: '${key}'. Names cannot be '.' or '..' path segments.`);
  return key;
}

export function validateValue(kind: string, key: string, value: unknown, max: number): string {
  if (value === undefined || value === null) return "";
  const s = String(value);
  if (s.includes("\0")) throw new InvalidInputError(`${kind} '${key}' has a NUL character in its value`);
  if (s.length > max)
    throw new InvalidInputError(`${kind} '${key}' has a value of ${s.length} characters; the limit is ${max}`);
  return s;
}

export function validateMetric(m: MetricPoint): MetricPoint {
  validateKey("metric", m.key);
  return validatePoint(m);
}

/** A metric point's value, timestamp and step (its key already checked). */
export function validatePoint(m: MetricPoint): MetricPoint {
  if (typeof m.value !== "number") throw new InvalidInputError(`metric '${m.key}' needs a numeric value`);
  if (!Number.isSafeInteger(m.timestamp))
    throw new InvalidInputError(`metric '${m.key}' needs an integer timestamp (ms)`);
  if (!Number.isSafeInteger(m.step)) throw new InvalidInputError(`metric '${m.key}' needs an integer step`);
  return m;
}

export function validateBatchSizes(metrics: number, params: number, tags: number): void {
  if (metrics > LIMITS.metricsPerBatch)
    throw new InvalidInputError(
      `A batch logging request can contain at most ${LIMITS.metricsPerBatch} metrics. Got ${metrics} metrics.`,
    );
  if (params > LIMITS.paramsPerBatch)
    throw new InvalidInputError(
      `A batch logging request can contain at most ${LIMITS.paramsPerBatch} params. Got ${params} params.`,
    );
  if (tags > LIMITS.tagsPerBatch)
    throw new InvalidInputError(
      `A batch logging request can contain at most ${LIMITS.tagsPerBatch} tags. Got ${tags} tags.`,
    );
  if (metrics + params + tags > LIMITS.entitiesPerBatch) {
    throw new InvalidInputError(
      `A batch logging request can contain at most ${LIMITS.entitiesPerBatch} metrics, params and tags in total.`,
    );
  }
}

export function validateMaxResults(value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidInputError(
      `Invalid value ${value} for parameter 'max_results' supplied. It must be a positive integer`,
    );
  if (value > max)
    throw new InvalidInputError(
      `Invalid value ${value} for parameter 'max_results' supplied. It must be at most ${max}`,
    );
  return value;
}
