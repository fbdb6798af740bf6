/**
 * The API reference page at /api/docs: Swagger UI rendering /api/v1/openapi.json. Its files come
 * from an npm package (@fastify/swagger-ui ships Swagger UI's static build), so the page works
 * without a network; its Content-Security-Policy lets it reach only this server (no validator
 * badge, no fonts from elsewhere). "Try it out" authenticates with a bearer token, or with the UI's
 * session cookie when the browser is signed in.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { z } from "zod";
import { NotFoundError } from "../../core/errors.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";

const SWAGGER_UI = join(dirname(createRequire(import.meta.url).resolve("@fastify/swagger-ui")), "static");

/**
 * The files the page loads, and their types; nothing else in the package is served. A Map: the file
 * name comes from the URL, and an object literal would answer `toString` or `constructor` too.
 */
const FILES = new Map([
  ["swagger-ui.css", "text/css; charset=utf-8"],
  ["index.css", "text/css; charset=utf-8"],
  ["swagger-ui-bundle.js", "text/javascript; charset=utf-8"],
  ["swagger-ui-standalone-preset.js", "text/javascript; charset=utf-8"],
  ["favicon-32x32.png", "image/png"],
]);

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // Swagger UI sets style attributes on its elements.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Tandem API reference</title>
    <link rel="stylesheet" href="/api/docs/swagger-ui.css" />
    <link rel="stylesheet" href="/api/docs/index.css" />
    <link rel="icon" type="image/png" href="/api/docs/favicon-32x32.png" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/api/docs/swagger-ui-bundle.js"></script>
    <script src="/api/docs/swagger-ui-standalone-preset.js"></script>
    <script src="/api/docs/init.js"></script>
  </body>
</html>
`;

// A file rather than an inline script, so the CSP needs no 'unsafe-inline' for scripts.
const INIT = `window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  displayOperationId: true,
  // Two hundred operations: start with the areas folded, and a filter by area.
  docExpansion: "none",
  filter: true,
  persistAuthorization: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
});
`;

const cache = new Map<string, Buffer>();

export const apiDocsRoutes: AnyRoute[] = [
  defineRoute({
    method: "GET",
    url: "/api/docs",
    operationId: "getApiReference",
    summary: "The API reference: this OpenAPI document rendered by Swagger UI (HTML; needs no network).",
    tags: ["system"],
    auth: "none",
    role: null,
    raw: true,
    handler: async ({ reply }) =>
      reply.header("content-security-policy", CSP).type("text/html; charset=utf-8").send(PAGE),
  }),
  defineRoute({
    method: "GET",
    url: "/api/docs/:file",
    operationId: "getApiReferenceFile",
    summary: "A file of the API reference page (Swagger UI's scripts and styles).",
    tags: ["system"],
    auth: "none",
    role: null,
    raw: true,
    params: z.object({ file: z.string() }),
    handler: async ({ params, reply }) => {
      if (params.file === "init.js") return reply.type("text/javascript; charset=utf-8").send(INIT);
      const type = FILES.get(params.file);
      if (!type) throw new NotFoundError(`no file ${params.file} in the API reference`);
      let body = cache.get(params.file);
      if (!body) {
        body = readFileSync(join(SWAGGER_UI, params.file));
        cache.set(params.file, body);
      }
      return reply.header("cache-control", "public, max-age=3600").type(type).send(body);
    },
  }),
];
