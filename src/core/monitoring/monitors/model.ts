/**
 * Glossary (DESIGN.md "Monitor"):
 * - Monitor: a scheduled check on an endpoint's traffic (or a dataset's versions) against a reference.
 * - Window: the span of traffic one run checks, [start, end). Each run stores one result per window,
 *   so results form a time series.
 * - Reference: what "normal" looks like — a dataset version (`dataset://name@N`) or an earlier window
 *   of the same traffic (`window:-7d`).
 * - Column roles: `features` (drift-tested), `target` (the true label, from feedback), `prediction`
 *   (the model's answer), `datetime` (not drift-tested), `sensitive` (fairness groups).
 * - Check: one test of a window — data_drift, prediction_drift, target_drift, performance, fairness,
 *   latency, error_rate; and for LLM endpoints and trace streams tokens, cost (per call), feedback
 *   (mean score) and sampled_eval (scorers run on a share of the logged calls).
 * - Trace stream: the traces of a project (optionally one model's), one row per trace — a monitor
 *   watches it instead of an endpoint with `traces: {model}`.
 * A failing check fails the run; the run raises (or resolves) an alert named after the monitor,
 * which can trigger pipelines (and, for prompts, a policy's rollback).
 */
import type { DriftTest } from "../drift.js";

export interface ColumnRoles {
  /** Features to drift-test (default: every reference column that is not another role). */
  features?: string[];
  /** The true label's column in the reference (default "target"). */
  target?: string;
  /** The prediction's column in the reference, if it has one (default "prediction"). */
  prediction?: string;
  datetime?: string;
  sensitive?: string[];
}

export type CheckConfig =
  | {
      kind: "data_drift";
      test?: DriftTest;
      threshold?: number;
      driftShare?: number;
      perColumn?: Record<string, { test?: DriftTest; threshold?: number }>;
    }
  | { kind: "prediction_drift"; test?: DriftTest; threshold?: number }
  | { kind: "target_drift"; test?: DriftTest; threshold?: number }
  | { kind: "performance"; metric: string; min?: number; max?: number; maxDrop?: number }
  | { kind: "fairness"; attribute: string; metric: string; max?: number; min?: number }
  | { kind: "latency"; p95Ms: number }
  | { kind: "error_rate"; max: number }
  /** Mean input + output tokens per answered call at most `maxPerCall`. */
  | { kind: "tokens"; maxPerCall: number }
  /** Mean cost per answered call (price-table units) at most `maxPerCall`. */
  | { kind: "cost"; maxPerCall: number }
  /** Mean feedback score (thumbs up 1, down 0, or a number) of the calls that got feedback, at least `min`. */
  | { kind: "feedback"; min: number }
  /**
   * The scorers (tandem/eval's) run on `percent` of the window's answered calls, picked by
   * prediction id so a rerun scores the same calls; each scorer's mean must be at least `min`.
   */
  | { kind: "sampled_eval"; percent: number; scorers: unknown[]; min: number };

export type CheckKind = CheckConfig["kind"];

export interface MonitorDefinition {
  project: string;
  name: string;
  endpoint: string | null;
  dataset: string | null;
  /** A trace stream: the project's traces, or only those calling `model` (null: not a trace monitor). */
  traces?: { model: string | null } | null;
  /** Cron expression; null: only on demand. */
  schedule: string | null;
  /** (default "UTC") */
  timezone: string;
  /** Length of the current window in ms (default: since the previous run, at most 24 h). */
  windowMs: number | null;
  /** `dataset://name@version`, `window:-7d`, or null (then the drift checks are skipped: nothing to compare with). */
  reference: string | null;
  roles: ColumnRoles;
  checks: CheckConfig[];
  /** Fewer rows than this in a window: the run is recorded as insufficient, no alert (default 30). */
  minRows: number;
  /** Rows checked from one window at most; a busier window is sampled uniformly (default 1 000 000). */
  maxRows: number;
  /** Windows longer than this merge earlier runs' stored profiles instead of rereading rows (default 24 h). */
  rawWindowMaxMs: number;
}

export interface CheckResult {
  check: CheckKind;
  passed: boolean;
  /** One line for tables and alerts. */
  summary: string;
  /** The evidence: statistics, thresholds, per-column results, per-group values. */
  details: Record<string, unknown>;
}

export type MonitorRunStatus = "ok" | "failing" | "insufficient_data" | "error";

export interface MonitorResult {
  id: string;
  project: string;
  monitor: string;
  windowStart: number;
  windowEnd: number;
  /** `raw`: computed from the window's rows; `profile`: from merged profiles (within the sketch's error). */
  computedFrom: "raw" | "profile";
  status: MonitorRunStatus;
  rows: number;
  labelledRows: number;
  checks: CheckResult[];
  error: string | null;
  createdAt: number;
  /** The alert this run opened or kept firing, if any. */
  alertId: string | null;
  /** Profile (blob) of the rows this run read, covering [profileStart, windowEnd); null for dataset monitors. */
  profileSha: string | null;
  profileStart: number | null;
  /**
   * Set when a window held more rows than the monitor's `max_rows`: the checks ran on a uniform
   * sample of `rows` of its `of` rows (and likewise for a `window:` reference). Null: every row.
   */
  sampled: WindowSampling | null;
}

export interface WindowSampling {
  rows: number;
  of: number;
  reference?: { rows: number; of: number };
}

export interface MonitorState {
  definition: MonitorDefinition;
  nextRunAt: number | null;
  lastRunAt: number | null;
  updatedAt: number;
}
