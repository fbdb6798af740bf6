/**
 * OTLP/HTTP trace bodies (ExportTraceServiceRequest) in protobuf and in JSON, to one plain shape.
 *
 * The protobuf schema below is opentelemetry-proto's `trace/v1/trace.proto`, `common/v1`,
 * `resource/v1` and `collector/trace/v1` (field numbers as published), given to protobufjs as a
 * reflection definition. JSON is read by hand, not through protobufjs' `fromObject`: OTLP/JSON
 * writes trace and span ids as hex strings (the spec's one deviation from proto3 JSON mapping), and
 * a generic decoder would take them for base64 and corrupt every id. Ids come out as lowercase hex,
 * 32 characters for a trace and 16 for a span, in both encodings; anything else is refused.
 */
import protobuf from "protobufjs";
import { InvalidInputError } from "../../core/errors.js";
import type { IncomingSpan } from "../../core/llm/traces.js";

const anyValueFields = {
  stringValue: { type: "string", id: 1 },
  boolValue: { type: "bool", id: 2 },
  intValue: { type: "int64", id: 3 },
  doubleValue: { type: "double", id: 4 },
  arrayValue: { type: "ArrayValue", id: 5 },
  kvlistValue: { type: "KeyValueList", id: 6 },
  bytesValue: { type: "bytes", id: 7 },
};

const root = protobuf.Root.fromJSON({
  nested: {
    AnyValue: { oneofs: { value: { oneof: Object.keys(anyValueFields) } }, fields: anyValueFields },
    ArrayValue: { fields: { values: { rule: "repeated", type: "AnyValue", id: 1 } } },
    KeyValueList: { fields: { values: { rule: "repeated", type: "KeyValue", id: 1 } } },
    KeyValue: { fields: { key: { type: "string", id: 1 }, value: { type: "AnyValue", id: 2 } } },
    Resource: { fields: { attributes: { rule: "repeated", type: "KeyValue", id: 1 } } },
    InstrumentationScope: {
      fields: { name: { type: "string", id: 1 }, version: { type: "string", id: 2 } },
    },
    Status: { fields: { message: { type: "string", id: 2 }, code: { type: "int32", id: 3 } } },
    Event: {
      fields: {
        timeUnixNano: { type: "fixed64", id: 1 },
        name: { type: "string", id: 2 },
        attributes: { rule: "repeated", type: "KeyValue", id: 3 },
      },
    },
    Span: {
      fields: {
        traceId: { type: "bytes", id: 1 },
        spanId: { type: "bytes", id: 2 },
        traceState: { type: "string", id: 3 },
        parentSpanId: { type: "bytes", id: 4 },
        name: { type: "string", id: 5 },
        kind: { type: "int32", id: 6 },
        startTimeUnixNano: { type: "fixed64", id: 7 },
        endTimeUnixNano: { type: "fixed64", id: 8 },
        attributes: { rule: "repeated", type: "KeyValue", id: 9 },
        events: { rule: "repeated", type: "Event", id: 11 },
        status: { type: "Status", id: 15 },
        flags: { type: "fixed32", id: 16 },
      },
    },
    ScopeSpans: {
      fields: {
        scope: { type: "InstrumentationScope", id: 1 },
        spans: { rule: "repeated", type: "Span", id: 2 },
      },
    },
    ResourceSpans: {
      fields: {
        resource: { type: "Resource", id: 1 },
        scopeSpans: { rule: "repeated", type: "ScopeSpans", id: 2 },
      },
    },
    ExportTraceServiceRequest: { fields: { resourceSpans: { rule: "repeated", type: "ResourceSpans", id: 1 } } },
    ExportTracePartialSuccess: {
      fields: { rejectedSpans: { type: "int64", id: 1 }, errorMessage: { type: "string", id: 2 } },
    },
    ExportTraceServiceResponse: { fields: { partialSuccess: { type: "ExportTracePartialSuccess", id: 1 } } },
  },
});
const RequestType = root.lookupType("ExportTraceServiceRequest");
const ResponseType = root.lookupType("ExportTraceServiceResponse");

export const SPAN_KINDS = ["unspecified", "internal", "server", "client", "producer", "consumer"] as const;

/** One span as decoded: the domain's IncomingSpan, before GenAI attributes are read from it. */
export type DecodedSpan = IncomingSpan;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function hexId(value: unknown, length: 32 | 16, where: string, optional: boolean): string | null {
  let hex: string;
  if (value instanceof Uint8Array) hex = Buffer.from(value).toString("hex");
  else if (typeof value === "string") hex = value.toLowerCase();
  else if (value === undefined || value === null) hex = "";
  else throw new InvalidInputError(`${where}: expected a hex id`);
  if (hex === "" || /^0+$/.test(hex)) {
    if (optional) return null;
    throw new InvalidInputError(`${where}: missing (an all-zero or empty id is invalid)`);
  }
  if (hex.length !== length || !/^[0-9a-f]+$/.test(hex))
    throw new InvalidInputError(
      `${where}: expected ${length} hex characters, got ${JSON.stringify(String(value)).slice(0, 60)} (OTLP/JSON sends ids as hex, not base64)`,
    );
  return hex;
}

/** Nanoseconds as a decimal string: JSON sends a string or number, protobufjs a Long or number. */
function nanos(value: unknown, where: string): string {
  if (value === undefined || value === null) return "0";
  if (typeof value === "string" && /^\d+$/.test(value)) return value;
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) return BigInt(Math.round(value)).toString();
  if (isObj(value) && "low" in value && "high" in value)
    return protobuf.util.LongBits.from(value as unknown as protobuf.Long)
      .toLong(true)
      .toString();
  throw new InvalidInputError(`${where}: expected unix nanoseconds, got ${JSON.stringify(value)}`);
}

function anyValue(v: unknown): unknown {
  if (!isObj(v)) return null;
  if ("stringValue" in v) return v.stringValue;
  if ("boolValue" in v) return Boolean(v.boolValue);
  if ("intValue" in v) {
    const i = v.intValue;
    if (isObj(i) && "low" in i) return Number(protobuf.util.LongBits.from(i as unknown as protobuf.Long).toNumber());
    return Number(i);
  }
  if ("doubleValue" in v) return Number(v.doubleValue);
  if ("arrayValue" in v) {
    const values = isObj(v.arrayValue) && Array.isArray(v.arrayValue.values) ? v.arrayValue.values : [];
    return values.map(anyValue);
  }
  if ("kvlistValue" in v) return attributes(isObj(v.kvlistValue) ? v.kvlistValue.values : []);
  if ("bytesValue" in v) {
    const b = v.bytesValue;
    return b instanceof Uint8Array ? Buffer.from(b).toString("base64") : String(b);
  }
  return null;
}

function attributes(list: unknown): Record<string, unknown> {
  // No prototype: an attribute named `__proto__` is the sender's data, not this object's prototype
  // (with `{}` it vanished and its value's keys were read as the span's own, e.g. its model).
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (!Array.isArray(list)) return out;
  for (const kv of list) if (isObj(kv) && typeof kv.key === "string") out[kv.key] = anyValue(kv.value);
  return out;
}

function kindName(kind: unknown): string {
  if (typeof kind === "string") return kind.replace(/^SPAN_KIND_/, "").toLowerCase();
  return SPAN_KINDS[typeof kind === "number" ? kind : 0] ?? "unspecified";
}

/** Walks the request (camelCase, as both protobufjs and OTLP/JSON name the fields). */
function collect(request: unknown): DecodedSpan[] {
  if (!isObj(request)) throw new InvalidInputError("request body: expected an ExportTraceServiceRequest object");
  const out: DecodedSpan[] = [];
  const resourceSpans = request.resourceSpans ?? [];
  if (!Array.isArray(resourceSpans)) throw new InvalidInputError("resourceSpans: expected a list");
  resourceSpans.forEach((rs, r) => {
    if (!isObj(rs)) throw new InvalidInputError(`resourceSpans[${r}]: expected an object`);
    const resource = attributes(isObj(rs.resource) ? rs.resource.attributes : []);
    const scopes = rs.scopeSpans ?? [];
    if (!Array.isArray(scopes)) throw new InvalidInputError(`resourceSpans[${r}].scopeSpans: expected a list`);
    scopes.forEach((ss, s) => {
      const spans = isObj(ss) ? (ss.spans ?? []) : [];
      if (!Array.isArray(spans))
        throw new InvalidInputError(`resourceSpans[${r}].scopeSpans[${s}].spans: expected a list`);
      spans.forEach((span, i) => {
        const where = `resourceSpans[${r}].scopeSpans[${s}].spans[${i}]`;
        if (!isObj(span)) throw new InvalidInputError(`${where}: expected an object`);
        const status = isObj(span.status) ? span.status : {};
        const code =
          typeof status.code === "string"
            ? ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"].indexOf(status.code)
            : Number(status.code ?? 0);
        out.push({
          traceId: hexId(span.traceId, 32, `${where}.traceId`, false)!,
          spanId: hexId(span.spanId, 16, `${where}.spanId`, false)!,
          parentSpanId: hexId(span.parentSpanId, 16, `${where}.parentSpanId`, true),
          name: typeof span.name === "string" ? span.name : "",
          kind: kindName(span.kind),
          startNs: nanos(span.startTimeUnixNano, `${where}.startTimeUnixNano`),
          endNs: nanos(span.endTimeUnixNano, `${where}.endTimeUnixNano`),
          attributes: attributes(span.attributes),
          events: (Array.isArray(span.events) ? span.events : []).filter(isObj).map((e, k) => ({
            name: typeof e.name === "string" ? e.name : "",
            timeNs: nanos(e.timeUnixNano, `${where}.events[${k}].timeUnixNano`),
            attributes: attributes(e.attributes),
          })),
          status: {
            code: Number.isFinite(code) && code >= 0 ? code : 0,
            message: typeof status.message === "string" ? status.message : "",
          },
          resource,
        });
      });
    });
  });
  return out;
}

export function decodeProtobuf(body: Buffer): DecodedSpan[] {
  let message: protobuf.Message;
  try {
    message = RequestType.decode(body);
  } catch (error) {
    throw new InvalidInputError(
      `request body is not a valid OTLP protobuf ExportTraceServiceRequest (truncated?): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return collect(RequestType.toObject(message, { defaults: false, arrays: true, longs: String }));
}

export function decodeJson(body: Buffer): DecodedSpan[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new InvalidInputError(
      `request body is not valid JSON (truncated?): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return collect(parsed);
}

/** The success answer in the request's encoding (an empty ExportTraceServiceResponse). */
export function encodeResponse(
  kind: "protobuf" | "json",
  rejected = 0,
  message = "",
): Buffer | Record<string, unknown> {
  const value = rejected ? { partialSuccess: { rejectedSpans: rejected, errorMessage: message } } : {};
  if (kind === "json")
    return rejected ? { partialSuccess: { rejectedSpans: String(rejected), errorMessage: message } } : {};
  return Buffer.from(ResponseType.encode(ResponseType.fromObject(value)).finish());
}
