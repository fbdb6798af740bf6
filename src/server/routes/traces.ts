/**
 * Traces: OTLP/HTTP ingest at `POST /v1/traces` (protobuf or JSON, optionally gzip), and the list
 * and detail routes `/api/v1/projects/:project/traces[/:trace_id]`.
 *
 * Ingest takes a bearer token (401 without) and role `member` in each project it writes to. The
 * project is the `X-Tandem-Project` header, else each resource's `tandem.project` attribute, else
 * `default`. Bodies are read raw before any parser sees them (see `captureOtlpBody`): at most
 * OTLP_MAX_BYTES as sent and OTLP_MAX_BYTES × 4 once gunzipped, else 413; a truncated or undecodable
 * body is a 400 that says so. Nothing is stored unless the whole request decodes.
 */
import { Readable } from "node:stream";
import { gunzip } from "node:zlib";
import type { FastifyRequest, RequestPayload } from "fastify";
import { z } from "zod";
import { InvalidInputError, NotFoundError, PayloadTooLargeError } from "../../core/errors.js";
import { DEFAULT_PROJECT } from "../../core/governance/model.js";
import type { Span, TraceSummary } from "../../core/llm/model.js";
import { DEFAULT_PROJECT_ATTRIBUTE, type IncomingSpan } from "../../core/llm/traces.js";
import { PROJECT_HEADER } from "../app.js";
import { decodeJson, decodeProtobuf, encodeResponse } from "../otlp/decode.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";

export const OTLP_PATH = "/v1/traces";
/** Largest OTLP body accepted as sent (8 MiB; OpenTelemetry SDKs batch 512 spans, well under 1 MiB). */
export const OTLP_MAX_BYTES = 8 * 1024 * 1024;

interface OtlpBody {
  bytes: Buffer;
  kind: "protobuf" | "json";
}
type OtlpRequest = FastifyRequest & { tandemOtlp?: OtlpBody | Error };

const gunzipLimited = (data: Buffer): Promise<Buffer> =>
  new Promise((resolve, reject) =>
    gunzip(data, { maxOutputLength: OTLP_MAX_BYTES * 4 }, (error, out) => (error ? reject(error) : resolve(out))),
  );

async function readOtlp(request: FastifyRequest, payload: AsyncIterable<Buffer>): Promise<OtlpBody> {
  const type = String(request.headers["content-type"] ?? "")
    .split(";")[0]!
    .trim()
    .toLowerCase();
  const kind =
    type === "application/x-protobuf" || type === "application/protobuf"
      ? "protobuf"
      : type === "application/json"
        ? "json"
        : null;
  if (!kind)
    throw new InvalidInputError(
      `Content-Type ${JSON.stringify(type)} is not OTLP: send application/x-protobuf or application/json`,
    );
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of payload) {
    size += chunk.length;
    // Past the limit the rest is read and dropped (so the client gets the 413 rather than a reset),
    // up to a bound past which the connection is simply cut.
    if (size <= OTLP_MAX_BYTES) chunks.push(chunk);
    else if (size > OTLP_MAX_BYTES * 8) break;
  }
  if (size > OTLP_MAX_BYTES)
    throw new PayloadTooLargeError(`OTLP body larger than ${OTLP_MAX_BYTES} bytes: send smaller batches`);
  let bytes: Buffer = Buffer.concat(chunks);
  const encoding = String(request.headers["content-encoding"] ?? "identity").toLowerCase();
  if (encoding === "gzip") {
    try {
      bytes = await gunzipLimited(bytes);
    } catch (error) {
      const tooLarge =
        (error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" ||
        /maxOutputLength|buffer/i.test(String(error));
      if (tooLarge)
        throw new PayloadTooLargeError(`OTLP body larger than ${OTLP_MAX_BYTES * 4} bytes once decompressed`);
      throw new InvalidInputError(`the gzip body could not be decompressed (truncated?): ${(error as Error).message}`);
    }
  } else if (encoding !== "identity")
    throw new InvalidInputError(`Content-Encoding ${encoding} is not supported: send gzip or none`);
  return { bytes, kind };
}

/**
 * Reads OTLP bodies before Fastify's parsers (whose JSON parser would choke on gzip): the request
 * continues with an empty octet stream and the bytes ride on the request. Runs after authentication.
 */
async function captureOtlpBody(request: FastifyRequest, payload: RequestPayload): Promise<RequestPayload> {
  try {
    (request as OtlpRequest).tandemOtlp = await readOtlp(request, payload as AsyncIterable<Buffer>);
  } catch (error) {
    (request as OtlpRequest).tandemOtlp = error as Error;
  }
  request.headers["content-type"] = "application/octet-stream";
  delete request.headers["content-encoding"];
  return Readable.from([]);
}

const summaryWire = z.object({
  trace_id: z.string(),
  root_span_name: z.string(),
  start_time: z.number(),
  duration_ms: z.number(),
  status: z.enum(["ok", "error"]),
  model: z.string().nullable(),
  input_tokens: z.number(),
  output_tokens: z.number(),
  cost: z.number().nullable(),
  span_count: z.number(),
  prediction_id: z.string().nullable(),
  attributes: z.record(z.string(), z.unknown()),
});

export const summaryToWire = (t: TraceSummary) => ({
  trace_id: t.traceId,
  root_span_name: t.rootSpanName,
  start_time: t.startTime,
  duration_ms: t.durationMs,
  status: t.status,
  model: t.model,
  input_tokens: t.inputTokens,
  output_tokens: t.outputTokens,
  cost: t.cost,
  span_count: t.spanCount,
  prediction_id: t.predictionId,
  attributes: t.attributes,
});

export const spanToWire = (s: Span) => ({
  trace_id: s.traceId,
  span_id: s.spanId,
  parent_span_id: s.parentSpanId,
  name: s.name,
  kind: s.kind,
  service: s.service,
  start_time_unix_nano: s.startNs,
  end_time_unix_nano: s.endNs,
  start_time: s.startMs,
  duration_ms: s.durationMs,
  status: s.status,
  status_message: s.statusMessage,
  model: s.model,
  operation: s.operation,
  input_tokens: s.inputTokens,
  output_tokens: s.outputTokens,
  cost: s.cost,
  prediction_id: s.predictionId,
  attributes: s.attributes,
  resource: s.resource,
  events: s.events.map((e) => ({ name: e.name, time_unix_nano: e.timeNs, attributes: e.attributes })),
});

export const traceRoutes: AnyRoute[] = [
  defineRoute({
    method: "POST",
    url: OTLP_PATH,
    summary: "OTLP/HTTP trace ingest (protobuf or JSON, gzip allowed); needs role member in each target project.",
    description:
      "The project is the X-Tandem-Project header, else the resource attribute `tandem.project`, else `default`.",
    tags: ["traces"],
    auth: "bearer",
    // Checked per project in the handler: one request may carry several resources' projects.
    role: "authenticated",
    raw: true,
    preParsing: captureOtlpBody,
    handler: async ({ services, principal, request, reply }) => {
      const captured = (request as OtlpRequest).tandemOtlp;
      if (!captured) throw new InvalidInputError("no OTLP body: send application/x-protobuf or application/json");
      if (captured instanceof Error) throw captured;
      const spans: IncomingSpan[] =
        captured.kind === "protobuf" ? decodeProtobuf(captured.bytes) : decodeJson(captured.bytes);
      const header = request.headers[PROJECT_HEADER];
      const byProject = new Map<string, IncomingSpan[]>();
      for (const s of spans) {
        const attr = s.resource[DEFAULT_PROJECT_ATTRIBUTE];
        const project =
          typeof header === "string" && header ? header : typeof attr === "string" && attr ? attr : DEFAULT_PROJECT;
        (byProject.get(project) ?? byProject.set(project, []).get(project)!).push(s);
      }
      // Every project is authorised before anything is stored.
      for (const project of byProject.keys()) {
        await services.access.authorize(principal, project, "member");
        await services.access.ensureProject(project, principal.userName);
      }
      for (const [project, list] of byProject) await services.llm.traces.ingest(project, list);
      const answer = encodeResponse(captured.kind);
      return Buffer.isBuffer(answer)
        ? reply.header("content-type", "application/x-protobuf").send(answer)
        : reply.header("content-type", "application/json").send(answer);
    },
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/traces",
    summary: "Traces, newest first, filtered by model, status and time.",
    tags: ["traces"],
    auth: "bearer",
    role: "viewer",
    params: z.object({ project: z.string() }),
    query: z.object({
      model: z.string().optional(),
      status: z.enum(["ok", "error"]).optional(),
      since: z.coerce.number().optional(),
      until: z.coerce.number().optional(),
      limit: z.coerce.number().int().min(1).max(500).default(50),
    }),
    response: z.object({ traces: z.array(summaryWire) }),
    handler: async ({ services, project, query }) => ({
      traces: (await services.llm.traces.list(project, query)).map(summaryToWire),
    }),
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/traces/:trace_id",
    summary: "One trace's spans (by start time), with attributes, events and the prediction it logged.",
    tags: ["traces"],
    auth: "bearer",
    role: "viewer",
    params: z.object({
      project: z.string(),
      trace_id: z.string().regex(/^[0-9a-f]{32}$/, "expected 32 lowercase hex characters"),
    }),
    handler: async ({ services, project, params }) => {
      const spans = await services.llm.traces.spans(project, params.trace_id);
      if (spans.length === 0) throw new NotFoundError(`trace ${params.trace_id} not found in project ${project}`);
      return { trace_id: params.trace_id, spans: spans.map(spanToWire) };
    },
  }),
];
