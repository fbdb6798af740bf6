import { sql } from "kysely";
import type {
  MonitorDefinition,
  MonitorResult,
  MonitorRunStatus,
  MonitorState,
} from "../../core/monitoring/monitors/model.js";
import type {
  LoggedRowText,
  MonitorStore,
  TrafficSource,
  TrafficWindow,
} from "../../core/monitoring/monitors/ports.js";
import { Reservoir, seedOf } from "../../core/monitoring/monitors/reservoir.js";
import type { WindowRow } from "../../core/monitoring/monitors/window.js";
import type { Tx } from "../../core/ports.js";
import { StoredBatch } from "./prediction-log-rows.mjs";
import type { PredictionBatchRow } from "./prediction-log-store.js";
import { dbOf, type SqlMetadataStore } from "./sql-metadata-store.js";

interface MonitorRow {
  project: string;
  name: string;
  definition: string;
  next_run_at: number | null;
  last_run_at: number | null;
  updated_at: number;
}
interface MonitorResultRow {
  id: string;
  project: string;
  monitor: string;
  window_start: number;
  window_end: number;
  computed_from: string;
  status: string;
  rows: number;
  labelled_rows: number;
  checks: string;
  error: string | null;
  alert_id: string | null;
  created_at: number;
  profile_sha: string | null;
  profile_start: number | null;
  /** 0620: `{rows, of}` when the window was sampled. */
  sampled: string | null;
}

declare module "./schema.js" {
  interface Database {
    monitors: MonitorRow;
    monitor_results: MonitorResultRow;
  }
}

const toState = (r: MonitorRow): MonitorState => ({
  definition: JSON.parse(r.definition) as MonitorDefinition,
  nextRunAt: r.next_run_at,
  lastRunAt: r.last_run_at,
  updatedAt: r.updated_at,
});

const toResult = (r: MonitorResultRow): MonitorResult => ({
  id: r.id,
  project: r.project,
  monitor: r.monitor,
  windowStart: r.window_start,
  windowEnd: r.window_end,
  computedFrom: r.computed_from === "profile" ? "profile" : "raw",
  status: r.status as MonitorRunStatus,
  rows: r.rows,
  labelledRows: r.labelled_rows,
  checks: JSON.parse(r.checks) as MonitorResult["checks"],
  error: r.error,
  alertId: r.alert_id,
  createdAt: r.created_at,
  profileSha: r.profile_sha,
  profileStart: r.profile_start,
  sampled: r.sampled ? (JSON.parse(r.sampled) as MonitorResult["sampled"]) : null,
});

export class SqlMonitorStore implements MonitorStore {
  constructor(private readonly store: SqlMetadataStore) {}

  async upsert(d: MonitorDefinition, nextRunAt: number | null, tx?: Tx): Promise<void> {
    const now = Date.now();
    await dbOf(this.store, tx)
      .insertInto("monitors")
      .values({
        project: d.project,
        name: d.name,
        definition: JSON.stringify(d),
        next_run_at: nextRunAt,
        last_run_at: null,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc
          .columns(["project", "name"])
          .doUpdateSet({ definition: JSON.stringify(d), next_run_at: nextRunAt, updated_at: now }),
      )
      .execute();
  }

  async remove(project: string, name: string, tx?: Tx): Promise<boolean> {
    const res = await dbOf(this.store, tx)
      .deleteFrom("monitors")
      .where("project", "=", project)
      .where("name", "=", name)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async list(project: string, tx?: Tx): Promise<MonitorState[]> {
    const rows = await dbOf(this.store, tx)
      .selectFrom("monitors")
      .selectAll()
      .where("project", "=", project)
      .orderBy("name")
      .execute();
    return rows.map(toState);
  }

  async get(project: string, name: string, tx?: Tx): Promise<MonitorState | null> {
    const row = await dbOf(this.store, tx)
      .selectFrom("monitors")
      .selectAll()
      .where("project", "=", project)
      .where("name", "=", name)
      .executeTakeFirst();
    return row ? toState(row) : null;
  }

  async due(now: number, limit: number, tx?: Tx): Promise<MonitorState[]> {
    const rows = await dbOf(this.store, tx)
      .selectFrom("monitors")
      .selectAll()
      .where("next_run_at", "<=", now)
      .orderBy("next_run_at")
      .limit(limit)
      .execute();
    return rows.map(toState);
  }

  async claim(project: string, name: string, expected: number, next: number | null, tx?: Tx): Promise<boolean> {
    const res = await dbOf(this.store, tx)
      .updateTable("monitors")
      .set({ next_run_at: next, last_run_at: Date.now() })
      .where("project", "=", project)
      .where("name", "=", name)
      .where("next_run_at", "=", expected)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async setResultAlert(project: string, id: string, alertId: string, tx?: Tx): Promise<void> {
    await dbOf(this.store, tx)
      .updateTable("monitor_results")
      .set({ alert_id: alertId })
      .where("project", "=", project)
      .where("id", "=", id)
      .execute();
  }

  async insertResult(r: MonitorResult, tx?: Tx): Promise<void> {
    await dbOf(this.store, tx)
      .insertInto("monitor_results")
      .values({
        id: r.id,
        project: r.project,
        monitor: r.monitor,
        window_start: r.windowStart,
        window_end: r.windowEnd,
        computed_from: r.computedFrom,
        status: r.status,
        rows: r.rows,
        labelled_rows: r.labelledRows,
        checks: JSON.stringify(r.checks),
        error: r.error,
        alert_id: r.alertId,
        created_at: r.createdAt,
        profile_sha: r.profileSha,
        profile_start: r.profileStart,
        sampled: r.sampled ? JSON.stringify(r.sampled) : null,
      })
      .execute();
  }

  async results(
    project: string,
    name: string,
    options: { limit: number; before?: number },
    tx?: Tx,
  ): Promise<MonitorResult[]> {
    let q = dbOf(this.store, tx)
      .selectFrom("monitor_results")
      .selectAll()
      .where("project", "=", project)
      .where("monitor", "=", name);
    if (options.before !== undefined) q = q.where("window_end", "<", options.before);
    const rows = await q.orderBy("window_end", "desc").orderBy("created_at", "desc").limit(options.limit).execute();
    return rows.map(toResult);
  }

  async getResult(project: string, id: string, tx?: Tx): Promise<MonitorResult | null> {
    const row = await dbOf(this.store, tx)
      .selectFrom("monitor_results")
      .selectAll()
      .where("project", "=", project)
      .where("id", "=", id)
      .executeTakeFirst();
    return row ? toResult(row) : null;
  }
}

/**
 * Batches read per query while scanning a window (keyset pages, so a big window is never one result
 * set): a 64-row request is one batch, so about 32 000 predictions and ~10 MB of their values a page.
 */
const WINDOW_PAGE_BATCHES = 500;

/** Id ranges per feedback query (two parameters each). */
const LABEL_RANGES = 500;

/** The batch columns a window reads. */
const WINDOW_COLUMNS = [
  "id_head",
  "id_first",
  "rows",
  "at",
  "error",
  "latency_ms",
  "feature_names",
  "feature_values",
  "feature_others",
  "features",
  "outputs",
] as const;

type WindowBatch = StoredBatch<Pick<PredictionBatchRow, (typeof WINDOW_COLUMNS)[number]>>;

/** One prediction of a window as the reservoir holds it: its batch and place, made into text only if sampled. */
interface WindowItem {
  batch: WindowBatch;
  index: number;
  at: number;
  label: string | null;
}

/**
 * Reads the serving area's prediction log with its feedback labels (rows stay in the store layer).
 * The log keeps a batch per request (migration 0503); each prediction's texts are made from it exactly
 * as the per-row log stored them, in the same (at, id) order.
 */
export class SqlTrafficSource implements TrafficSource {
  constructor(private readonly store: SqlMetadataStore) {}

  private page(
    project: string,
    endpoint: string,
    start: number,
    end: number,
    after: { at: number; head: string; first: number } | null,
  ) {
    let q = this.store.db
      .selectFrom("prediction_batches")
      .select(WINDOW_COLUMNS)
      .where("project", "=", project)
      .where("endpoint", "=", endpoint)
      // The page's index range starts at the last page's `at` (not the window's start, which made page
      // k step over the k pages before it), then the keyset test.
      .where("at", ">=", after?.at ?? start)
      .where("at", "<", end)
      // Shadow answers are never returned to callers; the traffic users saw is primary and canary.
      .where("slot", "!=", "shadow");
    if (after) q = q.where(sql<boolean>`(at, id_head, id_first) > (${after.at}, ${after.head}, ${after.first})`);
    return q.orderBy("at").orderBy("id_head").orderBy("id_first").limit(WINDOW_PAGE_BATCHES).execute();
  }

  /**
   * The feedback labels of a page's predictions, by prediction id: each batch's ids are one range
   * of prediction_feedback's key (a 32-hex id's last 8 characters count up), read with one query.
   */
  private async labels(batches: WindowBatch[]): Promise<Map<string, string>> {
    const labels = new Map<string, string>();
    for (let i = 0; i < batches.length; i += LABEL_RANGES) {
      const ranges = sql.join(
        batches
          .slice(i, i + LABEL_RANGES)
          .map((b) => sql`(cast(${b.id(0)} as text), cast(${b.id(b.rows - 1)} as text))`),
      );
      const { rows } = await sql<{ prediction_id: string; label: string }>`with r(lo, hi) as (values ${ranges})
        select f.prediction_id, f.label from r
        join prediction_feedback f on f.prediction_id >= r.lo and f.prediction_id <= r.hi`.execute(this.store.db);
      for (const row of rows) labels.set(row.prediction_id, row.label);
    }
    return labels;
  }

  /** Each page's predictions, in (at, id) order, as their batch and place with their label. */
  private async *items(project: string, endpoint: string, start: number, end: number): AsyncGenerator<WindowItem[]> {
    let after: { at: number; head: string; first: number } | null = null;
    for (;;) {
      const page = await this.page(project, endpoint, start, end, after);
      const batches = page.map((row) => new StoredBatch(row));
      const labels = await this.labels(batches);
      const items: WindowItem[] = [];
      for (const batch of batches) {
        const at = Number(batch.row.at);
        for (let index = 0; index < batch.rows; index++)
          items.push({ batch, index, at, label: labels.size ? (labels.get(batch.id(index)) ?? null) : null });
      }
      if (items.length > 0) yield items;
      if (page.length < WINDOW_PAGE_BATCHES) return;
      const last = page[page.length - 1]!;
      after = { at: Number(last.at), head: last.id_head, first: Number(last.id_first) };
    }
  }

  async *scan(project: string, endpoint: string, start: number, end: number): AsyncGenerator<LoggedRowText[]> {
    for await (const items of this.items(project, endpoint, start, end)) yield items.map(rowText);
  }

  async window(project: string, endpoint: string, start: number, end: number, limit: number): Promise<TrafficWindow> {
    // Every prediction passes through the reservoir once; only the sample is made into text and parsed.
    const reservoir = new Reservoir<WindowItem>(limit, seedOf(`${project}\0${endpoint}\0${start}\0${end}`));
    for await (const items of this.items(project, endpoint, start, end))
      for (const item of items) reservoir.offer(item);
    const rows = reservoir.sampled ? [...reservoir.sample()].sort((a, b) => a.at - b.at) : reservoir.sample();
    return { rows: rows.map((item) => toWindowRow(rowText(item))), total: reservoir.seen };
  }
}

function rowText({ batch, index, at, label }: WindowItem): LoggedRowText {
  return {
    id: batch.id(index),
    at,
    features: batch.featureText(index),
    output: batch.outputText(index),
    error: batch.row.error,
    latencyMs: batch.row.latency_ms,
    label,
  };
}

function toWindowRow(r: LoggedRowText): WindowRow {
  return {
    id: r.id,
    at: r.at,
    features: JSON.parse(r.features) as Record<string, unknown>,
    output: r.output === null ? null : (JSON.parse(r.output) as unknown),
    error: r.error,
    latencyMs: r.latencyMs,
    ...(r.label !== null && r.label !== undefined ? { label: JSON.parse(r.label) as unknown } : {}),
  };
}
