/**
 * OTLP trace ingest with the real OpenTelemetry JS SDK (`@opentelemetry/sdk-trace-node`) exporting
 * through the real OTLP HTTP exporters, protobuf and JSON (gzip too), on SQLite and Postgres: the
 * spans are read back through the API with the same hex ids the SDK made, GenAI conventions (new
 * and old token names, tool-call spans, errors) read, the project taken from the header or the
 * resource, and bad input (no token, wrong role, truncated, too large, broken gzip) refused.
 */
import { gzipSync } from "node:zlib";
import { OTLPTraceExporter as ProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { NodeTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-node";
import { context, trace, SpanStatusCode, type Span } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, type StoreKind } from "../helpers/stores.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- wire answers read by field in assertions
type Wire = Record<string, any>;

/** An agent run as instrumentations emit it: invoke_agent → chat (new token names), tool (error), chat (old names). */
function agentRun(provider: NodeTracerProvider): { traceId: string; rootId: string; chatId: string } {
  const tracer = provider.getTracer("agent-test", "1.0.0");
  const root = tracer.startSpan("invoke_agent support-agent", {
    attributes: {
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.name": "support-agent",
      "gen_ai.request.model": "gpt-4o-mini",
    },
  });
  const inRoot = trace.setSpan(context.active(), root);
  const chat: Span = tracer.startSpan(
    "chat gpt-4o-mini",
    {
      attributes: {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.output_tokens": 300,
      },
    },
    inRoot,
  );
  chat.end();
  const tool = tracer.startSpan(
    "execute_tool lookup_order",
    { attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup_order" } },
    inRoot,
  );
  tool.setStatus({ code: SpanStatusCode.ERROR, message: "order service down" });
  tool.end();
  const old = tracer.startSpan(
    "chat gpt-4o-mini",
    {
      attributes: {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.prompt_tokens": 800,
        "gen_ai.usage.completion_tokens": 100,
      },
    },
    inRoot,
  );
  old.end();
  root.end();
  return { traceId: root.spanContext().traceId, rootId: root.spanContext().spanId, chatId: chat.spanContext().spanId };
}

for (const kind of ["sqlite", "postgres"] as StoreKind[]) {
  const run = kind === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`OTLP traces [${kind}]`, () => {
    let t: TestServer;
    const send = (body: Buffer | string, headers: Record<string, string>) =>
      fetch(`${t.url}/v1/traces`, { method: "POST", headers, body });

    beforeAll(async () => {
      t = await startTestServer({ store: kind });
      // Prices for the project that receives the JSON export, so its cost comes from its own table.
      const r = await t.api("POST", `/api/v1/projects/agents/specs`, {
        source: "project: agents\nllm:\n  prices:\n    gpt-4o-mini: { input: 1, output: 2 }\n",
        file: "tandem.yaml",
      });
      expect(r.status).toBeLessThan(300);
    }, 60_000);
    afterAll(async () => {
      await t?.stop();
    });

    it.each([
      ["protobuf", "none"],
      ["json", "gzip"],
    ] as const)(
      "reads back real SDK spans exported as %s (%s) with their hex ids and GenAI attributes",
      async (encoding, compression) => {
        const headers = { Authorization: `Bearer ${t.adminToken}` };
        const exporter =
          encoding === "protobuf"
            ? new ProtoExporter({
                url: `${t.url}/v1/traces`,
                headers: { ...headers, "X-Tandem-Project": "agents-proto" },
              })
            : new JsonExporter({ url: `${t.url}/v1/traces`, headers, compression: "gzip" as never });
        void compression;
        const provider = new NodeTracerProvider({
          resource: resourceFromAttributes({
            "service.name": "support-agent",
            ...(encoding === "json" ? { "tandem.project": "agents" } : {}),
          }),
          spanProcessors: [new SimpleSpanProcessor(exporter)],
        });
        const ids = agentRun(provider);
        await provider.forceFlush();
        await provider.shutdown();
        const project = encoding === "json" ? "agents" : "agents-proto";

        const list = await t.api<{ traces: Wire[] }>("GET", `/api/v1/projects/${project}/traces`);
        expect(list.status).toBe(200);
        const summary = list.body.traces.find((x) => x.trace_id === ids.traceId)!;
        expect(summary).toBeDefined();
        expect(summary.trace_id).toMatch(/^[0-9a-f]{32}$/);
        expect(summary).toMatchObject({
          root_span_name: "invoke_agent support-agent",
          status: "error",
          model: "gpt-4o-mini",
          input_tokens: 2000,
          output_tokens: 400,
          span_count: 4,
          attributes: {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "support-agent",
            "gen_ai.request.model": "gpt-4o-mini",
          },
        });
        expect(Object.keys(summary).sort()).toEqual(
          expect.arrayContaining([
            "trace_id",
            "root_span_name",
            "start_time",
            "duration_ms",
            "status",
            "model",
            "input_tokens",
            "output_tokens",
            "cost",
            "attributes",
          ]),
        );
        // The project's price table (1 and 2 per million) in one project, the defaults (gpt-4o-mini) in the other.
        expect(summary.cost).toBeCloseTo(
          encoding === "json" ? (2000 * 1 + 400 * 2) / 1e6 : (2000 * 0.15 + 400 * 0.6) / 1e6,
          12,
        );

        const detail = await t.api<{ spans: Wire[] }>("GET", `/api/v1/projects/${project}/traces/${ids.traceId}`);
        expect(detail.body.spans).toHaveLength(4);
        const root = detail.body.spans.find((s) => s.span_id === ids.rootId)!;
        expect(root).toMatchObject({ parent_span_id: null, service: "support-agent", kind: "internal" });
        const chat = detail.body.spans.find((s) => s.span_id === ids.chatId)!;
        expect(chat).toMatchObject({
          parent_span_id: ids.rootId,
          input_tokens: 1200,
          output_tokens: 300,
          operation: "chat",
        });
        const tool = detail.body.spans.find((s) => s.operation === "execute_tool")!;
        expect(tool).toMatchObject({ status: "error", status_message: "order service down" });
        expect(detail.body.spans.filter((s) => s.input_tokens === 800)).toHaveLength(1);

        const filtered = await t.api<{ traces: Wire[] }>("GET", `/api/v1/projects/${project}/traces?status=ok`);
        expect(filtered.body.traces.find((x) => x.trace_id === ids.traceId)).toBeUndefined();
        const byModel = await t.api<{ traces: Wire[] }>("GET", `/api/v1/projects/${project}/traces?model=gpt-4o`);
        expect(byModel.body.traces).toHaveLength(0);
      },
    );

    it("refuses bad OTLP requests with clear errors and stores nothing from them", async () => {
      const json = JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [] },
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: "0af7651916cd43dd8448eb211c80319c",
                    spanId: "b7ad6b7169203331",
                    name: "x",
                    startTimeUnixNano: "1700000000000000000",
                    endTimeUnixNano: "1700000000100000000",
                  },
                ],
              },
            ],
          },
        ],
      });
      const auth = { authorization: `Bearer ${t.adminToken}` };
      expect((await send(json, { "content-type": "application/json" })).status).toBe(401);
      const truncated = await send(Buffer.from([0x0a, 0x50, 0x0a, 0x05]), {
        ...auth,
        "content-type": "application/x-protobuf",
      });
      expect(truncated.status).toBe(400);
      expect(((await truncated.json()) as Wire).error.message).toMatch(/not a valid OTLP protobuf/);
      const cut = await send(json.slice(0, 80), { ...auth, "content-type": "application/json" });
      expect(cut.status).toBe(400);
      expect(((await cut.json()) as Wire).error.message).toMatch(/not valid JSON/);
      const base64Id = await send(json.replace("0af7651916cd43dd8448eb211c80319c", "CvdlGRbNQ92ESOshHIAxnA=="), {
        ...auth,
        "content-type": "application/json",
      });
      expect(base64Id.status).toBe(400);
      expect(((await base64Id.json()) as Wire).error.message).toMatch(/traceId: expected 32 hex/);
      const huge = await send(Buffer.alloc(9 * 1024 * 1024, 0x20), { ...auth, "content-type": "application/json" });
      expect(huge.status).toBe(413);
      const bomb = await send(gzipSync(Buffer.alloc(40 * 1024 * 1024, 0x20)), {
        ...auth,
        "content-type": "application/json",
        "content-encoding": "gzip",
      });
      expect(bomb.status).toBe(413);
      const badGzip = await send(Buffer.from("not gzip"), {
        ...auth,
        "content-type": "application/json",
        "content-encoding": "gzip",
      });
      expect(badGzip.status).toBe(400);
      const viewer = await t.api<{ token: string }>("POST", "/api/v1/tokens", {
        name: "v",
        role: "viewer",
        project: "default",
      });
      expect(viewer.status).toBe(201);
      const r = await send(json, { authorization: `Bearer ${viewer.body.token}`, "content-type": "application/json" });
      expect(r.status).toBe(403);
      const none = await t.api<{ traces: Wire[] }>("GET", `/api/v1/projects/default/traces`);
      expect(none.body.traces).toHaveLength(0);
      const ok = await send(json, { ...auth, "content-type": "application/json" });
      expect(ok.status).toBe(200);
      const stored = await t.api<{ traces: Wire[] }>("GET", `/api/v1/projects/default/traces`);
      expect(stored.body.traces.map((x) => x.trace_id)).toEqual(["0af7651916cd43dd8448eb211c80319c"]);
    });

    it("sweeps spans past the project's retention", async () => {
      const services = t.server.opened.services;
      const before = await t.api<{ traces: Wire[] }>("GET", `/api/v1/projects/default/traces`);
      expect(before.body.traces.length).toBeGreaterThan(0);
      // The span above started in 2023: past the default 30 days.
      const deleted = await services.llm.traces.sweep(30);
      expect(deleted).toBeGreaterThan(0);
      const after = await t.api<{ traces: Wire[] }>("GET", `/api/v1/projects/default/traces`);
      expect(after.body.traces).toHaveLength(0);
    });
  });
}
