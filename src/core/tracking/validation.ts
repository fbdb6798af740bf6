/**
 * MLflow's limits (mlflow/utils/validation.py), so a client that works against MLflow works here and
 * a client that MLflow would refuse is refused the same way: INVALID_PARAMETER_VALUE, never a 500.
 */
import { posix } from "node:path";
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
  /** Longer run param values are cut to this (truncatedValue), as MLflow does. */
  paramValueLength: 6000,
  /**
   * Experiment tags longer than this are refused; run tags are cut to it (truncatedValue). MLflow
   * 2.12 has 5000 for both; 8000 is later MLflow's, and keeps what a 2.12 server would have cut.
   */
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

/** A required request field that is absent or empty, in MLflow's words (its handlers' _get_request_message). */
export function missingParameter(name: string): InvalidInputError {
  return new InvalidInputError(
    `Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`,
  );
}

/** How MLflow's messages name a key of each kind ("Invalid parameter name", "Param key … had length"). */
const KEY_WORDS: Record<string, { name: string; key: string }> = {
  metric: { name: "metric", key: "Metric name" },
  param: { name: "parameter", key: "Param key" },
  tag: { name: "tag", key: "Tag key" },
};

/** A key of a metric, param or tag, refused in MLflow 2.12's words (mlflow/utils/validation.py). */
export function validateKey(kind: string, key: unknown): string {
  const words = KEY_WORDS[kind] ?? { name: kind, key: `${kind} key` };
  if (typeof key !== "string" || key === "") throw missingParameter("key");
  if (!KEY_PATTERN.test(key)) {
    throw new InvalidInputError(
      `Invalid ${words.name} name: '${key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).`,
    );
  }
  if (key.split("/").some((p) => p === "." || p === ".."))
    throw new InvalidInputError(
      `Invalid ${words.name} name: '${key}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${normalizedPath(key)}'`,
    );
  if (key.length > LIMITS.keyLength)
    throw new InvalidInputError(
      `${words.key} '${key.slice(0, 250)}' had length ${key.length}, which exceeded length limit of ${LIMITS.keyLength}`,
    );
  return key;
}

/** Python's posixpath.normpath, which MLflow's message shows: `a/../b` → `b`, `..` stays. */
function normalizedPath(key: string): string {
  const normal = posix.normalize(key);
  return normal.length > 1 ? normal.replace(/\/+$/, "") : normal;
}

export function validateValue(kind: string, key: string, value: unknown, max: number): string {
  if (value === undefined || value === null) return "";
  const s = String(value);
  if (s.includes("\0")) throw new InvalidInputError(`${kind} '${key}' has a NUL character in its value`);
  if (s.length > max)
    throw new InvalidInputError(`${kind} '${key}' has a value of ${s.length} characters; the limit is ${max}`);
  return s;
}

/**
 * A run's param or tag value, cut to its first `max` characters when longer, as MLflow 2.12's server
 * does by default (MLFLOW_TRUNCATE_LONG_VALUES: it logs a warning and keeps the start): a training
 * script that logs a long config as a param runs against MLflow, so it must run here too. Characters
 * are code points, as Python counts them.
 */
export function truncatedValue(kind: string, key: string, value: unknown, max: number): string {
  const s = validateValue(kind, key, value, Number.POSITIVE_INFINITY);
  if (s.length <= max) return s;
  const chars = Array.from(s);
  return chars.length <= max ? s : chars.slice(0, max).join("");
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
  batchLimit("metrics", LIMITS.metricsPerBatch, metrics);
  batchLimit("params", LIMITS.paramsPerBatch, params);
  batchLimit("tags", LIMITS.tagsPerBatch, tags);
  batchLimit("metrics, params, and tags", LIMITS.entitiesPerBatch, metrics + params + tags);
}

function batchLimit(what: string, limit: number, got: number): void {
  if (got > limit)
    throw new InvalidInputError(
      `A batch logging request can contain at most ${limit} ${what}. Got ${got} ${what}. Please split up ${what} across multiple requests and try again.`,
    );
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
