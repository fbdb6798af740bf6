/**
 * Datasets over HTTP, under `/api/v1/projects/:project/datasets`. Adding a version:
 *   POST  …/datasets/NAME/blobs/missing   {sha256s}            → {missing}     (which blobs to upload)
 *   PUT   …/datasets/NAME/blobs/SHA       octet-stream body     → {sha256,size} (verified against SHA)
 *   POST  …/datasets/NAME/blobs           octet-stream body     → {sha256,size} (hash computed here)
 *   POST  …/datasets/NAME/versions        {entries, kind, …}    → {created, version}
 * An interrupted add resumes by asking `missing` again: blobs already stored are not sent twice.
 * Reading: `POST …/versions/V/query {sql, limit}` runs one read-only SELECT (the UI's SQL preview).
 */
import { Readable } from "node:stream";
import { z } from "zod";
import { MAX_QUERY_ROWS } from "../../core/data/query.js";
import { NotFoundError } from "../../core/errors.js";
import { defineRoute, type AnyRoute, type RouteDef } from "../route-kit.js";
import { datasetProfileToWire, diffToWire, entryWire, reportToWire, versionToWire, versionWire } from "./data-wire.js";

const BASE = "/api/v1/projects/:project/datasets";
const nameParams = z.object({ project: z.string(), name: z.string() });
const versionParams = z.object({ project: z.string(), name: z.string(), version: z.string() });
const validationWire = z.object({
  id: z.string(),
  dataset: z.string(),
  ok: z.boolean(),
  report: z.unknown(),
  run_id: z.string().nullable(),
  created_at: z.number(),
  created_by: z.string(),
});

const ref = (name: string, version: string) => `${name}@${version}`;

/** An octet-stream upload's body as a stream, whichever way Fastify parsed it. */
export function bodyStream(request: { body: unknown; raw: Readable }): Readable {
  const body = request.body;
  if (body instanceof Readable) return body;
  if (Buffer.isBuffer(body) || typeof body === "string") return Readable.from([Buffer.from(body)]);
  return request.raw;
}

const UPLOAD_LIMIT = Number.MAX_SAFE_INTEGER;

export const dataRoutes: AnyRoute[] = [
  defineRoute({
    method: "GET",
    url: BASE,
    summary: "The project's datasets with their latest version number.",
    tags: ["data"],
    auth: "bearer",
    role: "viewer",
    params: z.object({ project: z.string() }),
    response: z.object({
      datasets: z.array(
        z.object({
          name: z.string(),
          latest_version: z.number().nullable(),
          created_at: z.number(),
          created_by: z.string(),
        }),
      ),
    }),
    handler: async ({ services, project }) => ({
      datasets: (await services.data.listDatasets(project)).map((d) => ({
        name: d.name,
        latest_version: d.latestVersion,
        created_at: d.createdAt,
        created_by: d.createdBy,
      })),
    }),
  }),
  defineRoute({
    method: "POST",
    url: `${BASE}/:name/blobs/missing`,
    summary: "Of the given sha256 digests, those the server does not store (what a client must upload).",
    tags: ["data"],
    auth: "bearer",
    role: "member",
    changesState: false,
    params: nameParams,
    body: z.object({ sha256s: z.array(z.string().regex(/^[0-9a-f]{64}$/)).max(100_000) }),
    response: z.object({ missing: z.array(z.string()) }),
    handler: async ({ services, body }) => ({ missing: await services.data.missingBlobs(body.sha256s) }),
  }),
  defineRoute({
    method: "PUT",
    url: `${BASE}/:name/blobs/:sha`,
    summary: "Upload one blob as application/octet-stream; refused unless its bytes hash to :sha.",
    tags: ["data"],
    auth: "bearer",
    role: "member",
    params: z.object({ project: z.string(), name: z.string(), sha: z.string().regex(/^[0-9a-f]{64}$/) }),
    bodyLimit: UPLOAD_LIMIT,
    response: z.object({ sha256: z.string(), size: z.number() }),
    handler: async ({ services, params, request }) => services.data.putBlob(bodyStream(request), params.sha),
  }),
  defineRoute({
    method: "POST",
    url: `${BASE}/:name/blobs`,
    summary: "Upload one blob as application/octet-stream; the server hashes it and answers with its sha256.",
    tags: ["data"],
    auth: "bearer",
    role: "member",
    params: nameParams,
    bodyLimit: UPLOAD_LIMIT,
    response: z.object({ sha256: z.string(), size: z.number() }),
    handler: async ({ services, request }) => services.data.putBlob(bodyStream(request)),
  }),
  defineRoute({
    method: "POST",
    url: `${BASE}/:name/versions`,
    summary: "Record a version from uploaded blobs; identical to the latest → no new version (created: false).",
    tags: ["data"],
    auth: "bearer",
    role: "member",
    params: nameParams,
    body: z.object({
      entries: z.array(entryWire).min(1).max(1_000_000),
      kind: z.enum(["file", "dir"]),
      message: z.string().max(10_000).nullable().optional(),
      profile: z.boolean().default(true),
    }),
    bodyLimit: 512 * 1024 * 1024,
    response: z.object({ created: z.boolean(), version: versionWire }),
    handler: async ({ services, params, body, project, principal, reply }) => {
      const { version, created } = await services.data.createVersion(principal.userName, project, params.name, body);
      reply.status(created ? 201 : 200);
      return { created, version: versionToWire(version) };
    },
  }) as RouteDef,
  defineRoute({
    method: "GET",
    url: `${BASE}/:name/versions`,
    summary: "A dataset's versions, newest first.",
    tags: ["data"],
    auth: "bearer",
    role: "viewer",
    params: nameParams,
    response: z.object({ versions: z.array(versionWire) }),
    handler: async ({ services, params, project }) => ({
      versions: (await services.data.listVersions(project, params.name)).map(versionToWire),
    }),
  }),
  defineRoute({
    method: "GET",
    url: `${BASE}/:name/versions/:version`,
    summary:
      "One version (N, latest, sha256:…, or a tag): its files and its profile (sketch state with ?sketches=true).",
    tags: ["data"],
    auth: "bearer",
    role: "viewer",
    params: versionParams,
    query: z.object({ sketches: z.enum(["true", "false"]).default("false") }),
    response: z.object({
      version: versionWire,
      entries: z.array(entryWire),
      profile: z.record(z.string(), z.unknown()).nullable(),
    }),
    handler: async ({ services, params, query, project }) => {
      const v = await services.data.resolve(project, ref(params.name, params.version));
      return {
        version: versionToWire(v),
        entries: await services.data.entries(v),
        profile: datasetProfileToWire(await services.data.profile(v), query.sketches === "true"),
      };
    },
  }),
  defineRoute({
    method: "GET",
    url: `${BASE}/:name/versions/:version/files/*`,
    summary: "Download one file of a version (verified against its hash as it streams).",
    tags: ["data"],
    auth: "bearer",
    role: "viewer",
    params: z.object({ project: z.string(), name: z.string(), version: z.string(), "*": z.string() }),
    raw: true,
    handler: async ({ services, params, project, reply }) => {
      const v = await services.data.resolve(project, ref(params.name, params.version));
      const entry = (await services.data.entries(v)).find((e) => e.path === params["*"]);
      if (!entry) throw new NotFoundError(`${v.name}@${v.version} has no file ${JSON.stringify(params["*"])}`);
      const stream = await services.data.blob(entry.sha256);
      return reply
        .type("application/octet-stream")
        .header("content-length", entry.size)
        .header("x-tandem-sha256", entry.sha256)
        .send(stream);
    },
  }),
  defineRoute({
    method: "GET",
    url: `${BASE}/:name/diff`,
    summary: "What changed between two versions: files, schema, statistics that moved.",
    tags: ["data"],
    auth: "bearer",
    role: "viewer",
    params: nameParams,
    query: z.object({ from: z.string(), to: z.string() }),
    response: z.object({ from: versionWire, to: versionWire, diff: z.record(z.string(), z.unknown()) }),
    handler: async ({ services, params, query, project }) => {
      const qualify = (r: string) => (r.includes("@") ? r : ref(params.name, r));
      const { from, to, diff } = await services.data.diff(project, qualify(query.from), qualify(query.to));
      return { from: versionToWire(from), to: versionToWire(to), diff: diffToWire(diff) };
    },
  }),
  defineRoute({
    method: "POST",
    url: `${BASE}/:name/tags`,
    summary: "Point a tag (a label) at a version; moving an existing tag is recorded too.",
    tags: ["data"],
    auth: "bearer",
    role: "member",
    params: nameParams,
    body: z.object({ version: z.string(), label: z.string() }),
    response: z.object({ version: versionWire, previous: z.number().nullable() }),
    handler: async ({ services, params, body, project, principal }) => {
      const { version, previous } = await services.data.tag(
        principal.userName,
        project,
        ref(params.name, body.version),
        body.label,
      );
      return { version: versionToWire(version), previous };
    },
  }),
  defineRoute({
    method: "POST",
    url: `${BASE}/:name/versions/:version/validate`,
    summary: "Check a version against expectations; the report is stored (ok: false is a verdict, not an error).",
    tags: ["data"],
    auth: "bearer",
    role: "member",
    params: versionParams,
    body: z.object({ expectations: z.record(z.string(), z.unknown()), run_id: z.string().nullable().optional() }),
    response: validationWire,
    handler: async ({ services, params, body, project, principal }) => {
      const r = await services.data.validate(
        principal.userName,
        project,
        ref(params.name, params.version),
        body.expectations,
        { runId: body.run_id ?? null },
      );
      return {
        id: r.id,
        dataset: `${r.name}@${r.version}`,
        ok: r.ok,
        report: reportToWire(r.report),
        run_id: r.runId,
        created_at: r.createdAt,
        created_by: r.createdBy,
      };
    },
  }),
  defineRoute({
    method: "POST",
    url: `${BASE}/:name/versions/:version/query`,
    summary:
      "Run one read-only SELECT over the version's tabular files (views named after the files, `dataset` for all of them); rows up to the limit.",
    tags: ["data"],
    auth: "bearer",
    role: "viewer",
    params: versionParams,
    body: z.object({
      sql: z.string().min(1).max(100_000),
      limit: z.number().int().min(1).max(MAX_QUERY_ROWS).optional(),
    }),
    response: z.object({
      dataset: z.string(),
      views: z.array(z.object({ name: z.string(), file: z.string().nullable() })),
      columns: z.array(z.object({ name: z.string(), type: z.string() })),
      rows: z.array(z.array(z.unknown())),
      truncated: z.boolean(),
      limit: z.number(),
    }),
    handler: async ({ services, params, body, project }) => {
      const r = await services.data.query(project, ref(params.name, params.version), body.sql, { limit: body.limit });
      return {
        dataset: `${r.version.name}@${r.version.version}`,
        views: r.views,
        columns: r.columns,
        rows: r.rows,
        truncated: r.truncated,
        limit: r.limit,
      };
    },
  }),
  defineRoute({
    method: "GET",
    url: `${BASE}/:name/validations`,
    summary: "Stored validation reports of a dataset (of one version with ?version=N), newest first.",
    tags: ["data"],
    auth: "bearer",
    role: "viewer",
    params: nameParams,
    query: z.object({ version: z.coerce.number().int().min(1).optional() }),
    response: z.object({ validations: z.array(validationWire) }),
    handler: async ({ services, params, query, project }) => ({
      validations: (await services.data.listValidations(project, params.name, query.version ?? null)).map((r) => ({
        id: r.id,
        dataset: `${r.name}@${r.version}`,
        ok: r.ok,
        report: reportToWire(r.report),
        run_id: r.runId,
        created_at: r.createdAt,
        created_by: r.createdBy,
      })),
    }),
  }),
  defineRoute({
    method: "GET",
    url: "/api/v1/projects/:project/dataset-events",
    summary: "New dataset versions in order (the feed the `data` trigger polls): events with seq > after.",
    tags: ["data"],
    auth: "bearer",
    role: "viewer",
    params: z.object({ project: z.string() }),
    query: z.object({
      after: z.coerce.number().int().min(0).default(0),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
    response: z.object({
      events: z.array(
        z.object({ seq: z.number(), name: z.string(), version: z.number(), kind: z.string(), at: z.number() }),
      ),
    }),
    handler: async ({ services, query, project }) => ({
      events: (await services.data.eventsAfter(query.after, query.limit, project)).map((e) => ({
        seq: e.seq,
        name: e.name,
        version: e.version,
        kind: e.kind,
        at: e.at,
      })),
    }),
  }),
];
