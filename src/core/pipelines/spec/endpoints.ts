/**
 * `endpoints:` — served models following an alias. The Serving area owns their semantics.
 */
import { z } from "zod";

export const endpointSpecSchema = z.strictObject({
  /** "model@alias" */
  model: z.string().regex(/^[^@\s]+@[^@\s]+$/, { error: 'expected "model@alias", e.g. flights-delay@champion' }),
  description: z.string().optional(),
  canary: z.strictObject({ alias: z.string().min(1), percent: z.number().min(0).max(100) }).optional(),
  shadow: z.strictObject({ alias: z.string().min(1), percent: z.number().min(0).max(100).optional() }).optional(),
  /** A model served by its own HTTP command instead of onnxruntime. */
  command: z.string().optional(),
  replicas: z.number().int().min(1).optional(),
});

export type EndpointSpec = z.infer<typeof endpointSpecSchema>;
