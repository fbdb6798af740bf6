import { z } from "zod";
import { SINCE_DURATION, sinceDuration, type TrafficExporter } from "../../monitoring/traffic-export.js";
import { defineBuiltin } from "./contract.js";
import { endpointField } from "./references.js";

declare module "./contract.js" {
  interface BuiltinServices {
    trafficExport: TrafficExporter;
  }
}

/**
 * `uses: tandem/export-traffic` — the same as `tandem endpoints export`, inside a pipeline:
 *   with: { endpoint: flights-delay, since: 30d, dataset: flights-traffic }
 * Its metrics: `rows`, `labelled`, `dataset_version`.
 */
export const exportTrafficBuiltin = defineBuiltin({
  name: "export-traffic",
  description: "Turn an endpoint's logged traffic and feedback labels into a new dataset version.",
  with: z.strictObject({
    endpoint: z.string().min(1),
    since: z.string().regex(SINCE_DURATION, "expected a duration such as 7d or 12h"),
    dataset: z.string().min(1),
    labelled_only: z.boolean().default(true),
  }),
  references: (w) => endpointField(w, "endpoint"),
  writes: (w) => (typeof w.dataset === "string" ? [{ kind: "dataset" as const, ref: w.dataset }] : []),
  async run(ctx) {
    const since = sinceDuration(ctx.with.since)!;
    const r = await ctx.services.trafficExport.export(ctx.actor, {
      project: ctx.project,
      endpoint: ctx.with.endpoint,
      since,
      dataset: ctx.with.dataset,
      labelledOnly: ctx.with.labelled_only,
    });
    ctx.log(
      `${r.created ? "added" : "unchanged:"} ${r.version.name}@${r.version.version}: ${r.rows} rows (${r.labelled} labelled)`,
    );
    return { metrics: { rows: r.rows, labelled: r.labelled, dataset_version: r.version.version } };
  },
});
