/**
 * `endpoints:` — served models following an alias, and LLM endpoints following a prompt alias. The
 * Serving area owns their semantics (and the LLM area the `llm:` block's).
 */
import { z } from "zod";

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
  api_key_secret: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "a secret name is an environment variable name" })
    .optional()
    .describe("A project secret (tandem secrets set NAME) sent to the upstream as its bearer token."),
  log_content: z
    .boolean()
    .optional()
    .describe("Log rendered messages and answers; false logs only their sha256 (default true)."),
  timeout_seconds: z.number().positive().max(600).optional().describe("Upstream timeout (default 60)."),
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
