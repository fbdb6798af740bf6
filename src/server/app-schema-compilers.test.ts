/**
 * Fastify's schema compilers load only when a route declares a Fastify schema (see app.ts): such a
 * route is still validated by Ajv and serialised by fast-json-stringify, as before.
 */
import { describe, expect, it } from "vitest";
import { buildApp } from "./app.js";
import type { Services } from "./services.js";

describe("Fastify schema compilers, loaded when a route needs them", () => {
  it("validate a route's querystring schema and serialise its response schema", async () => {
    const services = { config: { authFailuresPerMinute: 10 } } as unknown as Services;
    const { app } = await buildApp({
      services,
      routes: [],
      beforeReady: async (app) => {
        app.get(
          "/schema-check",
          {
            schema: {
              querystring: { type: "object", properties: { n: { type: "integer" } }, required: ["n"] },
              response: { 200: { type: "object", properties: { n: { type: "integer" } } } },
            },
          },
          async (request) => ({ n: (request.query as { n: number }).n, dropped: "by the serialiser" }),
        );
        await Promise.resolve();
      },
    });
    try {
      const missing = await app.inject({ method: "GET", url: "/schema-check" });
      expect(missing.statusCode).toBe(400);
      const ok = await app.inject({ method: "GET", url: "/schema-check?n=3" });
      expect(ok.statusCode).toBe(200);
      // Ajv coerced the text to an integer; the response schema left out the unlisted field.
      expect(ok.json()).toEqual({ n: 3 });
    } finally {
      await app.close();
    }
  });
});
