/**
 * `policies:` — named gates evaluated before a model version gets an alias, an endpoint or a stage
 * (and a prompt version an alias). The Registry area owns their semantics (core/registry/policy.ts);
 * this schema checks their shape so a typo fails at validate time. Only an admin changes them.
 */
import { z } from "zod";
import { parseMetricThreshold } from "../../registry/policy-grammar.js";

const metricRequirement = z.strictObject({
  /** "roc_auc >= 0.70": the registry's grammar, checked here so `tandem validate` names file and line. */
  metric: z
    .string()
    .min(1)
    .superRefine((text, ctx) => {
      const parsed = parseMetricThreshold(text);
      if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: parsed });
    }),
});
const fairnessRequirement = z.strictObject({
  fairness: z.strictObject({
    attribute: z.string().min(1),
    metric: z.string().min(1),
    max: z.number().optional(),
    min: z.number().optional(),
  }),
});
/** "champion": the candidate must beat the version holding this alias. */
const beatsRequirement = z.strictObject({
  beats: z.union([z.string().min(1), z.strictObject({ alias: z.string(), metric: z.string().optional() })]),
});
/**
 * The version held its SLO as `endpoint`'s canary (judged over all its canary requests there, with
 * these limits — the policy's, not the endpoint's, so nobody loosens them by editing the endpoint).
 * A deploy into that endpoint's canary slot at most `max_percent` of traffic passes it: that is the canary.
 */
const canaryRequirement = z.strictObject({
  canary: z.strictObject({
    endpoint: z.string().min(1),
    /** Largest canary share that counts as "the canary" itself (default 10). */
    max_percent: z.number().min(0).max(100).default(10),
    /** Fewest requests per arm (canary and primary) before a verdict (default 100). */
    min_requests: z.number().int().min(1).default(100),
    /** Largest allowed canary error rate minus the primary's (default 0.05). */
    max_error_rate_increase: z.number().min(0).max(1).default(0.05),
    /** Largest allowed canary p95 / primary p95 latency (default 2). */
    max_p95_ratio: z.number().min(1).default(2),
  }),
});
const approvalsRequirement = z.strictObject({
  approvals: z.strictObject({
    role: z.enum(["member", "approver", "admin"]).default("approver"),
    count: z.number().int().min(1).default(1),
    /** Only for this alias, and for deploys into an endpoint slot that follows (or followed) it. */
    for_alias: z.string().optional(),
    /**
     * The admin's automation rule: when every one of these checks passes, no human is needed
     * (e.g. `[{beats: champion}, {canary: {endpoint: prod}}]`). Each is shown in the decision record.
     */
    unless: z
      .array(z.union([metricRequirement, fairnessRequirement, beatsRequirement, canaryRequirement]))
      .min(1)
      .optional(),
  }),
});

const requirementSchema = z.union([
  metricRequirement,
  fairnessRequirement,
  beatsRequirement,
  canaryRequirement,
  approvalsRequirement,
]);

/** Names in `applies_to` lists: exact, or with `*` standing for any characters (`*` alone: all). */
const targetPattern = z.string().min(1).max(200);

/**
 * What a policy governs. Without `applies_to` it governs every alias, endpoint, stage and prompt of
 * its project. An alias is `champion` (that alias of every model) or `model@champion`; a prompt is
 * `support` (every alias of it) or `support@production`; a stage is an MLflow stage name.
 */
export const appliesToSchema = z
  .strictObject({
    aliases: z.array(targetPattern).optional(),
    endpoints: z.array(targetPattern).optional(),
    prompts: z.array(targetPattern).optional(),
    stages: z.array(z.enum(["Staging", "Production"])).optional(),
  })
  .refine((a) => Object.values(a).some((list) => list !== undefined && list.length > 0), {
    message:
      "name at least one alias, endpoint, prompt or stage (or leave applies_to out: the policy then governs everything)",
  });

export const policySpecSchema = z
  .strictObject({
    description: z.string().optional(),
    applies_to: appliesToSchema
      .optional()
      .describe(
        "What the policy governs: aliases (`champion`, `model@champion`), endpoints, prompts (`support`, `support@production`, `*`) and MLflow stages. Without it the policy governs everything. A policy naming only prompts gates those prompts' aliases and the LLM endpoints serving them, and no model.",
      ),
    /** Count evaluations made by hand (CLI, API, MLflow logging outside a step) as evidence (default false). */
    accept_manual: z.boolean().default(false),
    require: z.array(requirementSchema).default([]),
    /**
     * The prompt closed loop: when the alert `on_alert` fires (a monitor's sampled evaluation, say),
     * every prompt alias this policy governs moves back to the version it held before. Needs
     * `applies_to.prompts`, so a rollback never reaches prompts nobody named.
     */
    rollback: z.strictObject({ on_alert: z.string().min(1) }).optional(),
    step_token: z
      .enum(["member", "tracking"])
      .optional()
      .describe(
        "The token pipeline steps of this project get: `member` (default) or `tracking` (log runs, metrics and artifacts only; no registry, serving or pipelines). The lowest of the policies in force applies.",
      ),
  })
  .refine((p) => !p.rollback || (p.applies_to?.prompts?.length ?? 0) > 0, {
    message: "rollback moves prompt aliases back: name them in applies_to.prompts",
    path: ["rollback"],
  });

export type PolicySpec = z.infer<typeof policySpecSchema>;
export type AppliesTo = z.infer<typeof appliesToSchema>;
export type Requirement = z.infer<typeof requirementSchema>;
export type WaiverRequirement = NonNullable<
  Extract<Requirement, { approvals: unknown }>["approvals"]["unless"]
>[number];
