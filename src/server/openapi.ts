import { z } from "zod";
import { assignOperationIds } from "./operation-ids.js";
import { changesState, type AnyRoute } from "./route-kit.js";

const ERROR_SCHEMA = {
  type: "object",
  properties: {
    error: {
      type: "object",
      properties: {
        code: { type: "string" },
        message: { type: "string" },
        details: {},
        request_id: { type: "string", description: "The X-Request-Id of the request; server logs carry it." },
      },
      required: ["code", "message", "request_id"],
    },
  },
  required: ["error"],
};

function jsonSchema(schema: z.ZodType, io: "input" | "output"): unknown {
  try {
    return z.toJSONSchema(schema, { io, unrepresentable: "any" });
  } catch {
    return {};
  }
}

function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)\*?/g, "{$1}").replace(/\*$/, "{path}");
}

/** The OpenAPI 3.1 document, generated from the same route definitions the server runs. */
export function buildOpenApi(routes: AnyRoute[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const operationIds = assignOperationIds(routes);
  for (const route of routes) {
    const path = openApiPath(route.url);
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ["path", route.params],
      ["query", route.query],
    ] as const) {
      if (!schema) continue;
      const js = jsonSchema(schema, "input") as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, prop] of Object.entries(js.properties ?? {})) {
        parameters.push({
          name,
          in: where,
          required: where === "path" || (js.required ?? []).includes(name),
          schema: prop,
        });
      }
    }
    const security =
      route.auth === "bearer" ? [{ bearer: [] }] : route.auth === "hmac" ? [{ webhookSignature: [] }] : [];
    const operation: Record<string, unknown> = {
      operationId: operationIds.get(route),
      summary: route.summary,
      description: route.description,
      tags: route.tags,
      parameters,
      security,
      "x-tandem-role": route.role,
      "x-tandem-changes-state": changesState(route),
      responses: {
        [String(route.status ?? 200)]: {
          description: "success",
          content: route.response
            ? { "application/json": { schema: jsonSchema(route.response, "output") } }
            : undefined,
        },
        default: { description: "error", content: { "application/json": { schema: ERROR_SCHEMA } } },
      },
    };
    if (route.body) {
      operation.requestBody = {
        required: true,
        content: { "application/json": { schema: jsonSchema(route.body, "input") } },
      };
    }
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: "3.1.0",
    info: { title: "Tandem API", version },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer" },
        webhookSignature: { type: "apiKey", in: "header", name: "X-Hub-Signature-256" },
      },
    },
    paths,
  };
}
