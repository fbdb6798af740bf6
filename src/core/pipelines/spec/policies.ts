/**
 * `policies:` — named gates evaluated before a model version gets an alias or a deployment. The
 * Registry area owns their semantics; this schema checks their shape so a typo fails at validate time.
 */
import { z } from "zod";
import { parseMetricThreshold } from "../../registry/policy.js";

const requirementSchema = z.union([
  /** "roc_auc >= 0.70" */
  z.strictObject({
    /** "roc_auc >= 0.70": the registry's grammar, checked here so `tandem validate` names file and line. */
    metric: z
      .string()
      .min(1)
      .superRefine((text, ctx) => {
        const parsed = parseMetricThreshold(text);
        if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: parsed });
      }),
  }),
  z.strictObject({
    fairness: z.strictObject({
      attribute: z.string().min(1),
      metric: z.string().min(1),
      max: z.number().optional(),
      min: z.number().optional(),
    }),
  }),
  /** "champion": the candidate must beat the version holding this alias. */
  z.strictObject({
    beats: z.union([z.string().min(1), z.strictObject({ alias: z.string(), metric: z.string().optional() })]),
  }),
  z.strictObject({
    approvals: z.strictObject({
      role: z.enum(["member", "approver", "admin"]).default("approver"),
      count: z.number().int().min(1).default(1),
      for_alias: z.string().optional(),
    }),
  }),
]);

export const policySpecSchema = z.strictObject({
  description: z.string().optional(),
  applies_to: z
    .strictObject({
      aliases: z.array(z.string().min(1)).optional(),
      endpoints: z.array(z.string().min(1)).optional(),
      prompts: z.array(z.string().min(1)).optional(),
    })
    .optional()
    .describe(
      'What the policy governs. `prompts: [support]` (or ["*"]) makes it a prompt policy: it gates those prompts\' aliases and the LLM endpoints serving them, and no model.',
    ),
  require: z.array(requirementSchema).default([]),
});

export type PolicySpec = z.infer<typeof policySpecSchema>;
