/**
 * `tandem/add-dataset`: a step's output becomes the next version of a dataset, as `tandem data add`
 * would make it (content-addressed, profiled, audited; unchanged content adds no version). A project
 * that generates or fetches its own data can then validate it and train on `dataset://NAME@latest`
 * with lineage, with no `data add` by hand (the `tandem init` templates do this).
 *
 *   dataset:
 *     uses: tandem/add-dataset
 *     with:
 *       dataset: samples
 *       from: ${{ steps.generate.outputs.data }}
 *
 * Its metrics: `dataset_version`, `dataset_created` (1 for a new version, 0 when unchanged).
 */
import { z } from "zod";
import { getManifest } from "../../artifacts/manifest.js";
import { NAME_PATTERN } from "../spec/names.js";
import { defineBuiltin } from "./contract.js";

export const addDatasetBuiltin = defineBuiltin({
  name: "add-dataset",
  description: "Adds a step output (a file or a directory) as the next version of a dataset.",
  with: z.strictObject({
    dataset: z.string().regex(NAME_PATTERN, "a dataset name: a letter, then letters, digits, '_' or '-'"),
    /** The output, e.g. ${{ steps.generate.outputs.data }}. */
    from: z.string().min(1),
    message: z.string().optional(),
  }),
  writes: (w) => (typeof w.dataset === "string" ? [{ kind: "dataset" as const, ref: w.dataset }] : []),
  async run(ctx) {
    const manifest = ctx.artifacts[ctx.with.from];
    if (!manifest)
      throw new Error(`with.from: ${ctx.with.from} is not a step output (use \${{ steps.<step>.outputs.<name> }})`);
    const { entries } = await getManifest(ctx.services.artifacts, manifest);
    const input = Object.values(ctx.inputs).find((i) => i.manifest === manifest);
    const kind = input?.kind === "file" ? "file" : "dir";
    const { version, created } = await ctx.services.data.createVersion(ctx.actor, ctx.project, ctx.with.dataset, {
      entries,
      kind,
      message: ctx.with.message ?? `from pipeline ${ctx.pipeline}, run ${ctx.runId}, step ${ctx.step}`,
    });
    ctx.log(`${created ? "added" : "unchanged:"} ${version.name}@${version.version} (${version.fileCount} files)`);
    return { metrics: { dataset_version: version.version, dataset_created: created ? 1 : 0 } };
  },
});
