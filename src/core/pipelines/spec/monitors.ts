/**
 * `monitors:` — scheduled checks on an endpoint, a dataset or a trace stream. The Monitoring area owns semantics.
 */
import { z } from "zod";

export const MONITOR_CHECKS = [
  "data_drift",
  "prediction_drift",
  "target_drift",
  "performance",
  "fairness",
  "latency",
  "error_rate",
  "tokens",
  "cost",
  "feedback",
  "sampled_eval",
] as const;

export const monitorSpecSchema = z
  .strictObject({
    endpoint: z.string().min(1).optional(),
    dataset: z.string().min(1).optional(),
    /** A trace stream: `true` (every trace of the project) or `{model: NAME}`. */
    traces: z.union([z.boolean(), z.strictObject({ model: z.string().min(1).optional() })]).optional(),
    schedule: z.string().min(1).optional(),
    timezone: z.string().optional(),
    /** "dataset://name@version" */
    reference: z.string().optional(),
    checks: z.array(z.union([z.enum(MONITOR_CHECKS), z.record(z.string(), z.unknown())])).default([]),
    window: z.string().optional(),
    thresholds: z.record(z.string(), z.unknown()).optional(),
    columns: z.record(z.string(), z.unknown()).optional(),
    notify: z.array(z.string()).optional(),
    /** Windows with fewer rows are recorded as insufficient data, without alerting (default 30). */
    min_rows: z.number().int().min(1).optional(),
    /** Rows checked from one window at most; a busier window is sampled uniformly and says so (default 1 000 000). */
    max_rows: z.number().int().min(1).optional(),
    /** Windows longer than this merge stored profiles of earlier runs instead of rereading rows (default 24h). */
    raw_window_max: z.string().optional(),
  })
  .refine((m) => [m.endpoint, m.dataset, m.traces || undefined].filter((x) => x !== undefined).length === 1, {
    error: "a monitor watches one endpoint, dataset or trace stream (traces:)",
  });

export type MonitorSpec = z.infer<typeof monitorSpecSchema>;
