/**
 * `endpoints:` — served models following an alias, and LLM endpoints following a prompt alias. The
 * Serving area owns their semantics (and the LLM area the `llm:` block's).
 */
import { z } from "zod";
import { secretNameSchema } from "./names.js";

export const llmEndpointSpecSchema = z.strictObject({
  upstream: z
    .string()
    .url({ error: "expected the upstream's base URL, e.g. https://api.openai.com/v1" })
    .describe("An OpenAI-compatible base URL; calls go to {upstream}/chat/completions."),
  model: z.string().min(1).describe("The upstream model when the prompt version names none."),
  prompt: z
    .string()
    .regex(/^[^@\s]+@[^@\s]+$/, { error: 'expected "prompt@alias", e.g. support@production' })
    .describe("The prompt this endpoint renders: prompt@alias (followed: moving the alias rolls out) or prompt@N."),
  api_key_secret: secretNameSchema
    .optional()
    .describe("A project secret (tandem secrets set NAME) sent to the upstream as its bearer token."),
  log_content: z
    .boolean()
    .optional()
    .describe("Log rendered messages and answers; false logs only their sha256 (default true)."),
  timeout_seconds: z.number().positive().max(600).optional().describe("Upstream timeout (default 60)."),
});

/** The canary judge's limits (the Serving area's SloSpec, in seconds and snake_case). */
export const sloSpecSchema = z.strictObject({
  max_error_rate_increase: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe("Largest allowed canary error rate above the primary's, once significant (default 0.05)."),
  max_p95_ratio: z
    .number()
    .positive()
    .optional()
    .describe("Largest allowed canary p95 / primary p95, once significant and past floor and margin (default 2)."),
  significance: z
    .number()
    .gt(0)
    .lt(1)
    .optional()
    .describe("One-sided significance level of the Mann-Whitney U and two-proportion tests (default 0.05)."),
  latency_floor_ms: z
    .number()
    .min(0)
    .optional()
    .describe("A canary whose p95 is under this never fails on latency (default 50)."),
  latency_margin_ms: z
    .number()
    .min(0)
    .optional()
    .describe("A canary whose p95 is within this of the primary's never fails on latency (default 5)."),
  window_seconds: z.number().positive().optional().describe("Sliding window of the judgement (default 600)."),
  min_requests: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe("Requests each arm needs before a verdict; fewer keeps watching (default 100)."),
  auto_promote_after_seconds: z
    .number()
    .min(0)
    .optional()
    .describe("Promote a healthy rollout after this long; 0 only by promote (default 0)."),
});

export const endpointSpecSchema = z
  .strictObject({
    /** "model@alias" */
    model: z
      .string()
      .regex(/^[^@\s]+@[^@\s]+$/, { error: 'expected "model@alias", e.g. flights-delay@champion' })
      .optional(),
    description: z.string().optional(),
    canary: z.strictObject({ alias: z.string().min(1), percent: z.number().min(0).max(100) }).optional(),
    shadow: z.strictObject({ alias: z.string().min(1), percent: z.number().min(0).max(100).optional() }).optional(),
    slo: sloSpecSchema.optional().describe("How the canary is judged against the primary."),
    /** A model served by its own HTTP command instead of onnxruntime. */
    command: z.string().optional(),
    replicas: z.number().int().min(1).optional(),
    llm: llmEndpointSpecSchema
      .optional()
      .describe("An LLM endpoint: renders a prompt version and calls an OpenAI-compatible upstream."),
  })
  .refine((e) => (e.model === undefined) !== (e.llm === undefined), {
    error: "an endpoint has exactly one of model: (a model endpoint) or llm: (an LLM endpoint)",
  });

export type EndpointSpec = z.infer<typeof endpointSpecSchema>;
