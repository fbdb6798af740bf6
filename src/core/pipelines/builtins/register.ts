/**
 * `tandem/register`: registers a step's model output as the next version of `model` (source run:
 * this step's tracking run, so lineage reaches the pipeline run, its steps and their datasets), then,
 * with `alias:`, requests that alias under every policy that governs it (`policy:` adds one, never
 * replaces them). A refusal fails the step (with its checks in the log); awaiting approval does not,
 * unless `require_alias: true`. The version's author is the person behind the run, `via: system`.
 */
import { z } from "zod";
import { formatChecks } from "../../registry/checks-table.js";
import { defineBuiltin } from "./contract.js";
import { policyField } from "./references.js";

export const registerModelBuiltin = defineBuiltin({
  name: "register",
  description: "Registers a model output as a new version and optionally requests an alias under the policies.",
  with: z.strictObject({
    model: z.string().min(1),
    /** The model output, e.g. ${{ steps.train.outputs.model }} (an .onnx file, or a directory with one .onnx or a MODEL.json). */
    artifact: z.string().min(1),
    alias: z.string().optional(),
    policy: z.string().optional(),
    description: z.string().optional(),
    intended_use: z.string().optional(),
    tags: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    /** Fail the step when the alias awaits approval, too (default false: only a refusal fails it). */
    require_alias: z.boolean().default(false),
  }),
  // The model and alias are what it writes, not what it reads: keying them on their current state
  // would make every rerun after a first success a miss.
  references: (w) => policyField(w, "policy"),
  writes: (w) => [
    { kind: "model" as const, ref: `${String(w.model)}@latest` },
    ...(typeof w.alias === "string" ? [{ kind: "model" as const, ref: `${String(w.model)}@${w.alias}` }] : []),
  ],
  async run(ctx) {
    const { registry } = ctx.services;
    const manifest = ctx.artifacts[ctx.with.artifact];
    if (!manifest)
      throw new Error(
        `with.artifact: ${ctx.with.artifact} is not a step output (use \${{ steps.<step>.outputs.<name> }})`,
      );
    const { version, created } = await registry.registerVersion({
      actor: ctx.actor,
      project: ctx.project,
      name: ctx.with.model,
      artifact: { kind: "manifest", sha256: manifest },
      runId: ctx.trackingRunId,
      // The author is the person behind this run (who started it, applied its trigger, pushed its commit).
      pipelineRunId: ctx.runId,
      description: ctx.with.description,
      intendedUse: ctx.with.intended_use,
      tags: {
        "tandem.pipeline": ctx.pipeline,
        "tandem.pipeline_run": ctx.runId,
        ...Object.fromEntries(Object.entries(ctx.with.tags ?? {}).map(([k, v]) => [k, String(v)])),
      },
    });
    const ref = `${version.modelName}@${version.version}`;
    ctx.log(`${created ? "registered" : "already registered as"} ${ref} (sha256 ${version.artifact.sha256})`);
    const metrics: Record<string, number> = { model_version: version.version };
    if (!ctx.with.alias) return { metrics };
    const outcome = await registry.promote({
      actor: ctx.actor,
      project: ctx.project,
      ref,
      target: { kind: "alias", name: ctx.with.alias },
      policy: ctx.with.policy ?? null,
    });
    if (outcome.decision) for (const line of formatChecks(outcome.decision.checks).split("\n")) ctx.log(line);
    metrics.alias_applied = outcome.status === "applied" ? 1 : 0;
    switch (outcome.status) {
      case "applied":
        ctx.log(`${ctx.with.alias} → ${ref}`);
        return { metrics };
      case "pending":
        ctx.log(
          `${ctx.with.alias} awaits approval for ${ref} (request ${outcome.request?.id}): tandem models approve ${ref}`,
        );
        if (ctx.with.require_alias) throw new Error(`policy holds ${ref} → ${ctx.with.alias}: awaiting approval`);
        return { metrics };
      case "refused":
        throw new Error(
          `policy refused ${ref} → ${ctx.with.alias}: ${outcome.decision?.checks
            .filter((c) => c.outcome === "fail")
            .map((c) => c.check)
            .join("; ")}`,
        );
    }
  },
});
