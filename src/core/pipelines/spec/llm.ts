/**
 * `llm:` — project LLM settings. The LLM area owns their semantics (core/llm/pricing.ts, traces.ts).
 */
import { z } from "zod";

export const llmProjectSpecSchema = z.strictObject({
  prices: z
    .record(
      z.string().min(1),
      z.strictObject({
        input: z.number().min(0).describe("Price per million input tokens."),
        output: z.number().min(0).describe("Price per million output tokens."),
      }),
    )
    .optional()
    .describe(
      "Price per million tokens by model name (a name also matches its dated variants); wins over the defaults.",
    ),
  trace_retention_days: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe("Spans older than this are deleted (default: the server's TANDEM_TRACE_RETENTION_DAYS, 30)."),
});
