/**
 * The tracking store on SQLite and Postgres (migration 0300). Rows stay here; the domain sees the
 * models of core/tracking/model.ts. Writes are multi-row statements so a 1000-point log-batch is a
 * handful of queries in one transaction.
 */
import { CompiledQuery, sql } from "kysely";
import type { Tx } from "../../core/ports.js";
import {
  isLaterPoint,
  type DatasetInput,
  type Experiment,
  type LifecycleStage,
  type MetricPoint,
  type Run,
  type RunInfo,
  type RunStatus,
  type ViewType,
} from "../../core/tracking/model.js";
import type { AuditEvent } from "../../core/governance/model.js";
import type {
  LogBatchOutcome,
  OneStatementLogBatch,
  RunSearchQuery,
  TrackingStore,
} from "../../core/tracking/ports.js";
import { SearchStatistics } from "./postgres-statistics.js";
import { chunks, ID_CHUNK } from "./chunks.js";
import { SqlTrackingArtifactQueries } from "./tracking-artifact-queries.js";
import { definedColumns, StatementShapes, updateByIdQuery } from "./statement-shapes.js";
import { getExperimentPostgres, getRunsPostgres, searchRunsPostgres } from "./tracking-runs-read-pg.js";
import { searchRunsSql } from "./tracking-search-sql.js";
import { createRunPostgres, LATER_THAN_STORED, logBatchPostgres, metricColumns } from "./tracking-writes-pg.js";
import {
  fromPoint,
  fromRunInfo,
  toDatasetInput,
  toExperiment,
  toPoint,
  toRunInfo,
  type TrackingExperimentRow,
  type TrackingRunRow,
} from "./tracking-rows.js";

/** Rows per multi-row INSERT: 6 columns × 1000 stays far below SQLite's 32 766 bound parameters. */
const CHUNK = 1000;
const PG_LOG_METRICS_SQL = `with points as (
  insert into tracking_metrics (run_id, key, value, is_nan, step, timestamp)
  select $1::text, * from unnest($2::text[], $3::float8[], $4::integer[], $5::bigint[], $6::bigint[])
)
insert into tracking_latest_metrics (run_id, key, value, is_nan, step, timestamp)
select $1::text, * from unnest($7::text[], $8::float8[], $9::integer[], $10::bigint[], $11::bigint[])
on conflict (run_id, key) do update set value = excluded.value, is_nan = excluded.is_nan, step = excluded.step,
  timestamp = excluded.timestamp
where ${LATER_THAN_STORED}`;

/** A string map without a prototype: any key, `__proto__` and `toString` too, is an ordinary own key. */
function dict(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

function stageFilter(viewType: ViewType): LifecycleStage | null {
  return viewType === "ACTIVE_ONLY" ? "active" : viewType === "DELETED_ONLY" ? "deleted" : null;
}

/** Experiments, runs, params, tags and metrics here; the artifact index and GC queries in the base class. */
export class SqlTrackingStore extends SqlTrackingArtifactQueries implements TrackingStore {
  /** INSERT text per row count: built once, so the driver's statement cache hits on every batch. */
  private readonly metricInserts = new Map<number, string>();
  /** Postgres: keeps the planner's statistics of the searched tables current (see the file). */
  private readonly statistics = new SearchStatistics();
  /** The compiled SQL of the writes each pipeline step repeats (statement-shapes.ts). */
  private readonly shapes = new StatementShapes();

  private metricInsertSql(rows: number): string {
    let text = this.metricInserts.get(rows);
    if (!text) {
      const pg = this.store.dialect === "postgres";
      const tuples = Array.from(
        { length: rows },
        (_, r) => `(${Array.from({ length: 6 }, (_, c) => (pg ? `$${r * 6 + c + 1}` : "?")).join(", ")})`,
      );
      text = `insert into tracking_metrics (run_id, key, value, is_nan, step, timestamp) values ${tuples.join(", ")}`;
      if (this.metricInserts.size > 50) this.metricInserts.clear();
      this.metricInserts.set(rows, text);
    }
    return text;
  }

  // ---- experiments

  async nextExperimentId(project: string, tx: Tx): Promise<string> {
    const row = await this.db(tx)
      .selectFrom("tracking_experiments")
      .select((eb) => eb.fn.max("seq").as("max"))
      .where("project", "=", project)
      .executeTakeFirst();
    // Id 0 is reserved for "Default"; user experiments start at 1 even before Default exists.
    return String(Math.max(Number(row?.max ?? 0), 0) + 1);
  }

  async insertExperiment(e: Experiment, tx: Tx): Promise<void> {
    await this.db(tx).insertInto("tracking_experiments").values(this.experimentRow(e)).execute();
    await this.insertExperimentTags(e, tx);
  }

  async ensureExperiment(e: Experiment, tx?: Tx): Promise<void> {
    await this.db(tx)
      .insertInto("tracking_experiments")
      .values(this.experimentRow(e))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  private experimentRow(e: Experiment): TrackingExperimentRow {
    return {
      project: e.project,
      experiment_id: e.experimentId,
      seq: Number(e.experimentId),
      name: e.name,
      artifact_location: e.artifactLocation,
      lifecycle_stage: e.lifecycleStage,
      creation_time: e.creationTime,
      last_update_time: e.lastUpdateTime,
    };
  }

  private async insertExperimentTags(e: Experiment, tx: Tx): Promise<void> {
    const rows = Object.entries(e.tags).map(([key, value]) => ({
      project: e.project,
      experiment_id: e.experimentId,
      key,
      value,
    }));
    if (rows.length) await this.db(tx).insertInto("tracking_experiment_tags").values(rows).execute();
  }

  private async withTags(rows: TrackingExperimentRow[], tx?: Tx): Promise<Experiment[]> {
    if (rows.length === 0) return [];
    const tags = await this.db(tx)
      .selectFrom("tracking_experiment_tags")
      .selectAll()
      .where("project", "=", rows[0]!.project)
      .where(
        "experiment_id",
        "in",
        rows.map((r) => r.experiment_id),
      )
      .execute();
    const byId = new Map<string, Array<[string, string]>>();
    for (const t of tags) {
      const m = byId.get(t.experiment_id) ?? [];
      m.push([t.key, t.value]);
      byId.set(t.experiment_id, m);
    }
    // fromEntries, not writes into {}: a tag named `__proto__` is data (MLflow accepts it).
    return rows.map((r) => toExperiment(r, Object.fromEntries(byId.get(r.experiment_id) ?? [])));
  }

  async getExperiment(project: string, experimentId: string, tx?: Tx): Promise<Experiment | null> {
    if (this.store.dialect === "postgres") return getExperimentPostgres(this.db(tx), project, experimentId);
    const row = await this.db(tx)
      .selectFrom("tracking_experiments")
      .selectAll()
      .where("project", "=", project)
      .where("experiment_id", "=", experimentId)
      .executeTakeFirst();
    return row ? ((await this.withTags([row], tx))[0] ?? null) : null;
  }

  async getExperimentByName(project: string, name: string, tx?: Tx): Promise<Experiment | null> {
    const row = await this.db(tx)
      .selectFrom("tracking_experiments")
      .selectAll()
      .where("project", "=", project)
      .where("name", "=", name)
      .executeTakeFirst();
    return row ? ((await this.withTags([row], tx))[0] ?? null) : null;
  }

  async listExperiments(project: string, viewType: ViewType, tx?: Tx): Promise<Experiment[]> {
    let q = this.db(tx).selectFrom("tracking_experiments").selectAll().where("project", "=", project);
    const stage = stageFilter(viewType);
    if (stage) q = q.where("lifecycle_stage", "=", stage);
    const rows = await q.orderBy("seq").execute();
    const out: Experiment[] = [];
    for (const part of chunks(rows, ID_CHUNK)) out.push(...(await this.withTags(part, tx)));
    return out;
  }

  async updateExperiment(
    project: string,
    experimentId: string,
    patch: { name?: string; lifecycleStage?: LifecycleStage; lastUpdateTime: number },
    tx: Tx,
  ): Promise<void> {
    await this.db(tx)
      .updateTable("tracking_experiments")
      .set({
        last_update_time: patch.lastUpdateTime,
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.lifecycleStage !== undefined ? { lifecycle_stage: patch.lifecycleStage } : {}),
      })
      .where("project", "=", project)
      .where("experiment_id", "=", experimentId)
      .execute();
  }

  async setExperimentTag(project: string, experimentId: string, key: string, value: string, tx: Tx): Promise<void> {
    await this.db(tx)
      .insertInto("tracking_experiment_tags")
      .values({ project, experiment_id: experimentId, key, value })
      .onConflict((oc) => oc.columns(["project", "experiment_id", "key"]).doUpdateSet({ value }))
      .execute();
  }

  async deleteExperimentTag(project: string, experimentId: string, key: string, tx: Tx): Promise<boolean> {
    const r = await this.db(tx)
      .deleteFrom("tracking_experiment_tags")
      .where("project", "=", project)
      .where("experiment_id", "=", experimentId)
      .where("key", "=", key)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // ---- runs

  /** Postgres only: see tracking-writes-pg.ts. */
  get createRunAudited():
    | ((
        info: RunInfo,
        tags: Array<{ key: string; value: string }>,
        event: Omit<AuditEvent, "seq">,
      ) => Promise<number | null>)
    | undefined {
    if (this.store.dialect !== "postgres") return undefined;
    return (info, tags, event) => createRunPostgres(this.db(), info, tags, event);
  }

  /** Postgres only: see tracking-writes-pg.ts. */
  get logBatchAudited():
    ((input: OneStatementLogBatch, event: Omit<AuditEvent, "seq">) => Promise<LogBatchOutcome>) | undefined {
    if (this.store.dialect !== "postgres") return undefined;
    return (input, event) => logBatchPostgres(this.db(), input, event);
  }

  async insertRun(info: RunInfo, tx: Tx): Promise<void> {
    const { columns, values } = definedColumns(fromRunInfo(info));
    const query = this.shapes.compiled(`insertRun ${columns.join(",")}`, values, (slots) =>
      this.store.db
        .insertInto("tracking_runs")
        .values(Object.fromEntries(columns.map((c, i) => [c, slots[i]])) as unknown as TrackingRunRow),
    );
    await this.db(tx).executeQuery(query);
  }

  async getRunInfo(runId: string, tx?: Tx): Promise<RunInfo | null> {
    const row = await this.db(tx)
      .selectFrom("tracking_runs")
      .selectAll()
      .where("run_id", "=", runId)
      .executeTakeFirst();
    return row ? toRunInfo(row) : null;
  }

  async getRuns(runIds: string[], tx?: Tx): Promise<Run[]> {
    const byId = new Map<string, Run>();
    if (this.store.dialect === "postgres") {
      for (const run of await getRunsPostgres(this.db(tx), runIds)) byId.set(run.info.runId, run);
      return runIds.map((id) => byId.get(id)).filter((r): r is Run => r !== undefined);
    }
    for (const ids of chunks(runIds, ID_CHUNK)) {
      const db = this.db(tx);
      const [runs, params, tags, metrics, inputs] = await Promise.all([
        db.selectFrom("tracking_runs").selectAll().where("run_id", "in", ids).execute(),
        db.selectFrom("tracking_params").selectAll().where("run_id", "in", ids).execute(),
        db.selectFrom("tracking_tags").selectAll().where("run_id", "in", ids).execute(),
        db.selectFrom("tracking_latest_metrics").selectAll().where("run_id", "in", ids).orderBy("key").execute(),
        db.selectFrom("tracking_inputs").selectAll().where("run_id", "in", ids).execute(),
      ]);
      // Maps without a prototype: a param or tag named `__proto__` is data (MLflow accepts it).
      for (const r of runs)
        byId.set(r.run_id, { info: toRunInfo(r), params: dict(), tags: dict(), metrics: [], inputs: [] });
      for (const p of params) byId.get(p.run_id)!.params[p.key] = p.value;
      for (const t of tags) byId.get(t.run_id)!.tags[t.key] = t.value;
      for (const m of metrics) byId.get(m.run_id)!.metrics.push(toPoint(m));
      for (const i of inputs) byId.get(i.run_id)!.inputs.push(toDatasetInput(i));
    }
    return runIds.map((id) => byId.get(id)).filter((r): r is Run => r !== undefined);
  }

  async updateRun(
    runId: string,
    patch: Partial<Pick<RunInfo, "status" | "endTime" | "runName" | "lifecycleStage" | "deletedTime" | "parentRunId">>,
    tx: Tx,
  ): Promise<void> {
    const set: Record<string, unknown> = {};
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.endTime !== undefined) set.end_time = patch.endTime;
    if (patch.runName !== undefined) set.run_name = patch.runName;
    if (patch.lifecycleStage !== undefined) set.lifecycle_stage = patch.lifecycleStage;
    if (patch.deletedTime !== undefined) set.deleted_time = patch.deletedTime;
    if (patch.parentRunId !== undefined) set.parent_run_id = patch.parentRunId;
    const query = updateByIdQuery(this.shapes, this.store.db, "tracking_runs", "run_id", set, runId);
    if (query) await this.db(tx).executeQuery(query);
  }

  async setExperimentRunsStage(
    project: string,
    experimentId: string,
    stage: LifecycleStage,
    at: number,
    tx: Tx,
  ): Promise<void> {
    await this.db(tx)
      .updateTable("tracking_runs")
      .set({ lifecycle_stage: stage, deleted_time: stage === "deleted" ? at : null })
      .where("project", "=", project)
      .where("experiment_id", "=", experimentId)
      .where("lifecycle_stage", "=", stage === "deleted" ? "active" : "deleted")
      .execute();
  }

  async getParams(runId: string, keys: string[], tx: Tx): Promise<Record<string, string>> {
    const out = dict();
    for (const part of chunks(keys, ID_CHUNK)) {
      const rows = await this.db(tx)
        .selectFrom("tracking_params")
        .select(["key", "value"])
        .where("run_id", "=", runId)
        .where("key", "in", part)
        .execute();
      for (const r of rows) out[r.key] = r.value;
    }
    return out;
  }

  async insertParams(runId: string, params: Array<{ key: string; value: string }>, tx: Tx): Promise<string[]> {
    const inserted: string[] = [];
    for (const part of chunks(params, CHUNK)) {
      const query = this.shapes.compiled(
        `insertParams ${part.length}`,
        part.flatMap((p) => [runId, p.key, p.value]),
        (slots) =>
          this.store.db
            .insertInto("tracking_params")
            .values(part.map((_, r) => ({ run_id: slots[r * 3]!, key: slots[r * 3 + 1]!, value: slots[r * 3 + 2]! })))
            .onConflict((oc) => oc.doNothing())
            .returning("key"),
      );
      const { rows } = await this.db(tx).executeQuery(query);
      for (const r of rows) inserted.push(r.key);
    }
    return inserted;
  }

  async setTags(runId: string, tags: Array<{ key: string; value: string }>, tx: Tx): Promise<void> {
    // The last value of a key wins, and Postgres refuses to upsert one key twice in a statement.
    const last = new Map(tags.map((t) => [t.key, t.value]));
    for (const part of chunks([...last], CHUNK)) {
      const query = this.shapes.compiled(
        `setTags ${part.length}`,
        part.flatMap(([key, value]) => [runId, key, value]),
        (slots) =>
          this.store.db
            .insertInto("tracking_tags")
            .values(part.map((_, r) => ({ run_id: slots[r * 3]!, key: slots[r * 3 + 1]!, value: slots[r * 3 + 2]! })))
            .onConflict((oc) => oc.columns(["run_id", "key"]).doUpdateSet({ value: (eb) => eb.ref("excluded.value") })),
      );
      await this.db(tx).executeQuery(query);
    }
  }

  async deleteTag(runId: string, key: string, tx: Tx): Promise<boolean> {
    const r = await this.db(tx)
      .deleteFrom("tracking_tags")
      .where("run_id", "=", runId)
      .where("key", "=", key)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async logMetrics(runId: string, points: MetricPoint[], tx: Tx): Promise<void> {
    if (points.length === 0) return;
    const latest = new Map<string, MetricPoint>();
    for (const p of points) {
      const cur = latest.get(p.key);
      if (!cur || isLaterPoint(p, cur)) latest.set(p.key, p);
    }
    if (this.store.dialect === "postgres") return this.logMetricsPostgres(runId, points, [...latest.values()], tx);
    const db = this.db(tx);
    // The points go in as one hand-written multi-row INSERT per chunk: building the same statement
    // through Kysely's query builder cost as much CPU as SQLite's own work for a 1000-point batch.
    for (const part of chunks(points, CHUNK)) {
      const params: unknown[] = [];
      for (const p of part) {
        const row = fromPoint(runId, p);
        params.push(row.run_id, row.key, row.value, row.is_nan, row.step, row.timestamp);
      }
      await db.executeQuery(CompiledQuery.raw(this.metricInsertSql(part.length), params));
    }
    for (const part of chunks([...latest.values()], CHUNK)) {
      await db
        .insertInto("tracking_latest_metrics")
        .values(part.map((p) => fromPoint(runId, p)))
        .onConflict((oc) =>
          oc
            .columns(["run_id", "key"])
            .doUpdateSet({
              value: (eb) => eb.ref("excluded.value"),
              is_nan: (eb) => eb.ref("excluded.is_nan"),
              step: (eb) => eb.ref("excluded.step"),
              timestamp: (eb) => eb.ref("excluded.timestamp"),
            })
            // The same "later" as isLaterPoint: step, then timestamp, then value (NaN above numbers).
            .where(sql<boolean>`${sql.raw(LATER_THAN_STORED)}`),
        )
        .execute();
    }
  }

  /**
   * Postgres: every point and the latest-value upsert in ONE statement of eleven array parameters,
   * whatever the batch size — the same text each time, so it is prepared once per connection. The
   * multi-row VALUES form sent 6 000 parameters per 1000 points and made Postgres parse and plan a
   * 6 000-placeholder statement on every request.
   */
  private async logMetricsPostgres(runId: string, points: MetricPoint[], latest: MetricPoint[], tx: Tx): Promise<void> {
    const columns = (list: MetricPoint[]) => metricColumns(runId, list);
    await this.db(tx).executeQuery(
      CompiledQuery.raw(PG_LOG_METRICS_SQL, [runId, ...columns(points), ...columns(latest)]),
    );
  }

  async metricHistory(runId: string, key: string, offset: number, limit: number, tx?: Tx): Promise<MetricPoint[]> {
    const rows = await this.db(tx)
      .selectFrom("tracking_metrics")
      .select(["key", "value", "is_nan", "step", "timestamp"])
      .where("run_id", "=", runId)
      .where("key", "=", key)
      .orderBy("step")
      .orderBy("timestamp")
      .limit(limit)
      .offset(offset)
      .execute();
    return rows.map(toPoint);
  }

  async logInputs(runId: string, inputs: DatasetInput[], tx: Tx): Promise<void> {
    for (const i of inputs) {
      await this.db(tx)
        .insertInto("tracking_inputs")
        .values({ run_id: runId, name: i.dataset.name, digest: i.dataset.digest, payload: JSON.stringify(i) })
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
  }

  async searchRuns(query: RunSearchQuery, tx?: Tx): Promise<Run[]> {
    const search = searchRunsSql(query, this.store.dialect);
    if (this.store.dialect === "postgres") {
      await this.statistics.refresh(this.store.db);
      return searchRunsPostgres(this.db(tx), search);
    }
    const result = await search.execute(this.db(tx));
    return this.getRuns(
      result.rows.map((r) => r.run_id),
      tx,
    );
  }

  async searchRunIds(query: RunSearchQuery, tx?: Tx): Promise<string[]> {
    const result = await searchRunsSql(query, this.store.dialect).execute(this.db(tx));
    return result.rows.map((r) => r.run_id);
  }

  async listChildRuns(parentRunId: string, tx?: Tx): Promise<RunInfo[]> {
    const rows = await this.db(tx)
      .selectFrom("tracking_runs")
      .selectAll()
      .where("parent_run_id", "=", parentRunId)
      .orderBy("start_time")
      .orderBy("run_id")
      .execute();
    return rows.map(toRunInfo);
  }

  async runsWithStatus(project: string, status: RunStatus, tx?: Tx): Promise<RunInfo[]> {
    const rows = await this.db(tx)
      .selectFrom("tracking_runs")
      .selectAll()
      .where("project", "=", project)
      .where("status", "=", status)
      .execute();
    return rows.map(toRunInfo);
  }
}
