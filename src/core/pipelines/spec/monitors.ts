/**
 * `monitors:` — scheduled checks on an endpoint or a dataset. The Monitoring area owns semantics.
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
] as const;

export const monitorSpecSchema = z
  .strictObject({
    endpoint: z.string().min(1).optional(),
    dataset: z.string().min(1).optional(),
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
  .refine((m) => m.endpoint !== undefined || m.dataset !== undefined, {
    error: "a monitor watches an endpoint or a dataset",
  });

export type MonitorSpec = z.infer<typeof monitorSpecSchema>;
