/**
 * Serves the built web UI (`web/dist`, made by `npm run build:web`) at `/`. Files that exist are sent
 * as they are (hashed assets cached for a year); any other GET that is not an API path gets
 * index.html, so the browser's client routes (/runs/abc, /models/x) survive a reload.
 */
import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join, normalize, sep } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { NotFoundError } from "../core/errors.js";
import { sendError } from "./errors.js";

/** Where `npm run build:web` writes the UI. */
export const WEB_DIST = fileURLToPath(new URL("../../web/dist/", import.meta.url));

/** Paths that belong to the APIs: an unknown one is a JSON 404, never the UI's index.html. */
const API_PREFIXES = ["/api/", "/ajax-api/", "/v1/", "/v2/", "/metrics", "/healthz", "/readyz"];

/**
 * The UI only loads its own scripts and talks to its own origin. Styles allow 'unsafe-inline' because
 * uPlot sizes its canvas through style attributes.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

function securityHeaders(reply: FastifyReply): void {
  reply.header("content-security-policy", CSP);
  reply.header("x-content-type-options", "nosniff");
  reply.header("referrer-policy", "no-referrer");
  reply.header("x-frame-options", "DENY");
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tandem</title></head>
<body><main><h1>Tandem</h1><p>The web UI is not built. Run <code>npm run build:web</code> and restart the server.
The API is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p></main></body></html>`;

/** The file under `root` that a URL path names, or null when it names none (or tries to leave root). */
export function staticFileFor(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes("\0")) return null;
  const relative = normalize(decoded).replace(/^([/\\])+/, "");
  if (relative === "" || relative.startsWith("..")) return null;
  const full = join(root, relative);
  if (!full.startsWith(root.endsWith(sep) ? root : root + sep)) return null;
  try {
    return statSync(full).isFile() ? relative : null;
  } catch {
    return null;
  }
}

export async function mountWebUi(app: FastifyInstance, root: string = WEB_DIST): Promise<void> {
  const built = existsSync(join(root, "index.html"));
  if (built) await app.register(fastifyStatic, { root, serve: false });

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split("?")[0] ?? "/";
    if (API_PREFIXES.some((p) => path.startsWith(p))) {
      return sendError(request, reply, new NotFoundError(`no route ${request.method} ${path}`));
    }
    securityHeaders(reply);
    if (!built) return reply.type("text/html; charset=utf-8").send(NOT_BUILT);
    const file = staticFileFor(root, path);
    if (file) {
      // Vite names everything under assets/ by content hash, so those never change.
      const immutable = file.startsWith(`assets${sep}`) || file.startsWith("assets/");
      return reply.sendFile(file, { maxAge: immutable ? "365d" : 0, immutable, cacheControl: true });
    }
    reply.header("cache-control", "no-cache");
    return reply.sendFile("index.html", { cacheControl: false });
  };
  app.get("/", handler);
  app.get("/*", handler);
}
