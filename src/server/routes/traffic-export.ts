import { z } from "zod";
import { sinceDuration, type TrafficExporter } from "../../core/monitoring/traffic-export.js";
import { InvalidInputError } from "../../core/errors.js";
import { defineRoute, type AnyRoute } from "../route-kit.js";

declare module "../services.js" {
  interface Services {
    trafficExport: TrafficExporter;
  }
}

/** `7d` (ago), an ISO date, or ms since the epoch. */
export function parseSince(value: string | number, field: string, now = Date.now()): number {
  if (typeof value === "number") return value;
  const ago = sinceDuration(value, now);
  if (ago !== null) return ago;
  const at = Date.parse(value);
  if (Number.isNaN(at))
    throw new InvalidInputError(
      `${field}: expected 7d, 12h, an ISO date or ms since the epoch, got ${JSON.stringify(value)}`,
    );
  return at;
}

export const trafficExportRoutes: AnyRoute[] = [
  defineRoute({
    method: "POST",
    url: "/api/v1/projects/:project/endpoints/:endpoint/export",
    summary: "Turn an endpoint's logged traffic and its feedback labels into a new dataset version.",
    tags: ["monitors", "serving"],
    auth: "bearer",
    role: "member",
    params: z.object({ project: z.string(), endpoint: z.string() }),
    body: z.object({
      since: z.union([z.string(), z.number()]),
      until: z.union([z.string(), z.number()]).optional(),
      as_dataset: z.string().min(1),
      labelled_only: z.boolean().optional(),
      target_column: z.string().optional(),
    }),
    response: z.object({
      dataset: z.string(),
      version: z.number(),
      created: z.boolean(),
      rows: z.number(),
      labelled: z.number(),
      manifest_sha256: z.string(),
    }),
    handler: async ({ services, project, params, principal, body }) => {
      const r = await services.trafficExport.export(principal.userName, {
        project,
        endpoint: params.endpoint,
        since: parseSince(body.since, "since"),
        until: body.until === undefined ? undefined : parseSince(body.until, "until"),
        dataset: body.as_dataset,
        labelledOnly: body.labelled_only,
        targetColumn: body.target_column,
      });
      return {
        dataset: r.version.name,
        version: r.version.version,
        created: r.created,
        rows: r.rows,
        labelled: r.labelled,
        manifest_sha256: r.version.manifestSha,
      };
    },
  }),
];
