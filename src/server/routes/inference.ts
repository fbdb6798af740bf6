/**
 * The prediction protocols. No `:project` in these URLs: the project is the `X-Tandem-Project`
 * header, else `default` (the route kit does it).
 *
 * - `POST /v1/endpoints/:endpoint/predict` `{"instances": [...]}` → `{predictions, prediction_ids,
 *   model_version, request_id}`; `POST /v1/endpoints/:endpoint/feedback` `[{prediction_id, label}]`.
 * - Open Inference Protocol v2 (KServe/Triton): in oip-v2.ts.
 *
 * Access: predicting and sending feedback need `viewer` in the project — an application gets a
 * token capped to viewer, which can call models but never change an endpoint. Health and readiness
 * are public, for load balancers. `X-Tandem-Routing-Key` makes the canary choice sticky.
 */
import { z } from "zod";
import { InvalidInputError } from "../../core/errors.js";
import { defineRoute, JsonText, type AnyRoute } from "../route-kit.js";

export const ROUTING_HEADER = "x-tandem-routing-key";
export const endpointParams = z.object({ endpoint: z.string() });

export function header(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" && value ? value : undefined;
}

const predictBody = z.object({ instances: z.array(z.unknown()).max(10_000) });

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
      const syncing = runtime.syncBeforeServing(project, params.endpoint);
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
      // The predictions' JSON text is the one the log keeps: made once, not once more by the serialiser.
      return new JsonText(
        `{"predictions":${r.predictionsJson},"prediction_ids":${JSON.stringify(r.predictionIds)},` +
          `"model_version":${r.version},"request_id":${JSON.stringify(r.requestId)}}`,
      );
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
];
