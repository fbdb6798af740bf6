/**
 * The LLM endpoint's request path: pick the slot (primary, or the canary's share; shadow mirrored),
 * render the slot's prompt version with the caller's variables, call the upstream, log the call as
 * a prediction, and record a span that links to it.
 *
 * Variables come from `metadata.variables`; `{{ input }}`, when not given there, is the last user
 * message. What is sent upstream: when the prompt consumed the last user message as `{{ input }}`,
 * the caller's other messages go before the prompt's last message (the history sits between the
 * system message and the question); otherwise the caller's messages follow the rendered prompt.
 * The prompt version's parameters win over the caller's (they are what was evaluated); the caller's
 * other OpenAI fields (tools, response_format, stop, …) pass through; its `model` is ignored.
 *
 * A failing canary does not fail the caller: its error is logged (and judged by the SLO) and the
 * primary answers, as for model endpoints. Errors of the caller's own (a missing variable) are
 * logged but not counted against a slot.
 */
import { createHash } from "node:crypto";
import { ConflictError, InvalidInputError, TandemError } from "../errors.js";
import { fastId } from "../serving/fast-id.js";
import type { PredictionLogEntry, Slot } from "../serving/model.js";
import type { PredictionLogger } from "../serving/prediction-log.js";
import type { LiveEndpoint, ServingRuntime } from "../serving/runtime.js";
import { chooseCanary } from "../serving/traffic.js";
import type { ChatMessage, LlmEndpointConfig, ModelPrice, PromptVersion, Span } from "./model.js";
import { costOf } from "./pricing.js";
import { PromptRunner } from "./prompt-runner.js";
import type { SpanWriter } from "./span-writer.js";
import { renderMessages } from "./template.js";
import {
  complete,
  completeStream,
  type BufferedUpstreamFetch,
  type UpstreamCall,
  type UpstreamFetch,
} from "./upstream.js";

export interface ChatBody {
  messages?: Array<{ role: string; content?: unknown }>;
  metadata?: { variables?: Record<string, unknown> } & Record<string, unknown>;
  stream?: boolean;
  [field: string]: unknown;
}

export interface ChatCall {
  project: string;
  endpoint: string;
  body: ChatBody;
  requestId: string;
  routingKey?: string;
  /** W3C `traceparent` of the caller: the endpoint's span joins that trace. */
  traceparent?: string;
}

export interface ChatMeta {
  predictionId: string;
  prompt: string;
  slot: Slot;
  traceId: string;
  spanId: string;
}

/** Where a streamed answer goes: headers once, then each event's data, then the end. */
export interface StreamSink {
  start(meta: ChatMeta): void;
  event(data: string): void;
  end(): void;
}

export interface GatewayDeps {
  runtime: ServingRuntime;
  logger: PredictionLogger;
  spans: SpanWriter;
  /** A project secret's value (the upstream API key). */
  secret(project: string, name: string): Promise<string>;
  prices(project: string): Promise<Record<string, ModelPrice>>;
  /** The server's guarded fetch for user-set URLs. */
  fetcher?: UpstreamFetch;
  /** The same, reading whole answers into memory (plain calls; streams use `fetcher`). */
  bufferedFetcher?: BufferedUpstreamFetch;
}

const SKIP = new Set(["messages", "model", "metadata", "stream", "stream_options"]);
const sha256 = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex");

function parseTraceparent(header: string | undefined): { traceId: string; parentId: string } | null {
  const m = header ? /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(header.trim()) : null;
  return m && !/^0+$/.test(m[1]!) ? { traceId: m[1]!, parentId: m[2]! } : null;
}

/**
 * A span's end in Unix ns, as a decimal string: `at` ms plus the latency, without BigInt (a BigInt
 * per call showed in the gateway's profile; ms × 10⁶ is past Number's exact range, so whole ms and
 * the ns within the last ms are written side by side).
 */
export function endNs(at: number, latencyMs: number): string {
  const ns = Math.round(latencyMs * 1e6);
  const ms = at + Math.floor(ns / 1e6);
  return `${ms}${String(ns % 1e6).padStart(6, "0")}`;
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return content
      .map((p) => (typeof p === "object" && p && "text" in p ? String((p as { text: unknown }).text) : ""))
      .join("");
  return content === undefined || content === null ? "" : JSON.stringify(content);
}

interface Prepared {
  variables: Record<string, unknown>;
  messages: ChatMessage[];
}

export class LlmGateway {
  constructor(private readonly deps: GatewayDeps) {}

  private prepare(version: PromptVersion, body: ChatBody): Prepared {
    const ref = `${version.name}@${version.version}`;
    const caller: ChatMessage[] = (body.messages ?? []).map((m) => ({
      role: m.role as ChatMessage["role"],
      content: contentText(m.content),
    }));
    const given = body.metadata?.variables ?? {};
    if (typeof given !== "object" || given === null || Array.isArray(given))
      throw new InvalidInputError("metadata.variables: expected an object of variable values");
    const lastUser = caller.map((m) => m.role).lastIndexOf("user");
    const consumes = version.variables.includes("input") && given.input === undefined && lastUser >= 0;
    const variables = consumes ? { ...given, input: caller[lastUser]!.content } : given;
    const rendered = renderMessages(version.messages, variables, ref);
    if (!consumes) return { variables, messages: [...rendered, ...caller] };
    const history = caller.filter((_, i) => i !== lastUser);
    return { variables, messages: [...rendered.slice(0, -1), ...history, ...rendered.slice(-1)] };
  }

  private live(project: string, endpoint: string): LiveEndpoint & { llm: LlmEndpointConfig } {
    const live = this.deps.runtime.get(project, endpoint);
    const llm = live.endpoint.llm;
    if (!llm)
      throw new ConflictError(`endpoint ${endpoint} serves a model, not an LLM: use /v1/endpoints/${endpoint}/predict`);
    if (!live.primary) throw new ConflictError(`endpoint ${endpoint} has no prompt version to serve yet`);
    return { ...live, llm };
  }

  private async upstreamCall(
    project: string,
    llm: LlmEndpointConfig,
    version: PromptVersion,
    messages: ChatMessage[],
    body: ChatBody,
  ): Promise<UpstreamCall> {
    const extra: Record<string, unknown> = {};
    for (const k in body) if (!SKIP.has(k)) extra[k] = body[k];
    return {
      baseUrl: llm.upstream,
      apiKey: llm.apiKeySecret ? await this.deps.secret(project, llm.apiKeySecret) : null,
      model: version.params.model ?? llm.model,
      messages,
      params: version.params,
      extra,
      timeoutMs: llm.timeoutMs,
      fetcher: this.deps.fetcher,
      bufferedFetcher: this.deps.bufferedFetcher,
    };
  }

  /** One non-streamed call: the upstream's answer (parsed, and as it sent it), and where it was logged. */
  async chat(call: ChatCall): Promise<{ body: Record<string, unknown>; raw: string; meta: ChatMeta }> {
    const live = this.live(call.project, call.endpoint);
    const useCanary = live.canary !== null && chooseCanary(live.endpoint.canary?.percent ?? 0, call.routingKey);
    this.mirror(live, call);
    let attempt = await this.attempt(live, useCanary ? "canary" : "primary", call);
    if (!attempt.ok && useCanary && attempt.countsAgainstSlot) attempt = await this.attempt(live, "primary", call);
    if (!attempt.ok) throw attempt.error;
    return { body: attempt.body, raw: attempt.raw, meta: attempt.meta };
  }

  /** A streamed call: events are forwarded to `sink` as the upstream sends them. */
  async chatStream(call: ChatCall, sink: StreamSink, signal?: AbortSignal): Promise<void> {
    const live = this.live(call.project, call.endpoint);
    const useCanary = live.canary !== null && chooseCanary(live.endpoint.canary?.percent ?? 0, call.routingKey);
    this.mirror(live, call);
    let started = false;
    const forward: StreamSink = {
      start: (meta) => {
        started = true;
        sink.start(meta);
      },
      event: (d) => sink.event(d),
      end: () => sink.end(),
    };
    let attempt = await this.attempt(live, useCanary ? "canary" : "primary", call, forward, signal);
    if (!attempt.ok && useCanary && !started && attempt.countsAgainstSlot)
      attempt = await this.attempt(live, "primary", call, forward, signal);
    if (!attempt.ok) throw attempt.error;
  }

  private mirror(live: LiveEndpoint & { llm: LlmEndpointConfig }, call: ChatCall): void {
    if (live.shadow && chooseCanary(live.endpoint.shadowPercent, undefined))
      void this.attempt(live, "shadow", { ...call, body: { ...call.body, stream: false } }).catch(() => undefined);
  }

  private async attempt(
    live: LiveEndpoint & { llm: LlmEndpointConfig },
    slot: Slot,
    call: ChatCall,
    sink?: StreamSink,
    signal?: AbortSignal,
  ): Promise<
    | { ok: true; body: Record<string, unknown>; raw: string; meta: ChatMeta }
    | { ok: false; error: unknown; countsAgainstSlot: boolean }
  > {
    const runner = (slot === "canary" ? live.canary : slot === "shadow" ? live.shadow : live.primary) as PromptRunner;
    const version = runner.prompt;
    const trace = call.traceparent === undefined ? null : parseTraceparent(call.traceparent);
    const meta: ChatMeta = {
      predictionId: fastId(),
      prompt: `${version.name}@${version.version}`,
      slot,
      // Ids from fastId (no CSPRNG call per request): unique labels, as W3C asks, not secrets.
      traceId: trace?.traceId ?? fastId(),
      // Its 64-bit counter half, which started at a random value: unique within any trace.
      spanId: fastId().slice(16),
    };
    const at = Date.now();
    const started = performance.now();
    let prepared: Prepared | null = null;
    let upstreamModel: string | null = null;
    try {
      prepared = this.prepare(version, call.body);
      const request = await this.upstreamCall(call.project, live.llm, version, prepared.messages, call.body);
      upstreamModel = request.model;
      let result;
      let body: Record<string, unknown> = {};
      let raw = "";
      if (sink) {
        let opened = false;
        result = await completeStream(
          request,
          (data) => {
            if (!opened) {
              opened = true;
              sink.start(meta);
            }
            sink.event(data);
          },
          signal,
        );
        sink.end();
      } else {
        const full = await complete(request);
        body = full.body;
        raw = full.raw;
        result = full;
      }
      const latencyMs = performance.now() - started;
      const model = result.model ?? upstreamModel;
      const cost = costOf(model, result.inputTokens, result.outputTokens, await this.deps.prices(call.project));
      this.log(live, slot, version, call, meta, at, latencyMs, prepared, {
        answer: result.answer,
        model,
        inputTokens: result.inputTokens,
        outputTokens: result.outputTokens,
        finishReason: result.finishReason,
        cost,
        error: null,
        failed: false,
      });
      return { ok: true, body, raw, meta };
    } catch (error) {
      const latencyMs = performance.now() - started;
      const message = error instanceof Error ? error.message : String(error);
      // The caller's own mistakes (a missing variable, bad metadata) are not the slot's failure.
      const callerError =
        error instanceof TandemError && (error.code === "UNPROCESSABLE" || error.code === "INVALID_INPUT");
      this.log(live, slot, version, call, meta, at, latencyMs, prepared, {
        answer: null,
        model: upstreamModel,
        inputTokens: null,
        outputTokens: null,
        finishReason: null,
        cost: null,
        error: message.slice(0, 500),
        failed: !callerError,
      });
      if (callerError) throw error;
      return { ok: false, error, countsAgainstSlot: true };
    }
  }

  private log(
    live: LiveEndpoint & { llm: LlmEndpointConfig },
    slot: Slot,
    version: PromptVersion,
    call: ChatCall,
    meta: ChatMeta,
    at: number,
    latencyMs: number,
    prepared: Prepared | null,
    r: {
      answer: string | null;
      model: string | null;
      inputTokens: number | null;
      outputTokens: number | null;
      finishReason: string | null;
      cost: number | null;
      error: string | null;
      failed: boolean;
    },
  ): void {
    const e = live.endpoint;
    const content = live.llm.logContent;
    const features: Record<string, unknown> = prepared
      ? content
        ? { variables: prepared.variables, messages: prepared.messages }
        : { variables_sha256: sha256(prepared.variables), messages_sha256: sha256(prepared.messages) }
      : {};
    const output =
      r.error === null
        ? {
            ...(content ? { answer: r.answer } : { answer_sha256: sha256(r.answer) }),
            model: r.model,
            prompt: meta.prompt,
            input_tokens: r.inputTokens,
            output_tokens: r.outputTokens,
            cost: r.cost,
            finish_reason: r.finishReason,
            trace_id: meta.traceId,
          }
        : null;
    const entry: PredictionLogEntry = {
      id: meta.predictionId,
      project: e.project,
      endpoint: e.name,
      model: e.model,
      version: version.version,
      slot,
      requestId: call.requestId,
      at,
      latencyMs,
      features,
      output,
      error: r.error,
    };
    this.deps.logger.add([entry], r.failed, latencyMs);
    this.deps.runtime.metrics?.observe(
      {
        project: e.project,
        endpoint: e.name,
        version: String(version.version),
        slot,
        outcome: r.error ? "error" : "ok",
      },
      latencyMs / 1000,
    );
    const trace = call.traceparent === undefined ? null : parseTraceparent(call.traceparent);
    const attributes: Record<string, unknown> = {
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": r.model ?? version.params.model ?? live.llm.model,
      ...(r.model ? { "gen_ai.response.model": r.model } : {}),
      ...(r.inputTokens !== null ? { "gen_ai.usage.input_tokens": r.inputTokens } : {}),
      ...(r.outputTokens !== null ? { "gen_ai.usage.output_tokens": r.outputTokens } : {}),
      ...(r.finishReason ? { "gen_ai.response.finish_reasons": [r.finishReason] } : {}),
      ...(version.params.temperature !== undefined ? { "gen_ai.request.temperature": version.params.temperature } : {}),
      ...(version.params.max_tokens !== undefined ? { "gen_ai.request.max_tokens": version.params.max_tokens } : {}),
      ...(r.error ? { "error.type": r.failed ? "upstream_error" : "invalid_request" } : {}),
      "tandem.prediction_id": meta.predictionId,
      "tandem.endpoint": e.name,
      "tandem.prompt": meta.prompt,
      "tandem.slot": slot,
    };
    const span: Span = {
      project: e.project,
      traceId: meta.traceId,
      spanId: meta.spanId,
      parentSpanId: trace?.parentId ?? null,
      name: `chat ${attributes["gen_ai.request.model"] as string}`,
      kind: "server",
      service: "tandem",
      startNs: `${at}000000`,
      endNs: endNs(at, latencyMs),
      startMs: at,
      durationMs: latencyMs,
      status: r.error ? "error" : "ok",
      statusMessage: r.error,
      model: (attributes["gen_ai.request.model"] as string) ?? null,
      operation: "chat",
      inputTokens: r.inputTokens,
      outputTokens: r.outputTokens,
      cost: r.cost,
      predictionId: meta.predictionId,
      attributes,
      resource: { "service.name": "tandem", "tandem.project": e.project },
      events: [],
      ingestedAt: at,
    };
    this.deps.spans.add(span);
  }
}
