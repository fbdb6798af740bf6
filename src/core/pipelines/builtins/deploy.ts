/**
 * `uses: tandem/deploy` — the same as `tandem deploy`, inside a pipeline:
 *   with: { model: flights-delay@champion, endpoint: flights-delay, canary: "challenger:10", shadow: shadow-alias, policy: release }
 * Checked by the project's policies (a refusal fails the step, with the reasons in its log). Its
 * metrics: `primary_version`, `canary_version` (when a canary serves).
 */
import { z } from "zod";
import { parseModelRef, parseSelector } from "../../serving/model.js";
import type { EndpointService } from "../../serving/service.js";
import { defineBuiltin } from "./contract.js";
import { policyField } from "./references.js";

declare module "./contract.js" {
  interface BuiltinServices {
    serving: { endpoints: EndpointService };
  }
}

export const deployBuiltin = defineBuiltin({
  name: "deploy",
  description:
    "Deploy a model version or alias to an endpoint (canary and shadow optional), under the project's policies.",
  with: z.strictObject({
    /** `name@alias` (the endpoint follows the alias) or `name@N`. */
    model: z.string().regex(/^[^@\s]+@[^@\s]+$/, { error: 'expected "name@alias" or "name@N"' }),
    endpoint: z.string().min(1),
    /** `alias:percent`, e.g. `challenger:10`. */
    canary: z
      .string()
      .regex(/^[^:\s]+:\d+(\.\d+)?$/, { error: 'expected "alias:percent", e.g. challenger:10' })
      .optional(),
    /** `alias` or `alias:percent` (the share of requests mirrored). */
    shadow: z.string().min(1).optional(),
    policy: z.string().optional(),
  }),
  // The endpoint is what it writes (not keyed); the model version it deploys is what it reads.
  references: (w) => [
    ...(typeof w.model === "string" ? [{ path: ["model"], kind: "model" as const, ref: w.model, keyOnly: true }] : []),
    ...policyField(w, "policy"),
  ],
  async run(ctx) {
    const ref = parseModelRef(ctx.with.model)!;
    const canary = ctx.with.canary
      ? { selector: parseSelector(ctx.with.canary.split(":")[0]!), percent: Number(ctx.with.canary.split(":")[1]) }
      : null;
    if (canary && canary.percent > 100)
      throw new Error(`with.canary: percent must be within 0-100, got ${canary.percent}`);
    const e = await ctx.services.serving.endpoints.deploy(
      ctx.project,
      ctx.with.endpoint,
      {
        model: ref.model,
        primary: ref.selector,
        canary,
        shadow: ctx.with.shadow ? parseSelector(ctx.with.shadow.split(":")[0]!) : null,
        shadowPercent: ctx.with.shadow?.includes(":") ? Number(ctx.with.shadow.split(":")[1]) : undefined,
        policy: ctx.with.policy ?? null,
      },
      ctx.actor,
    );
    ctx.log(
      `endpoint ${e.name}: ${ctx.with.model} → ${e.model}@${e.primaryVersion ?? "-"}` +
        (e.canaryVersion !== null ? `; canary ${e.model}@${e.canaryVersion} (${e.canary?.percent ?? 0}%)` : "") +
        (e.shadowVersion !== null ? `; shadow ${e.model}@${e.shadowVersion}` : ""),
    );
    const metrics: Record<string, number> = {};
    if (e.primaryVersion !== null) metrics.primary_version = e.primaryVersion;
    if (e.canaryVersion !== null) metrics.canary_version = e.canaryVersion;
    return { metrics };
  },
});
