/**
 * MLflow's wire format (mlflow/protos/service.proto as JSON): request field parsers lenient the way
 * protobuf's JSON mapping is (int64 as number or string, doubles as "NaN"/"Infinity"), and mappers
 * from the domain's models to MLflow's messages.
 */
import { z } from "zod";
import { InvalidInputError } from "../../core/errors.js";
import type { Experiment, MetricPoint, Run, RunInfo, ViewType } from "../../core/tracking/model.js";

/** int64 fields: protobuf's JSON mapping allows a number or a decimal string. */
export const int64 = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number),
]);
/** double fields: a number, or "NaN" / "Infinity" / "-Infinity" as protobuf writes them. */
export const double = z.union([
  z.number(),
  z
    .enum(["NaN", "Infinity", "-Infinity"])
    .transform((s) =>
      s === "NaN" ? Number.NaN : s === "Infinity" ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY,
    ),
  z
    .string()
    .regex(/^-?\d+(\.\d*)?([eE][+-]?\d+)?$/)
    .transform(Number),
]);
/** Query-string integers arrive as strings. */
export const queryInt = z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]);
export const keyValue = z.object({ key: z.string(), value: z.string().nullish() });
export const str = z.string();

const VIEW_TYPES: Record<string, ViewType> = {
  ACTIVE_ONLY: "ACTIVE_ONLY",
  DELETED_ONLY: "DELETED_ONLY",
  ALL: "ALL",
  "1": "ACTIVE_ONLY",
  "2": "DELETED_ONLY",
  "3": "ALL",
};
export const viewType = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    const t = VIEW_TYPES[String(v).toUpperCase()];
    if (!t) ctx.addIssue({ code: "custom", message: `invalid view type '${v}' (ACTIVE_ONLY, DELETED_ONLY or ALL)` });
    return t ?? "ACTIVE_ONLY";
  })
  .optional();
/** A repeated field read from a query string: one value or several. */
export const repeated = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

/** Protobuf writes non-finite doubles as strings; JSON.stringify would write null. */
export function doubleOut(v: number): number | string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "Infinity";
  if (v === Number.NEGATIVE_INFINITY) return "-Infinity";
  return v;
}

export function tagsOut(tags: Record<string, string>): Array<{ key: string; value: string }> {
  return Object.entries(tags)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => ({ key, value }));
}

export function experimentOut(e: Experiment) {
  return {
    experiment_id: e.experimentId,
    name: e.name,
    artifact_location: e.artifactLocation,
    lifecycle_stage: e.lifecycleStage,
    last_update_time: e.lastUpdateTime,
    creation_time: e.creationTime,
    tags: tagsOut(e.tags),
  };
}

export function runInfoOut(i: RunInfo) {
  return {
    run_id: i.runId,
    run_uuid: i.runId,
    run_name: i.runName,
    experiment_id: i.experimentId,
    user_id: i.userId,
    status: i.status,
    start_time: i.startTime,
    ...(i.endTime !== null ? { end_time: i.endTime } : {}),
    artifact_uri: i.artifactUri,
    lifecycle_stage: i.lifecycleStage,
  };
}

export function metricOut(m: MetricPoint) {
  return { key: m.key, value: doubleOut(m.value), timestamp: m.timestamp, step: m.step };
}

export function runOut(r: Run) {
  return {
    info: runInfoOut(r.info),
    data: {
      metrics: r.metrics.map(metricOut),
      params: tagsOut(r.params),
      tags: tagsOut(r.tags),
    },
    inputs: {
      dataset_inputs: r.inputs.map((i) => ({
        tags: i.tags,
        dataset: {
          name: i.dataset.name,
          digest: i.dataset.digest,
          source_type: i.dataset.sourceType,
          source: i.dataset.source,
          ...(i.dataset.schema !== undefined ? { schema: i.dataset.schema } : {}),
          ...(i.dataset.profile !== undefined ? { profile: i.dataset.profile } : {}),
        },
      })),
    },
  };
}

/**
 * One log-batch metric, read by hand: zod took ~5 ms for 1000 metrics, half the server's whole
 * budget for a batch. Same rules as `double` and `int64` above; `at` names the field in errors.
 */
export function readMetric(
  raw: unknown,
  at: string,
  now: number,
): { key: string; value: number; timestamp: number; step: number } {
  if (!raw || typeof raw !== "object") throw new InvalidInputError(`invalid request body: ${at}: expected an object`);
  const m = raw as Record<string, unknown>;
  if (typeof m.key !== "string") throw new InvalidInputError(`invalid request body: ${at}.key: expected a string`);
  return {
    key: m.key,
    value: readDouble(m.value, `${at}.value`),
    timestamp: m.timestamp === undefined || m.timestamp === null ? now : readInt64(m.timestamp, `${at}.timestamp`),
    step: m.step === undefined || m.step === null ? 0 : readInt64(m.step, `${at}.step`),
  };
}

function readDouble(v: unknown, at: string): number {
  if (typeof v === "number") return v;
  if (v === "NaN") return Number.NaN;
  if (v === "Infinity") return Number.POSITIVE_INFINITY;
  if (v === "-Infinity") return Number.NEGATIVE_INFINITY;
  if (typeof v === "string" && /^-?\d+(\.\d*)?([eE][+-]?\d+)?$/.test(v)) return Number(v);
  throw new InvalidInputError(`invalid request body: ${at}: expected a number, "NaN", "Infinity" or "-Infinity"`);
}

function readInt64(v: unknown, at: string): number {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string" && /^-?\d+$/.test(v)) return Number(v);
  throw new InvalidInputError(`invalid request body: ${at}: expected an integer`);
}
