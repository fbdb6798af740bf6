/**
 * The prediction log's tables (prediction_batches, prediction_stats, prediction_feedback): rows are
 * written by a worker thread (prediction-log-thread.ts) and read back here as the per-prediction text
 * each reader saw before packing (migration 0503; prediction-log-rows.mjs makes and reads the rows).
 */
import { sql } from "kysely";
import type { FeedbackEntry, LoggedRequest, PredictionLogEntry, Slot } from "../../core/serving/model.js";
import type { PredictionLogStore, StatsDelta, WindowStats } from "../../core/serving/ports.js";
import { histogramPercentile, LATENCY_BOUNDS_MS } from "../../core/serving/slo.js";
import {
  batchesOf,
  BATCH_COLUMNS,
  idKey,
  rowCount,
  StoredBatch,
  valuesBlob,
  type WireRequest,
} from "./prediction-log-rows.mjs";
import { PredictionLogThread } from "./prediction-log-thread.js";
import type { SqlMetadataStore } from "./sql-metadata-store.js";

const json = (value: unknown): string => JSON.stringify(value);

/**
 * The prediction log: one row per run of a request's predictions whose ids follow each other
 * (migration 0503; prediction-log-rows.mjs makes and reads them).
 */
export interface PredictionBatchRow {
  /** The batch's ids' first 24 characters (32-hex ids), or the one id of a batch keyed by itself. */
  id_head: string;
  /** The number the first id's last 8 hex characters spell; -1 when `id_head` is the id itself. */
  id_first: number;
  rows: number;
  project: string;
  endpoint: string;
  model: string;
  version: number;
  slot: string;
  request_id: string;
  at: number;
  latency_ms: number;
  error: string | null;
  /** The features' names (JSON array) when the values are in `feature_values`. */
  feature_names: string | null;
  /** rows × names float64 values, little-endian; NaN where the value is in `feature_others`. */
  feature_values: Uint8Array | null;
  /** `[index, value, …]` (JSON) for the values that are not numbers. */
  feature_others: string | null;
  /** The rows' features as a JSON array of objects, when not in columns. */
  features: string | null;
  /** The rows' outputs as one JSON array; null when the request failed. */
  outputs: string | null;
}

export interface PredictionStatsRow {
  project: string;
  endpoint: string;
  slot: string;
  version: number;
  at: number;
  requests: number;
  errors: number;
  latency_hist: string;
}

export interface FeedbackRow {
  prediction_id: string;
  project: string;
  endpoint: string;
  label: string;
  at: number;
}

declare module "./schema.js" {
  interface Database {
    prediction_batches: PredictionBatchRow;
    prediction_stats: PredictionStatsRow;
    prediction_feedback: FeedbackRow;
  }
}

/** Batches read per query by recent() (a 64-row request's batch is one). */
const RECENT_PAGE_BATCHES = 16;

// 1000 ids per feedback lookup stay under SQLite's 32 766 and Postgres' 65 535 bound parameters.
const INSERT_CHUNK = 1000;

/** An aggregate's columns in insert order, the latency histogram as JSON text. */
function statsRow(s: StatsDelta): unknown[] {
  return [s.project, s.endpoint, s.slot, s.version, s.at, s.requests, s.errors, json(s.latencyHist)];
}

/** A logged request as it crosses to the writer: columns stay columns; outputs become one JSON text. */
function toWire(r: LoggedRequest): WireRequest {
  const columns = Array.isArray(r.features) ? null : r.features;
  const records = Array.isArray(r.features) ? r.features : null;
  return {
    project: r.project,
    endpoint: r.endpoint,
    model: r.model,
    version: r.version,
    slot: r.slot,
    requestId: r.requestId,
    at: r.at,
    latencyMs: r.latencyMs,
    error: r.error,
    ids: r.idRun ? null : r.ids,
    idRun: r.idRun ?? null,
    rows: r.ids.length,
    names: columns?.names ?? null,
    values: columns?.values ?? null,
    others: columns?.others ?? null,
    featureJson: records ? r.ids.map((_, i) => json(records[i] ?? {})) : null,
    outputs:
      r.outputs === null || typeof r.outputs === "string" || !Array.isArray(r.outputs) ? r.outputs : json(r.outputs),
  };
}

export class SqlPredictionLogStore implements PredictionLogStore {
  /** A SQLite file or a Postgres database is written from a worker thread; in-memory SQLite in process. */
  private readonly thread: PredictionLogThread | null;

  constructor(private readonly store: SqlMetadataStore) {
    const file = store.sqliteFile;
    const url = store.postgresUrl;
    this.thread = file
      ? new PredictionLogThread({
          kind: "sqlite",
          file: file.path,
          busyTimeoutMs: file.busyTimeoutMs,
          writeLock: file.writeLock,
        })
      : url
        ? new PredictionLogThread({ kind: "postgres", url })
        : null;
  }

  async append(requests: LoggedRequest[], stats: StatsDelta[]): Promise<void> {
    if (requests.length === 0 && stats.length === 0) return;
    const wire = requests.length ? requests.map(toWire) : null;
    const statsValues = stats.length ? stats.flatMap(statsRow) : null;
    if (this.thread) return this.thread.append(wire, statsValues);
    // An in-memory SQLite database has no file for a second connection: the same batches, written here.
    const batches: Record<string, unknown>[] = [];
    for (const request of wire ?? []) {
      if (rowCount(request) === 0) continue;
      for (const values of batchesOf(request)) {
        const row: Record<string, unknown> = {};
        BATCH_COLUMNS.forEach((column, i) => (row[column] = values[i]));
        if (row.feature_values) row.feature_values = valuesBlob(row.feature_values as Float64Array);
        batches.push(row);
      }
    }
    await this.store.db.transaction().execute(async (trx) => {
      for (let i = 0; i < batches.length; i += 50)
        await trx
          .insertInto("prediction_batches")
          .values(batches.slice(i, i + 50) as unknown as PredictionBatchRow[])
          .execute();
      if (statsValues) {
        const statsRows: unknown[][] = [];
        for (let i = 0; i < statsValues.length; i += 8) statsRows.push(statsValues.slice(i, i + 8));
        await sql`insert into prediction_stats (project, endpoint, slot, version, at, requests, errors, latency_hist)
          select value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7
          from json_each(${json(statsRows)})`.execute(trx);
      }
    });
  }

  /** Stops the SQLite writer thread (after the logger's last flush). */
  async close(): Promise<void> {
    await this.thread?.close();
  }

  async windowStats(project: string, endpoint: string, since: number): Promise<WindowStats[]> {
    const rows = await this.store.db
      .selectFrom("prediction_stats")
      .select(["slot", "version", "requests", "errors", "latency_hist"])
      .where("project", "=", project)
      .where("endpoint", "=", endpoint)
      .where("at", ">=", since)
      .execute();
    const merged = new Map<string, { slot: Slot; version: number; requests: number; errors: number; hist: number[] }>();
    for (const row of rows) {
      const key = `${row.slot}:${row.version}`;
      let m = merged.get(key);
      if (!m) {
        m = {
          slot: row.slot as Slot,
          version: row.version,
          requests: 0,
          errors: 0,
          hist: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0),
        };
        merged.set(key, m);
      }
      m.requests += row.requests;
      m.errors += row.errors;
      (JSON.parse(row.latency_hist) as number[]).forEach((n, i) => (m.hist[i] = (m.hist[i] ?? 0) + n));
    }
    return [...merged.values()].map((m) => ({
      slot: m.slot,
      version: m.version,
      requests: m.requests,
      errors: m.errors,
      p95Ms: histogramPercentile(m.hist, 95),
      latencyHist: m.hist,
    }));
  }

  async addFeedback(entries: FeedbackEntry[]): Promise<string[]> {
    if (entries.length === 0) return [];
    const { project, endpoint } = entries[0]!;
    return this.store.db.transaction().execute(async (trx) => {
      const ids = entries.map((e) => e.predictionId);
      const known = new Set<string>();
      // 500 ids (1 500 parameters) per lookup: each id finds the batch whose key is the greatest at
      // or below its own (one index seek), and is known when that batch holds it and is the endpoint's.
      for (let i = 0; i < ids.length; i += INSERT_CHUNK / 2) {
        const chunk = ids.slice(i, i + INSERT_CHUNK / 2);
        const keys = sql.join(
          chunk.map((id) => {
            const [head, first] = idKey(id);
            return sql`(cast(${id} as text), cast(${head} as text), cast(${first} as bigint))`;
          }),
        );
        const { rows } = await sql<{ id: string }>`with q(id, head, low) as (values ${keys})
          select q.id from q join prediction_batches b
            on b.id_head = q.head
           and b.id_first = (select b2.id_first from prediction_batches b2
                             where b2.id_head = q.head and b2.id_first <= q.low
                             order by b2.id_first desc limit 1)
          where q.low < b.id_first + b.rows and b.project = ${project} and b.endpoint = ${endpoint}`.execute(trx);
        for (const r of rows) known.add(r.id);
      }
      const rows = entries.filter((e) => known.has(e.predictionId));
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await trx
          .insertInto("prediction_feedback")
          .values(
            rows.slice(i, i + INSERT_CHUNK).map((e) => ({
              prediction_id: e.predictionId,
              project: e.project,
              endpoint: e.endpoint,
              label: json(e.label),
              at: e.at,
            })),
          )
          .onConflict((oc) =>
            oc
              .column("prediction_id")
              .doUpdateSet((eb) => ({ label: eb.ref("excluded.label"), at: eb.ref("excluded.at") })),
          )
          .execute();
      }
      return ids.filter((id) => !known.has(id));
    });
  }

  async deleteBefore(before: number): Promise<number> {
    return this.store.db.transaction().execute(async (trx) => {
      await trx.deleteFrom("prediction_feedback").where("at", "<", before).execute();
      await trx.deleteFrom("prediction_stats").where("at", "<", before).execute();
      // One range of the (project, endpoint, at, …) index per endpoint that has rows, each found from
      // the last by a seek: the log has no index on `at` alone (migration 0502), which the log's
      // writer would otherwise update for every batch. Counted in predictions, not batches.
      let deleted = 0;
      let last: { project: string; endpoint: string } | null = null;
      for (;;) {
        let query = trx.selectFrom("prediction_batches").select(["project", "endpoint"]);
        if (last) query = query.where(sql<boolean>`(project, endpoint) > (${last.project}, ${last.endpoint})`);
        const next: { project: string; endpoint: string } | undefined = await query
          .orderBy("project")
          .orderBy("endpoint")
          .limit(1)
          .executeTakeFirst();
        if (!next) return deleted;
        const gone = await trx
          .selectFrom("prediction_batches")
          .select(sql<number | string | null>`sum(rows)`.as("n"))
          .where("project", "=", next.project)
          .where("endpoint", "=", next.endpoint)
          .where("at", "<", before)
          .executeTakeFirst();
        await trx
          .deleteFrom("prediction_batches")
          .where("project", "=", next.project)
          .where("endpoint", "=", next.endpoint)
          .where("at", "<", before)
          .execute();
        deleted += Number(gone?.n ?? 0);
        last = next;
      }
    });
  }

  async recent(project: string, endpoint: string, limit: number): Promise<PredictionLogEntry[]> {
    const out: PredictionLogEntry[] = [];
    let after: { at: number; head: string; first: number } | null = null;
    // Newest batches first, a few at a time (a batch holds up to a request's rows); within a batch
    // its last row first, as the per-row log's index gave rows written in one request.
    while (out.length < limit) {
      let q = this.store.db
        .selectFrom("prediction_batches")
        .selectAll()
        .where("project", "=", project)
        .where("endpoint", "=", endpoint);
      if (after) q = q.where(sql<boolean>`(at, id_head, id_first) < (${after.at}, ${after.head}, ${after.first})`);
      const page = await q
        .orderBy("at", "desc")
        .orderBy("id_head", "desc")
        .orderBy("id_first", "desc")
        .limit(Math.min(limit, RECENT_PAGE_BATCHES))
        .execute();
      for (const row of page) {
        const batch = new StoredBatch(row);
        for (let i = batch.rows - 1; i >= 0 && out.length < limit; i--) {
          const output = batch.outputText(i);
          out.push({
            id: batch.id(i),
            project: row.project,
            endpoint: row.endpoint,
            model: row.model,
            version: row.version,
            slot: row.slot as Slot,
            requestId: row.request_id,
            at: Number(row.at),
            latencyMs: row.latency_ms,
            features: JSON.parse(batch.featureText(i)) as Record<string, unknown>,
            output: output === null ? null : (JSON.parse(output) as unknown),
            error: row.error,
          });
        }
      }
      if (page.length < Math.min(limit, RECENT_PAGE_BATCHES)) break;
      const last = page[page.length - 1]!;
      after = { at: Number(last.at), head: last.id_head, first: Number(last.id_first) };
    }
    return out;
  }
}
