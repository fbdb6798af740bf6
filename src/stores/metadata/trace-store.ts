/**
 * Trace spans per project. A trace's summary (start, duration, status, tokens, cost) is aggregated
 * over its spans when listed, so spans of one trace may arrive in any order and any number of
 * batches (the root usually comes last: it ends last) without a summary row to keep in step.
 */
import { sql } from "kysely";
import type { Span, SpanStatus, TraceFilter, TraceSummary } from "../../core/llm/model.js";
import type { TraceStore } from "../../core/llm/ports.js";
import { genAiAttributes } from "../../core/llm/traces.js";
import { dbOf, type SqlMetadataStore } from "./sql-metadata-store.js";

export interface TraceSpanRow {
  project: string;
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  kind: string;
  service: string | null;
  start_ns: string;
  end_ns: string;
  start_ms: number;
  duration_ms: number;
  status: string;
  status_message: string | null;
  model: string | null;
  operation: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost: number | null;
  prediction_id: string | null;
  attributes: string;
  resource: string;
  events: string;
  ingested_at: number;
}

declare module "./schema.js" {
  interface Database {
    trace_spans: TraceSpanRow;
  }
}

const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function toRow(s: Span): TraceSpanRow {
  return {
    project: s.project,
    trace_id: s.traceId,
    span_id: s.spanId,
    parent_span_id: s.parentSpanId,
    name: s.name,
    kind: s.kind,
    service: s.service,
    start_ns: s.startNs,
    end_ns: s.endNs,
    start_ms: s.startMs,
    duration_ms: s.durationMs,
    status: s.status,
    status_message: s.statusMessage,
    model: s.model,
    operation: s.operation,
    input_tokens: s.inputTokens,
    output_tokens: s.outputTokens,
    cost: s.cost,
    prediction_id: s.predictionId,
    attributes: JSON.stringify(s.attributes),
    resource: JSON.stringify(s.resource),
    events: JSON.stringify(s.events),
    ingested_at: s.ingestedAt,
  };
}

function toSpan(r: TraceSpanRow): Span {
  return {
    project: r.project,
    traceId: r.trace_id,
    spanId: r.span_id,
    parentSpanId: r.parent_span_id,
    name: r.name,
    kind: r.kind,
    service: r.service,
    startNs: r.start_ns,
    endNs: r.end_ns,
    startMs: Number(r.start_ms),
    durationMs: Number(r.duration_ms),
    status: r.status as SpanStatus,
    statusMessage: r.status_message,
    model: r.model,
    operation: r.operation,
    inputTokens: n(r.input_tokens),
    outputTokens: n(r.output_tokens),
    cost: n(r.cost),
    predictionId: r.prediction_id,
    attributes: JSON.parse(r.attributes) as Record<string, unknown>,
    resource: JSON.parse(r.resource) as Record<string, unknown>,
    events: JSON.parse(r.events) as Span["events"],
    ingestedAt: Number(r.ingested_at),
  };
}

const COLUMNS = Object.keys(toRow({ attributes: {}, resource: {}, events: [] } as unknown as Span)) as Array<
  keyof TraceSpanRow
>;

export class SqlTraceStore implements TraceStore {
  constructor(private readonly store: SqlMetadataStore) {}

  async insertSpans(spans: Span[]): Promise<void> {
    // 500 rows × 23 columns stays under SQLite's 32 766 bound parameters.
    for (let i = 0; i < spans.length; i += 500) {
      const rows = spans.slice(i, i + 500).map(toRow);
      const update = Object.fromEntries(
        COLUMNS.filter((c) => c !== "project" && c !== "trace_id" && c !== "span_id").map((c) => [
          c,
          sql.ref(`excluded.${c}`),
        ]),
      );
      await dbOf(this.store)
        .insertInto("trace_spans")
        .values(rows)
        .onConflict((oc) => oc.columns(["project", "trace_id", "span_id"]).doUpdateSet(update))
        .execute();
    }
  }

  async listTraces(project: string, filter: TraceFilter): Promise<TraceSummary[]> {
    const db = dbOf(this.store);
    let q = db
      .selectFrom("trace_spans")
      .select((eb) => [
        "trace_id",
        eb.fn.min("start_ms").as("start"),
        eb.fn.max(sql<number>`start_ms + duration_ms`).as("end"),
        eb.fn.sum("input_tokens").as("input_tokens"),
        eb.fn.sum("output_tokens").as("output_tokens"),
        eb.fn.sum("cost").as("cost"),
        eb.fn.countAll().as("spans"),
        eb.fn.max(sql<number>`case when status = 'error' then 1 else 0 end`).as("failed"),
        eb.fn.max("prediction_id").as("prediction_id"),
      ])
      .where("project", "=", project)
      .groupBy("trace_id");
    if (filter.since !== undefined) q = q.having((eb) => eb.fn.min("start_ms"), ">=", filter.since);
    if (filter.until !== undefined) q = q.having((eb) => eb.fn.min("start_ms"), "<", filter.until);
    if (filter.status === "error") q = q.having(sql`max(case when status = 'error' then 1 else 0 end)`, "=", 1);
    if (filter.status === "ok") q = q.having(sql`max(case when status = 'error' then 1 else 0 end)`, "=", 0);
    if (filter.model !== undefined) q = q.having(sql`sum(case when model = ${filter.model} then 1 else 0 end)`, ">", 0);
    const groups = await q
      .orderBy("start", "desc")
      .limit(filter.limit ?? 50)
      .execute();
    if (groups.length === 0) return [];
    const ids = groups.map((g) => g.trace_id);
    const rows = await db
      .selectFrom("trace_spans")
      .selectAll()
      .where("project", "=", project)
      .where("trace_id", "in", ids)
      .orderBy("start_ms")
      .execute();
    return groups.map((g) => {
      const spans = rows.filter((r) => r.trace_id === g.trace_id);
      const present = new Set(spans.map((s) => s.span_id));
      const root = spans.find((s) => !s.parent_span_id || !present.has(s.parent_span_id)) ?? spans[0]!;
      const start = Number(g.start);
      return {
        traceId: g.trace_id,
        rootSpanName: root.name,
        startTime: start,
        durationMs: Math.max(Number(root.duration_ms), Number(g.end) - start),
        status: Number(g.failed) ? "error" : "ok",
        model: root.model ?? spans.find((s) => s.model)?.model ?? null,
        inputTokens: Number(g.input_tokens ?? 0),
        outputTokens: Number(g.output_tokens ?? 0),
        cost: n(g.cost),
        spanCount: Number(g.spans),
        predictionId: g.prediction_id ?? null,
        attributes: genAiAttributes(JSON.parse(root.attributes) as Record<string, unknown>),
      };
    });
  }

  async countTraces(project: string, filter: TraceFilter): Promise<number> {
    const db = dbOf(this.store);
    let q = db.selectFrom("trace_spans").select("trace_id").where("project", "=", project).groupBy("trace_id");
    if (filter.since !== undefined) q = q.having((eb) => eb.fn.min("start_ms"), ">=", filter.since);
    if (filter.until !== undefined) q = q.having((eb) => eb.fn.min("start_ms"), "<", filter.until);
    if (filter.model !== undefined) q = q.having(sql`sum(case when model = ${filter.model} then 1 else 0 end)`, ">", 0);
    const row = await db
      .selectFrom(q.as("t"))
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async traceSpans(project: string, traceId: string): Promise<Span[]> {
    const rows = await dbOf(this.store)
      .selectFrom("trace_spans")
      .selectAll()
      .where("project", "=", project)
      .where("trace_id", "=", traceId)
      .orderBy("start_ms")
      .execute();
    return rows.map(toSpan);
  }

  async rootSpans(project: string, since: number, until: number, limit: number): Promise<Span[]> {
    const rows = await dbOf(this.store)
      .selectFrom("trace_spans")
      .selectAll()
      .where("project", "=", project)
      .where("parent_span_id", "is", null)
      .where("start_ms", ">=", since)
      .where("start_ms", "<", until)
      .orderBy("start_ms")
      .limit(limit)
      .execute();
    return rows.map(toSpan);
  }

  async deleteBefore(project: string | null, before: number, exceptProjects: string[] = []): Promise<number> {
    let q = dbOf(this.store).deleteFrom("trace_spans").where("start_ms", "<", before);
    if (project !== null) q = q.where("project", "=", project);
    if (exceptProjects.length) q = q.where("project", "not in", exceptProjects);
    const result = await q.executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
