/**
 * The prediction protocols. No `:project` in these URLs: the project is the `X-Tandem-Project`
 * header, else `default` (the route kit does it).
 *
 * - `POST /v1/endpoints/:endpoint/predict` `{"instances": [...]}` → `{predictions, prediction_ids,
 *   model_version, request_id}`; `POST /v1/endpoints/:endpoint/feedback` `[{prediction_id, label}]`.
 * - Open Inference Protocol v2 (KServe/Triton): `/v2/health/live|ready`, `/v2/models/:endpoint`,
 *   `/v2/models/:endpoint/ready`, `POST /v2/models/:endpoint/infer`.
 *
 * Access: predicting and sending feedback need `viewer` in the project — an application gets a
 * token capped to viewer, which can call models but never change an endpoint. Health and readiness
 * are public, for load balancers. `X-Tandem-Routing-Key` makes the canary choice sticky.
 */
import { z } from "zod";
import { InvalidInputError, UnprocessableError } from "../../core/errors.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";
import { fromV2Inputs, toV2Outputs, v2Metadata, type V2Input } from "./inference-v2.js";

const ROUTING_HEADER = "x-tandem-routing-key";
const endpointParams = z.object({ endpoint: z.string() });

function header(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" && value ? value : undefined;
}

const predictBody = z.object({ instances: z.array(z.unknown()).max(10_000) });
const v2Tensor = z.object({
  name: z.string(),
  shape: z.array(z.number().int().min(0)),
  datatype: z.string(),
  data: z.array(z.unknown()),
  parameters: z.record(z.string(), z.unknown()).optional(),
});
const v2Body = z.object({
  id: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  inputs: z.array(v2Tensor).min(1),
  outputs: z.array(z.object({ name: z.string() })).optional(),
});

export const inferenceRoutes: AnyRoute[] = [
  defineRoute({
    method: "POST",
    url: "/v1/endpoints/:endpoint/predict",
    summary: "Predict: instances (objects keyed by feature name, or arrays in signature order) → predictions.",
    tags: ["serving"],
    auth: "bearer",
    role: "viewer",
    // Answers do not change what the platform serves; the log is data, not state (no project auto-creation).
    changesState: false,
    params: endpointParams,
    body: predictBody,
    response: z.object({
      predictions: z.array(z.unknown()),
      prediction_ids: z.array(z.string()),
      model_version: z.number(),
      request_id: z.string(),
    }),
    handler: async ({ services, project, params, body, request, reply }) => {
      const runtime = services.serving.runtime;
      const syncing = runtime.syncIfStale();
      if (syncing) await syncing;
      // The request id of the whole app: the caller's X-Request-Id when it sent a usable one.
      const requestId = request.id;
      const r = await runtime.predict(
        project,
        params.endpoint,
        body.instances,
        header(request.headers[ROUTING_HEADER]),
        requestId,
      );
      void reply.headers({ "x-tandem-model-version": `${r.model}@${r.version}`, "x-tandem-slot": r.slot });
      return {
        predictions: r.predictions,
        prediction_ids: r.predictionIds,
        model_version: r.version,
        request_id: r.requestId,
      };
    },
  }),
  defineRoute({
    method: "POST",
    url: "/v1/endpoints/:endpoint/feedback",
    summary: "Ground truth for earlier predictions: `[{prediction_id, label}]` (or `{feedback: [...]}`).",
    tags: ["serving"],
    auth: "bearer",
    role: "viewer",
    params: endpointParams,
    body: z.union([
      z.array(z.object({ prediction_id: z.string(), label: z.unknown() })).max(100_000),
      z.object({ feedback: z.array(z.object({ prediction_id: z.string(), label: z.unknown() })).max(100_000) }),
    ]),
    response: z.object({ accepted: z.number(), unknown_prediction_ids: z.array(z.string()) }),
    handler: async ({ services, project, params, body }) => {
      const items = Array.isArray(body) ? body : body.feedback;
      items.forEach((item, i) => {
        if (item.label === undefined) throw new InvalidInputError(`request body[${i}].label: required`);
      });
      // Predictions reach the log within one flush window; make sure ours are there before matching.
      await services.serving.logger.flush();
      const at = Date.now();
      const unknown = await services.serving.log.addFeedback(
        items.map((f) => ({ predictionId: f.prediction_id, project, endpoint: params.endpoint, label: f.label, at })),
      );
      return { accepted: items.length - unknown.length, unknown_prediction_ids: unknown };
    },
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
    summary: "Open Inference Protocol: the endpoint's primary model is loaded and warm.",
    tags: ["serving"],
    auth: "none",
    role: null,
    params: endpointParams,
    response: z.object({ name: z.string(), ready: z.boolean() }),
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
    summary: "Open Inference Protocol: the endpoint's model metadata (inputs, outputs, version).",
    tags: ["serving"],
    auth: "bearer",
    role: "viewer",
    params: endpointParams,
    handler: async ({ services, project, params }) => {
      await services.serving.runtime.syncIfStale();
      return v2Metadata(services.serving.runtime.get(project, params.endpoint), params.endpoint);
    },
  }),
  defineRoute({
    method: "POST",
    url: "/v2/models/:endpoint/infer",
    summary:
      "Open Inference Protocol: infer (one FP32 tensor [N, F] named as the model input, or one tensor per feature).",
    tags: ["serving"],
    auth: "bearer",
    role: "viewer",
    changesState: false,
    params: endpointParams,
    body: v2Body,
    handler: async ({ services, project, params, body, request, reply }) => {
      const runtime = services.serving.runtime;
      await runtime.syncIfStale();
      const live = runtime.get(project, params.endpoint);
      const signature = live.primary?.signature ?? null;
      if (!signature)
        throw new UnprocessableError(
          `endpoint ${params.endpoint}: its model has no signature, so v2 tensors cannot be mapped; use /v1/endpoints/${params.endpoint}/predict`,
        );
      const instances = fromV2Inputs(body.inputs as V2Input[], signature);
      const requestId = body.id ?? request.id;
      const r = await runtime.predict(
        project,
        params.endpoint,
        instances,
        header(request.headers[ROUTING_HEADER]),
        requestId,
      );
      void reply.header("x-tandem-slot", r.slot);
      const outputs = toV2Outputs(
        r.predictions,
        signature,
        body.outputs?.map((o) => o.name),
      );
      return {
        model_name: params.endpoint,
        model_version: String(r.version),
        id: requestId,
        parameters: { request_id: r.requestId, prediction_ids: r.predictionIds.join(",") },
        outputs,
      };
    },
  }),
];
