/**
 * Open Inference Protocol v2 (KServe, Triton, Seldon MLServer), over Tandem's endpoints:
 * - `GET /v2` server metadata; `/v2/health/live|ready` for load balancers (public);
 * - `GET /v2/models/{endpoint}[/ready]` and `POST /v2/models/{endpoint}/infer`: the endpoint as its
 *   traffic split serves it (canary share, sticky per X-Tandem-Routing-Key, shadow mirror);
 * - `/v2/models/{endpoint}/versions/{v}[/ready|/infer]`: one version the endpoint serves now
 *   (primary, canary or shadow), asked for by name: no split, no fallback, logged under that
 *   version. Any other version is 404, naming the ones served.
 * Tensors map to instances in inference-v2.ts.
 */
import { z } from "zod";
import { UnprocessableError } from "../../core/errors.js";
import type { PredictResult, ServingRuntime } from "../../core/serving/runtime.js";
import type { ModelSignature } from "../../core/training/signature.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";
import { PACKAGE_VERSION } from "./system.js";
import { endpointParams, header, ROUTING_HEADER } from "./inference.js";
import { fromV2Inputs, toV2Outputs, v2Metadata, type V2Input } from "./inference-v2.js";

const versionParams = z.object({ endpoint: z.string(), version: z.coerce.number().int().min(1) });

/**
 * A tensor's data: checked to be an array here, its values by the codec in one typed pass. zod's
 * element-by-element check (which copies the array, two objects per element) cost ~15 µs a 64-row
 * request. Documented as the array it is.
 */
const tensorData = z
  .custom<unknown[]>((value) => Array.isArray(value), { message: "Invalid input: expected array" })
  .meta({ type: "array", items: {} });

const v2Tensor = z.object({
  name: z.string(),
  shape: z.array(z.number().int().min(0)),
  datatype: z.string(),
  data: tensorData,
  parameters: z.record(z.string(), z.unknown()).optional(),
});
export const v2Body = z.object({
  id: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  inputs: z.array(v2Tensor).min(1),
  outputs: z.array(z.object({ name: z.string() })).optional(),
});
type V2Body = z.infer<typeof v2Body>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isShape = (v: unknown) => Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && (d as number) >= 0);

/**
 * Whether v2Body accepts a body as it is, checked by hand: zod's parse of it (objects copied key by
 * key, each field's checks run through its machinery) was ~1.5% of a 1-row infer's event loop (CPU
 * profile under load, issue 18). Never looser than v2Body: a body this refuses still goes through
 * zod, which accepts it or words the error. A body it accepts is used as sent, unknown keys left in
 * (zod would strip them); the handlers read the declared fields only.
 */
export function plainV2Body(body: unknown): boolean {
  if (!isObject(body)) return false;
  if (body.id !== undefined && typeof body.id !== "string") return false;
  if (body.parameters !== undefined && !isObject(body.parameters)) return false;
  const { inputs, outputs } = body;
  if (!Array.isArray(inputs) || inputs.length === 0) return false;
  for (const t of inputs as unknown[]) {
    if (!isObject(t)) return false;
    if (typeof t.name !== "string" || typeof t.datatype !== "string" || !Array.isArray(t.data)) return false;
    if (!isShape(t.shape)) return false;
    if (t.parameters !== undefined && !isObject(t.parameters)) return false;
  }
  if (outputs !== undefined) {
    if (!Array.isArray(outputs)) return false;
    for (const o of outputs as unknown[]) if (!isObject(o) || typeof o.name !== "string") return false;
  }
  return true;
}

const metadataWire = z.object({
  name: z.string(),
  versions: z.array(z.string()),
  platform: z.string(),
  inputs: z.array(z.object({ name: z.string(), datatype: z.string(), shape: z.array(z.number()) })),
  outputs: z.array(z.object({ name: z.string(), datatype: z.string(), shape: z.array(z.number()) })),
  parameters: z.record(z.string(), z.string()),
});
const inferWire = z.object({
  model_name: z.string(),
  model_version: z.string(),
  id: z.string(),
  parameters: z.object({ request_id: z.string(), prediction_ids: z.string() }),
  outputs: z.array(
    z.object({ name: z.string(), datatype: z.string(), shape: z.array(z.number()), data: z.array(z.unknown()) }),
  ),
});
const readyWire = z.object({ name: z.string(), ready: z.boolean() });

/**
 * Protocol extensions this server implements beyond the core routes (KServe's server metadata
 * lists them): the sticky canary choice by X-Tandem-Routing-Key.
 */
const EXTENSIONS = ["tandem_routing_key"];

function signatureOf(runtime: ServingRuntime, project: string, endpoint: string, version?: number): ModelSignature {
  const runner =
    version === undefined
      ? runtime.get(project, endpoint).primary
      : runtime.servedVersion(project, endpoint, version).runner;
  if (!runner?.signature)
    throw new UnprocessableError(
      `endpoint ${endpoint}: its model has no signature, so v2 tensors cannot be mapped; use /v1/endpoints/${endpoint}/predict`,
    );
  return runner.signature;
}

function inferAnswer(endpoint: string, body: V2Body, signature: ModelSignature, r: PredictResult) {
  return {
    model_name: endpoint,
    model_version: String(r.version),
    id: body.id ?? r.requestId,
    parameters: { request_id: r.requestId, prediction_ids: r.predictionIds.join(",") },
    outputs: toV2Outputs(
      r.predictions,
      signature,
      body.outputs?.map((o) => o.name),
    ),
  };
}

export const oipV2Routes: AnyRoute[] = [
  defineRoute({
    method: "GET",
    url: "/v2",
    summary: "Open Inference Protocol: server metadata (name, version, extensions).",
    tags: ["serving"],
    auth: "none",
    role: null,
    response: z.object({ name: z.string(), version: z.string(), extensions: z.array(z.string()) }),
    handler: async () => ({ name: "tandem", version: PACKAGE_VERSION, extensions: EXTENSIONS }),
  }),
  defineRoute({
    method: "GET",
    url: "/v2/health/live",
    summary: "Open Inference Protocol: the server is live.",
    tags: ["serving"],
    auth: "none",
    role: null,
    response: z.object({ live: z.boolean() }),
    handler: async () => ({ live: true }),
  }),
  defineRoute({
    method: "GET",
    url: "/v2/health/ready",
    summary: "Open Inference Protocol: the server is ready (store reachable, endpoints loaded).",
    tags: ["serving"],
    auth: "none",
    role: null,
    response: z.object({ ready: z.boolean() }),
    handler: async ({ services }) => {
      await services.serving.runtime.syncIfStale();
      return { ready: true };
    },
  }),
  defineRoute({
    method: "GET",
    url: "/v2/models/:endpoint/ready",
    summary: "Open Inference Protocol: the endpoint's primary model is loaded and warm (503 until then).",
    tags: ["serving"],
    auth: "none",
    role: null,
    params: endpointParams,
    response: readyWire,
    handler: async ({ services, project, params, reply }) => {
      await services.serving.runtime.syncIfStale();
      const ready = services.serving.runtime.isReady(project, params.endpoint);
      if (!ready) void reply.status(503);
      return { name: params.endpoint, ready };
    },
  }),
  defineRoute({
    method: "GET",
    url: "/v2/models/:endpoint",
    summary: "Open Inference Protocol: the endpoint's model metadata (inputs, outputs, the versions it serves).",
    tags: ["serving"],
    auth: "bearer",
    role: "viewer",
    params: endpointParams,
    response: metadataWire,
    handler: async ({ services, project, params }) => {
      await services.serving.runtime.syncIfStale();
      const live = services.serving.runtime.get(project, params.endpoint);
      const runners = [live.primary, live.canary, live.shadow].filter((r) => r !== null);
      return v2Metadata(params.endpoint, live.endpoint.model, runners);
    },
  }),
  defineRoute({
    method: "POST",
    url: "/v2/models/:endpoint/infer",
    summary:
      "Open Inference Protocol: infer through the endpoint's traffic split (one FP32 tensor [N, F] named as the model input, or one tensor per feature).",
    tags: ["serving"],
    auth: "bearer",
    role: "viewer",
    changesState: false,
    params: endpointParams,
    body: v2Body,
    plainBody: plainV2Body,
    response: inferWire,
    handler: async ({ services, project, params, body, request, reply }) => {
      const runtime = services.serving.runtime;
      await runtime.syncIfStale();
      const signature = signatureOf(runtime, project, params.endpoint);
      const instances = fromV2Inputs(body.inputs as V2Input[], signature);
      const r = await runtime.predict(
        project,
        params.endpoint,
        instances,
        header(request.headers[ROUTING_HEADER]),
        body.id ?? request.id,
      );
      void reply.header("x-tandem-slot", r.slot);
      return inferAnswer(params.endpoint, body, signature, r);
    },
  }),
  defineRoute({
    method: "GET",
    url: "/v2/models/:endpoint/versions/:version",
    summary: "Open Inference Protocol: metadata of one version the endpoint serves now (404 names the served ones).",
    tags: ["serving"],
    auth: "bearer",
    role: "viewer",
    params: versionParams,
    response: metadataWire,
    handler: async ({ services, project, params }) => {
      const runtime = services.serving.runtime;
      await runtime.syncIfStale();
      const { runner } = runtime.servedVersion(project, params.endpoint, params.version);
      return v2Metadata(params.endpoint, runtime.get(project, params.endpoint).endpoint.model, [runner]);
    },
  }),
  defineRoute({
    method: "GET",
    url: "/v2/models/:endpoint/versions/:version/ready",
    summary: "Open Inference Protocol: one served version is loaded and warm (503 until then; 404 if not served).",
    tags: ["serving"],
    auth: "none",
    role: null,
    params: versionParams,
    response: readyWire,
    handler: async ({ services, project, params, reply }) => {
      await services.serving.runtime.syncIfStale();
      const ready = services.serving.runtime.servedVersion(project, params.endpoint, params.version).runner.ready();
      if (!ready) void reply.status(503);
      return { name: params.endpoint, ready };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/v2/models/:endpoint/versions/:version/infer",
    summary:
      "Open Inference Protocol: infer with one version the endpoint serves now (primary, canary or shadow), skipping the traffic split; logged under that version.",
    tags: ["serving"],
    auth: "bearer",
    role: "viewer",
    changesState: false,
    params: versionParams,
    body: v2Body,
    plainBody: plainV2Body,
    response: inferWire,
    handler: async ({ services, project, params, body, request, reply }) => {
      const runtime = services.serving.runtime;
      await runtime.syncIfStale();
      const signature = signatureOf(runtime, project, params.endpoint, params.version);
      const instances = fromV2Inputs(body.inputs as V2Input[], signature);
      const r = await runtime.predictVersion(
        project,
        params.endpoint,
        params.version,
        instances,
        body.id ?? request.id,
      );
      void reply.header("x-tandem-slot", r.slot);
      return inferAnswer(params.endpoint, body, signature, r);
    },
  }),
];
