/**
 * LLM endpoints, OpenAI-compatible: `POST /v1/endpoints/:endpoint/chat/completions`, so the official
 * OpenAI clients work with `base_url = {server}/v1/endpoints/{E}` and an API key that is a Tandem
 * token. Plain answers are the upstream's JSON as sent; `stream: true` forwards the upstream's
 * server-sent events as they arrive. Every answer carries `x-tandem-prediction-id` (feedback goes to
 * `/v1/endpoints/:endpoint/feedback` with it), `x-tandem-prompt-version`, `x-tandem-slot` and
 * `x-tandem-trace-id`. Access: `viewer` in the project, as for predictions.
 */
import { z } from "zod";
import { fastId } from "../../core/serving/fast-id.js";
import type { ChatBody, ChatMeta } from "../../core/llm/gateway.js";
import { TandemError } from "../../core/errors.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";
import { statusOf } from "../errors.js";

const header = (v: string | string[] | undefined) => (typeof v === "string" && v ? v : undefined);

const chatBody = z
  .object({
    model: z.string().optional(),
    messages: z
      .array(z.object({ role: z.string().min(1), content: z.unknown().optional() }).passthrough())
      .max(1000)
      .default([]),
    stream: z.boolean().optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

function metaHeaders(meta: ChatMeta): Record<string, string> {
  return {
    "x-tandem-prediction-id": meta.predictionId,
    "x-tandem-prompt-version": meta.prompt,
    "x-tandem-slot": meta.slot,
    "x-tandem-trace-id": meta.traceId,
    traceparent: `00-${meta.traceId}-${meta.spanId}-01`,
  };
}

export const llmChatRoutes: AnyRoute[] = [
  defineRoute({
    method: "POST",
    url: "/v1/endpoints/:endpoint/chat/completions",
    summary: "OpenAI-compatible chat completion through an LLM endpoint (its prompt version, its upstream).",
    description:
      "Variables come from `metadata.variables`, else the last user message is `{{ input }}`. `stream: true` answers server-sent events. The prediction id is in `x-tandem-prediction-id`.",
    tags: ["llm"],
    auth: "bearer",
    role: "viewer",
    // Calls do not change what the platform serves; the log is data, not state.
    changesState: false,
    raw: true,
    bodyLimit: 4 * 1024 * 1024,
    params: z.object({ endpoint: z.string() }),
    body: chatBody,
    handler: async ({ services, project, params, body, request, reply }) => {
      const syncing = services.serving.runtime.syncBeforeServing(project, params.endpoint);
      if (syncing) await syncing;
      const call = {
        project,
        endpoint: params.endpoint,
        body: body as ChatBody,
        requestId: header(request.headers["x-request-id"]) ?? fastId(),
        routingKey: header(request.headers["x-tandem-routing-key"]),
        traceparent: header(request.headers.traceparent),
      };
      if (!body.stream) {
        // The upstream's JSON goes back as it came: parsing it again to serialise it cost a copy per call.
        const { raw, meta } = await services.llm.gateway.chat(call);
        return reply.headers(metaHeaders(meta)).type("application/json; charset=utf-8").send(raw);
      }
      const closed = new AbortController();
      reply.raw.on("close", () => closed.abort());
      let opened = false;
      try {
        await services.llm.gateway.chatStream(
          call,
          {
            start(meta) {
              opened = true;
              reply.hijack();
              reply.raw.writeHead(200, {
                "content-type": "text/event-stream; charset=utf-8",
                "cache-control": "no-cache, no-transform",
                connection: "keep-alive",
                "x-accel-buffering": "no",
                ...metaHeaders(meta),
              });
            },
            event(data) {
              if (!reply.raw.writableEnded) reply.raw.write(`data: ${data}\n\n`);
            },
            end() {
              if (!reply.raw.writableEnded) reply.raw.end();
            },
          },
          closed.signal,
        );
      } catch (error) {
        // Before the first event the usual JSON error answers; mid-stream an error event ends the stream.
        if (!opened) throw error;
        const code = error instanceof TandemError ? error.code : "INTERNAL";
        const message = error instanceof Error ? error.message : String(error);
        if (!reply.raw.writableEnded) {
          reply.raw.write(`data: ${JSON.stringify({ error: { code, message, status: statusOf(code as never) } })}\n\n`);
          reply.raw.end();
        }
      }
    },
  }),
];
