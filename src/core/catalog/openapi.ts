/**
 * The API a served endpoint offers, as the OpenAPI document a Backstage `API` entity carries in
 * `spec.definition`: the Open Inference Protocol v2 infer route and the plain predict route (with the
 * model's features as the instance schema when its signature names them), or for an LLM endpoint the
 * OpenAI-compatible chat completions route.
 */
import type { CatalogEndpoint, CatalogModel } from "./model.js";

type Schema = Record<string, unknown>;

function instanceSchema(model: CatalogModel | undefined): Schema {
  const features = model?.signature?.features ?? [];
  if (features.length === 0) return { type: "object", additionalProperties: true };
  return {
    type: "object",
    properties: Object.fromEntries(
      features.map((f) => [
        f.name,
        f.type === "categorical" ? { type: "string", enum: f.categories ?? undefined } : { type: "number" },
      ]),
    ),
    required: features.map((f) => f.name),
  };
}

function predictionSchema(model: CatalogModel | undefined): Schema {
  if (model?.signature?.task === "regression") return { type: "object", properties: { value: { type: "number" } } };
  return {
    type: "object",
    properties: {
      label: { oneOf: [{ type: "string" }, { type: "number" }] },
      probabilities: { type: "object", additionalProperties: { type: "number" } },
    },
  };
}

const json = (schema: Schema) => ({ content: { "application/json": { schema } } });

function modelServerApi(e: CatalogEndpoint, model: CatalogModel | undefined, serverUrl: string): Schema {
  const name = encodeURIComponent(e.name);
  const tensor = {
    type: "object",
    required: ["name", "shape", "datatype", "data"],
    properties: {
      name: { type: "string" },
      shape: { type: "array", items: { type: "integer" } },
      datatype: { type: "string" },
      data: { type: "array" },
    },
  };
  return {
    openapi: "3.0.3",
    info: { title: `${e.name} (Tandem model endpoint)`, version: String(e.primaryVersion ?? "none") },
    servers: [{ url: serverUrl }],
    security: [{ bearer: [] }],
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    paths: {
      [`/v1/endpoints/${name}/predict`]: {
        post: {
          summary: `Predict with ${e.primary}`,
          requestBody: json({
            type: "object",
            required: ["instances"],
            properties: { instances: { type: "array", items: instanceSchema(model) } },
          }),
          responses: {
            "200": json({
              type: "object",
              properties: {
                predictions: { type: "array", items: predictionSchema(model) },
                prediction_ids: { type: "array", items: { type: "string" } },
                model_version: { type: "integer" },
                request_id: { type: "string" },
              },
            }),
          },
        },
      },
      [`/v2/models/${name}/infer`]: {
        post: {
          summary: "Open Inference Protocol v2 inference",
          requestBody: json({
            type: "object",
            required: ["inputs"],
            properties: { id: { type: "string" }, inputs: { type: "array", items: tensor } },
          }),
          responses: {
            "200": json({
              type: "object",
              properties: {
                model_name: { type: "string" },
                model_version: { type: "string" },
                outputs: { type: "array", items: tensor },
              },
            }),
          },
        },
      },
      [`/v2/models/${name}/ready`]: {
        get: { summary: "Ready to serve", responses: { "200": { description: "ready" } } },
      },
    },
  };
}

function llmApi(e: CatalogEndpoint, serverUrl: string): Schema {
  const message = {
    type: "object",
    required: ["role", "content"],
    properties: { role: { type: "string" }, content: { type: "string" } },
  };
  return {
    openapi: "3.0.3",
    info: { title: `${e.name} (Tandem LLM endpoint, OpenAI-compatible)`, version: String(e.primaryVersion ?? "none") },
    servers: [{ url: serverUrl }],
    security: [{ bearer: [] }],
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    paths: {
      [`/v1/endpoints/${encodeURIComponent(e.name)}/chat/completions`]: {
        post: {
          summary: `Chat completion with ${e.primary}`,
          requestBody: json({
            type: "object",
            properties: {
              messages: { type: "array", items: message },
              metadata: {
                type: "object",
                properties: { variables: { type: "object", additionalProperties: { type: "string" } } },
              },
              stream: { type: "boolean" },
            },
          }),
          responses: {
            "200": json({
              type: "object",
              properties: {
                id: { type: "string" },
                model: { type: "string" },
                choices: { type: "array", items: { type: "object", properties: { message } } },
                usage: { type: "object" },
              },
            }),
          },
        },
      },
    },
  };
}

/** The endpoint's API document as JSON text (Backstage wants `definition` as a string). */
export function endpointApiDefinition(e: CatalogEndpoint, model: CatalogModel | undefined, serverUrl: string): string {
  return JSON.stringify(e.llm ? llmApi(e, serverUrl) : modelServerApi(e, model, serverUrl), null, 2);
}
