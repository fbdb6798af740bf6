/**
 * `tandem/validate` (the Data area's step): checks a dataset version against expectations and fails
 * the step when a check fails, logging the table (check, column, expected, found). The report is
 * stored with the pipeline run's id (`tandem data` API: …/datasets/NAME/validations).
 *
 *   validate:
 *     uses: tandem/validate
 *     with:
 *       dataset: flights@latest          # or dataset://flights@latest, flights@3, flights@golden
 *       expect: expectations/flights.yaml  # a YAML file in the project folder, or the expectations inline
 */
import { readFile, writeFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { failedChecks, formatChecks } from "../../data/expectations.js";
import { defineBuiltin, type WithReference } from "./contract.js";
import { datasetField, fileField } from "./references.js";

const DRIFT_AGAINST = "drift.against";

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** An expectations file's document, or null when it does not parse (the step says so when it runs). */
function parsed(text: string): unknown {
  try {
    return parseYaml(text) as unknown;
  } catch {
    return null;
  }
}

/**
 * The dataset version expectations test drift against (`drift: { against: rows@golden }`), a
 * reference like `dataset:` itself; `previous` (the version before the validated one) is not one.
 */
function driftAgainst(expectations: unknown, at: Array<string | number>): WithReference[] {
  const drift = isRecord(expectations) ? expectations.drift : undefined;
  const against = isRecord(drift) ? drift.against : undefined;
  if (typeof against !== "string" || against === "previous") return [];
  return datasetField({ against }, "against").map((r) => ({ ...r, path: [...at, "drift", "against"] }));
}

export const validateBuiltin = defineBuiltin({
  name: "validate",
  description: "Validates a dataset version against expectations; a failed check fails the step.",
  with: z.strictObject({
    dataset: z.string().min(1),
    expect: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
    /** A file output to write the report to as JSON. */
    report: z.string().optional(),
  }),
  references: (w) => [
    ...datasetField(w, "dataset"),
    ...fileField(w, "expect").map((r) => ({ ...r, within: (text: string) => driftAgainst(parsed(text), []) })),
    ...driftAgainst(w.expect, ["expect"]),
  ],
  async run(ctx) {
    let expectations: unknown = ctx.with.expect;
    if (typeof ctx.with.expect === "string") {
      const file = ctx.with.expect;
      const path = isAbsolute(file) ? file : join(ctx.workspace ?? ctx.workdir, file);
      const text = await readFile(path, "utf8").catch(() => {
        throw new Error(`with.expect: cannot read ${file}`);
      });
      try {
        expectations = parseYaml(text) ?? {};
      } catch (error) {
        throw new Error(`with.expect: ${file}: ${(error as Error).message}`, { cause: error });
      }
    }
    // The version drift is tested against, as the cache key resolved it (the file still says rows@golden).
    const against = ctx.pinned[`expect → ${DRIFT_AGAINST}`];
    if (against && isRecord(expectations) && isRecord(expectations.drift))
      expectations = { ...expectations, drift: { ...expectations.drift, against } };
    const rec = await ctx.services.data.validate(ctx.actor, ctx.project, ctx.with.dataset, expectations, {
      runId: ctx.runId,
    });
    for (const line of formatChecks(rec.report).split("\n")) ctx.log(line);
    if (ctx.with.report) {
      const out = ctx.outputs[ctx.with.report];
      if (!out) throw new Error(`with.report: the step declares no output "${ctx.with.report}"`);
      await writeFile(out, `${JSON.stringify(rec.report, null, 2)}\n`);
    }
    const failed = failedChecks(rec.report).length;
    if (!rec.ok)
      throw new Error(`${rec.report.dataset} failed validation (${failed} failed check${failed === 1 ? "" : "s"})`);
    return { metrics: { validation_checks: rec.report.checks.length, validation_failed_checks: failed } };
  },
});
