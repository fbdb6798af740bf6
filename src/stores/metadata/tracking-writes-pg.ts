/**
 * Postgres: run creation and log-batch, each with its audit event, as ONE statement (issue 22).
 *
 * On SQLite a statement costs no round trip; on Postgres each one is a round trip through the
 * driver, the network stack and a backend wake-up. Through the general path a run create was 7 of
 * them (begin, experiment, run, tags, audit event, commit, and the project check) and a log-batch 7
 * too: with the MLflow client's two requests per run, 15 round trips for one run. Here each request is
 * one statement: data-modifying CTEs, all conditional on the check that the general path made first
 * (experiment active; run active in the project; no param logged with another value). The statement
 * is its own transaction, so it writes all or nothing, and the audit event is chained at its commit by
 * the same deferred trigger as always (migration 0004).
 *
 * When the check fails nothing is written and the caller takes the general path, which says exactly
 * what is wrong (or makes the Default experiment); so do races these statements cannot settle alone
 * (a param inserted by a concurrent batch is a unique violation here, never a silent drop).
 */
import { CompiledQuery } from "kysely";
import { hashBody } from "../../core/governance/audit.js";
import type { AuditEvent } from "../../core/governance/model.js";
import type { LogBatchOutcome } from "../../core/tracking/ports.js";
import { isLaterPoint, type MetricPoint, type RunInfo } from "../../core/tracking/model.js";
import type { Db } from "./sql-metadata-store.js";
import { fromPoint } from "./tracking-rows.js";

/** The same "later" as isLaterPoint: step, then timestamp, then value (NaN above numbers). */
export const LATER_THAN_STORED = `excluded.step > tracking_latest_metrics.step OR (excluded.step = tracking_latest_metrics.step AND (excluded.timestamp > tracking_latest_metrics.timestamp OR (excluded.timestamp = tracking_latest_metrics.timestamp AND ((excluded.is_nan = 1 AND tracking_latest_metrics.is_nan = 0) OR (excluded.is_nan = 0 AND tracking_latest_metrics.is_nan = 0 AND excluded.value > tracking_latest_metrics.value)))))`;

/** The audit event's columns, unchained (`hash = ''`): the trigger seals it at commit. `$n` onwards. */
function auditInsert(from: string, first: number): string {
  const p = (i: number) => `$${first + i}`;
  return `insert into audit_events (id, at, actor, project, action, target, summary, prev_hash, hash, chain_body)
  select ${p(0)}::text, ${p(1)}::bigint, ${p(2)}::text, ${p(3)}::text, ${p(4)}::text, ${p(5)}::text, ${p(6)}::text, '', '', ${p(7)}::text from ${from}
  returning seq`;
}

function auditValues(e: Omit<AuditEvent, "seq">): unknown[] {
  return [e.id, e.at, e.actor, e.project, e.action, e.target, JSON.stringify(e.summary), hashBody(e)];
}

const CREATE_RUN_SQL = `with experiment as (
  select 1 from tracking_experiments where project = $2 and experiment_id = $3 and lifecycle_stage = 'active'
), run as (
  insert into tracking_runs (run_id, project, experiment_id, run_name, user_id, status, start_time, end_time,
    lifecycle_stage, artifact_uri, parent_run_id, deleted_time)
  select $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::bigint, $8::bigint, $9::text, $10::text,
    $11::text, $12::bigint from experiment
  returning run_id
), tags as (
  insert into tracking_tags (run_id, key, value)
  select run.run_id, t.key, t.value from run, unnest($13::text[], $14::text[]) as t(key, value)
), audit as (
  ${auditInsert("run", 15)}
)
select (select seq from audit) as audit_seq`;

/**
 * Inserts the run, its tags and its audit event when the experiment is active; the audit event's
 * placeholder seq, or null when nothing was written.
 */
export async function createRunPostgres(
  db: Db,
  info: RunInfo,
  tags: Array<{ key: string; value: string }>,
  event: Omit<AuditEvent, "seq">,
): Promise<number | null> {
  const result = await db.executeQuery<{ audit_seq: number | null }>(
    CompiledQuery.raw(CREATE_RUN_SQL, [
      info.runId,
      info.project,
      info.experimentId,
      info.runName,
      info.userId,
      info.status,
      info.startTime,
      info.endTime,
      info.lifecycleStage,
      info.artifactUri,
      info.parentRunId,
      info.deletedTime,
      tags.map((t) => t.key),
      tags.map((t) => t.value),
      ...auditValues(event),
    ]),
  );
  return result.rows[0]?.audit_seq ?? null;
}

// $1 run, $2 project, $3/$4 params, $5-$9 points, $10-$14 latest points, $15/$16 tags, $17.. audit.
const LOG_BATCH_SQL = `with run as (
  select run_id from tracking_runs where run_id = $1 and project = $2 and lifecycle_stage = 'active'
), given as (
  select * from unnest($3::text[], $4::text[]) as g(key, value)
), clash as (
  select p.key, p.value from tracking_params p join given g on g.key = p.key where p.run_id = $1 and p.value <> g.value
), ok as (
  select run_id from run where not exists (select 1 from clash)
), params as (
  insert into tracking_params (run_id, key, value)
  select ok.run_id, g.key, g.value from ok, given g
  where not exists (select 1 from tracking_params p where p.run_id = $1 and p.key = g.key)
), points as (
  insert into tracking_metrics (run_id, key, value, is_nan, step, timestamp)
  select ok.run_id, u.* from ok, unnest($5::text[], $6::float8[], $7::integer[], $8::bigint[], $9::bigint[]) as u
), latest as (
  insert into tracking_latest_metrics (run_id, key, value, is_nan, step, timestamp)
  select ok.run_id, u.* from ok, unnest($10::text[], $11::float8[], $12::integer[], $13::bigint[], $14::bigint[]) as u
  on conflict (run_id, key) do update set value = excluded.value, is_nan = excluded.is_nan, step = excluded.step,
    timestamp = excluded.timestamp
  where ${LATER_THAN_STORED}
), tags as (
  insert into tracking_tags (run_id, key, value)
  select ok.run_id, t.key, t.value from ok, unnest($15::text[], $16::text[]) as t(key, value)
  on conflict (run_id, key) do update set value = excluded.value
), audit as (
  ${auditInsert("ok", 17)}
)
select (select count(*) from run)::int as runs,
  (select json_agg(json_build_array(key, value)) from clash) as clashes,
  (select seq from audit) as audit_seq`;

/** Metric points as the five column arrays the array-parameter statements take (key, value, is_nan, step, timestamp). */
export function metricColumns(runId: string, list: MetricPoint[]): unknown[] {
  const keys: string[] = [];
  const values: Array<number | null> = [];
  const nans: number[] = [];
  const steps: number[] = [];
  const times: number[] = [];
  for (const p of list) {
    const row = fromPoint(runId, p);
    keys.push(row.key);
    values.push(row.value);
    nans.push(row.is_nan);
    steps.push(row.step);
    times.push(row.timestamp);
  }
  return [keys, values, nans, steps, times];
}

/** The latest point per key of a batch (what the latest-metric upsert compares with the stored one). */
export function latestPerKey(points: MetricPoint[]): MetricPoint[] {
  const latest = new Map<string, MetricPoint>();
  for (const p of points) {
    const cur = latest.get(p.key);
    if (!cur || isLaterPoint(p, cur)) latest.set(p.key, p);
  }
  return [...latest.values()];
}

/**
 * One log-batch with its audit event. `params` holds distinct keys and `tags` distinct keys (the
 * caller dedups both), and no tag that moves a run column (mlflow.runName, mlflow.parentRunId).
 */
export async function logBatchPostgres(
  db: Db,
  input: {
    project: string;
    runId: string;
    params: Array<{ key: string; value: string }>;
    metrics: MetricPoint[];
    tags: Array<{ key: string; value: string }>;
  },
  event: Omit<AuditEvent, "seq">,
): Promise<LogBatchOutcome> {
  const { runId } = input;
  let row: { runs: number; clashes: Array<[string, string]> | null; audit_seq: number | null } | undefined;
  try {
    const result = await db.executeQuery<NonNullable<typeof row>>(
      CompiledQuery.raw(LOG_BATCH_SQL, [
        runId,
        input.project,
        input.params.map((p) => p.key),
        input.params.map((p) => p.value),
        ...metricColumns(runId, input.metrics),
        ...metricColumns(runId, latestPerKey(input.metrics)),
        input.tags.map((t) => t.key),
        input.tags.map((t) => t.value),
        ...auditValues(event),
      ]),
    );
    row = result.rows[0];
  } catch (error) {
    // A concurrent batch inserted one of these params first: let the general path compare values.
    if ((error as { code?: unknown }).code === "23505") return { kind: "not-written" };
    throw error;
  }
  if (!row || row.runs === 0) return { kind: "not-written" };
  if (row.clashes?.length) {
    const [key, stored] = row.clashes[0]!;
    return { kind: "param-clash", key, stored };
  }
  return { kind: "logged", auditSeq: row.audit_seq! };
}
