/**
 * Traces: spans arriving over OTLP (or made by an LLM endpoint call) are read for the OpenTelemetry
 * GenAI semantic conventions and stored per project.
 *
 * - Model: `gen_ai.request.model`, else `gen_ai.response.model`. Operation: `gen_ai.operation.name`
 *   (`chat`, `execute_tool`, `invoke_agent`, …).
 * - Tokens: `gen_ai.usage.input_tokens` / `output_tokens`, and the older `prompt_tokens` /
 *   `completion_tokens` that many instrumentations still send.
 * - Errors: status code ERROR, or an `error.type` attribute.
 * - Cost: the span's own `gen_ai.usage.cost` when given, else tokens × the project's price table.
 * - `tandem.prediction_id` links a span to the LLM endpoint call that logged it.
 * A trace's status is `error` when any of its spans failed; its tokens and cost are the sums over
 * its spans; its model is the root's, else the first span's that names one.
 */
import { nowMs } from "../ids.js";
import type { TrafficWindow } from "../monitoring/monitors/ports.js";
import type { Span, SpanStatus, TraceFilter, TraceSummary } from "./model.js";
import type { PromptStore, TraceStore } from "./ports.js";
import { costOf } from "./pricing.js";

export const DEFAULT_PROJECT_ATTRIBUTE = "tandem.project";

/** A span as the wire decoders give it. */
export interface IncomingSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: string;
  startNs: string;
  endNs: string;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; timeNs: string; attributes: Record<string, unknown> }>;
  status: { code: number; message: string };
  resource: Record<string, unknown>;
}

function numberAttr(attrs: Record<string, unknown>, ...keys: string[]): number | null {
  for (const k of keys) {
    const v = attrs[k];
    if (typeof v === "number" && Number.isFinite(v)) return v;
    if (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) return Number(v);
  }
  return null;
}

function stringAttr(attrs: Record<string, unknown>, ...keys: string[]): string | null {
  for (const k of keys) {
    const v = attrs[k];
    if (typeof v === "string" && v) return v;
  }
  return null;
}

const NS_PER_MS = 1_000_000n;

export function genAiAttributes(attrs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(attrs).filter(([k]) => k.startsWith("gen_ai.")));
}

export class TraceService {
  constructor(
    private readonly store: TraceStore,
    private readonly prompts: PromptStore,
  ) {}

  /** Reads GenAI conventions and stores the spans under `project`. */
  async ingest(project: string, incoming: IncomingSpan[]): Promise<Span[]> {
    const prices = (await this.prompts.getSettings(project))?.prices ?? {};
    const at = nowMs();
    const spans = incoming.map((s) => this.toSpan(project, s, prices, at));
    if (spans.length) await this.store.insertSpans(spans);
    return spans;
  }

  toSpan(
    project: string,
    s: IncomingSpan,
    prices: Record<string, { input: number; output: number }>,
    ingestedAt: number,
  ): Span {
    const a = s.attributes;
    const start = BigInt(s.startNs);
    const end = BigInt(s.endNs) >= start ? BigInt(s.endNs) : start;
    const model = stringAttr(a, "gen_ai.request.model", "gen_ai.response.model");
    const inputTokens = numberAttr(a, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens");
    const outputTokens = numberAttr(a, "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens");
    const failed = s.status.code === 2 || stringAttr(a, "error.type") !== null;
    const status: SpanStatus = failed ? "error" : s.status.code === 1 ? "ok" : "unset";
    return {
      project,
      traceId: s.traceId,
      spanId: s.spanId,
      parentSpanId: s.parentSpanId,
      name: s.name,
      kind: s.kind,
      service: stringAttr(s.resource, "service.name"),
      startNs: start.toString(),
      endNs: end.toString(),
      startMs: Number(start / NS_PER_MS) + Number(start % NS_PER_MS) / 1e6,
      durationMs: Number(end - start) / 1e6,
      status,
      statusMessage: s.status.message || stringAttr(a, "error.type"),
      model,
      operation: stringAttr(a, "gen_ai.operation.name"),
      inputTokens,
      outputTokens,
      cost: numberAttr(a, "gen_ai.usage.cost") ?? costOf(model, inputTokens, outputTokens, prices),
      predictionId: stringAttr(a, "tandem.prediction_id"),
      attributes: a,
      resource: s.resource,
      events: s.events,
      ingestedAt,
    };
  }

  list(project: string, filter: TraceFilter): Promise<TraceSummary[]> {
    return this.store.listTraces(project, { ...filter, limit: Math.min(filter.limit ?? 50, 500) });
  }

  spans(project: string, traceId: string): Promise<Span[]> {
    return this.store.traceSpans(project, traceId);
  }

  /**
   * A trace stream as monitor rows: one per trace started in [start, end) (calling `model` when
   * given), with its duration, status, summed tokens and cost — the checks latency, error_rate,
   * tokens and cost read them as they read an endpoint's calls. A window over `limit` traces keeps
   * the newest `limit` (unlike the prediction log's uniform sample) and says how many it held.
   */
  async window(
    project: string,
    model: string | null,
    start: number,
    end: number,
    limit: number,
  ): Promise<TrafficWindow> {
    const filter = { since: start, until: end, ...(model ? { model } : {}) };
    const traces = await this.store.listTraces(project, { ...filter, limit: limit + 1 });
    const kept = traces.slice(0, limit).reverse();
    return {
      rows: kept.map((t) => ({
        id: t.traceId,
        at: t.startTime,
        features: { model: t.model, root_span_name: t.rootSpanName },
        output: { input_tokens: t.inputTokens, output_tokens: t.outputTokens, cost: t.cost },
        error: t.status === "error" ? "error" : null,
        latencyMs: t.durationMs,
      })),
      total: traces.length > limit ? await this.store.countTraces(project, filter) : kept.length,
    };
  }

  /** Drops spans past each project's retention (projects without one: `defaultDays`). */
  async sweep(defaultDays: number, now = nowMs()): Promise<number> {
    const settings = (await this.prompts.allSettings()).filter((s) => s.traceRetentionDays !== null);
    let deleted = 0;
    for (const s of settings)
      deleted += await this.store.deleteBefore(s.project, now - s.traceRetentionDays! * 86_400_000);
    deleted += await this.store.deleteBefore(
      null,
      now - defaultDays * 86_400_000,
      settings.map((s) => s.project),
    );
    return deleted;
  }
}
