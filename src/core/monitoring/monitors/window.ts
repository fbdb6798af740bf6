/**
 * A window of traffic as the checks see it: columns of features, the model's prediction (label or
 * value) and positive-class score, the true label where feedback arrived, and latency/error facts.
 */
import type { Table } from "../columns.js";
import type { ColumnRoles } from "./model.js";

export interface WindowRow {
  /** The prediction id (or trace id of a trace stream), when known: sampled evaluation picks by it. */
  id?: string;
  at: number;
  features: Record<string, unknown>;
  /** The answer as served: `{label, probabilities}` or `{value}`; null on error. */
  output: unknown;
  error: string | null;
  latencyMs: number;
  /** The true label from feedback, or undefined when none arrived (yet). */
  label?: unknown;
}

export interface WindowData {
  start: number;
  end: number;
  rows: number;
  errors: number;
  latenciesMs: number[];
  /** Feature columns plus `prediction`, `prediction_score` (positive-class probability) and `target`. */
  table: Record<string, unknown[]>;
  /** Only the rows with a true label: the same columns. */
  labelled: Record<string, unknown[]>;
  /** LLM calls (rows whose answer carries token counts): per answered call, and the feedback given. */
  llm: LlmCalls;
}

export interface LlmCalls {
  /** Input + output tokens of each answered call. */
  tokens: number[];
  /** Cost of each answered call whose model has a price. */
  costs: number[];
  /** Feedback scores: thumbs up 1, down 0, or the number given. */
  feedback: number[];
}

/** An LLM call's answer as the gateway logs it (and a trace stream's row). */
interface LlmOutput {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cost?: number | null;
}

function isLlmOutput(output: unknown): output is LlmOutput {
  return typeof output === "object" && output !== null && ("input_tokens" in output || "output_tokens" in output);
}

function feedbackScore(label: unknown): number | null {
  if (typeof label === "boolean") return label ? 1 : 0;
  if (typeof label === "number" && Number.isFinite(label)) return label;
  if (label === "up" || label === "thumbs_up") return 1;
  if (label === "down" || label === "thumbs_down") return 0;
  if (typeof label === "string" && label.trim() !== "" && Number.isFinite(Number(label))) return Number(label);
  return null;
}

function addLlmCall(llm: LlmCalls, row: WindowRow): void {
  if (!isLlmOutput(row.output)) return;
  const o = row.output;
  llm.tokens.push((o.input_tokens ?? 0) + (o.output_tokens ?? 0));
  if (typeof o.cost === "number") llm.costs.push(o.cost);
  const score = row.label === undefined ? null : feedbackScore(row.label);
  if (score !== null) llm.feedback.push(score);
}

export const PREDICTION = "prediction";
export const PREDICTION_SCORE = "prediction_score";
export const TARGET = "target";

/**
 * The columns a data-drift check compares, whether it reads rows or profiles: the `features` role,
 * else every reference column that plays no other role (target, prediction, score, time) — kept
 * only where the current side has them too.
 */
export function driftFeatures(
  roles: ColumnRoles,
  referenceColumns: Iterable<string>,
  inCurrent: (column: string) => boolean,
): string[] {
  const other = new Set([
    roles.target ?? TARGET,
    roles.prediction ?? PREDICTION,
    PREDICTION,
    PREDICTION_SCORE,
    TARGET,
    roles.datetime ?? "",
  ]);
  return (roles.features ?? [...referenceColumns].filter((c) => !other.has(c))).filter(inCurrent);
}

/** The answer as served → its prediction (label or value) and the positive-class score. */
export function predictionOf(output: unknown): { prediction: unknown; score: number | null } {
  if (output === null || typeof output !== "object") return { prediction: output ?? null, score: null };
  const o = output as { label?: unknown; value?: unknown; probabilities?: Record<string, number> };
  if (o.value !== undefined) return { prediction: o.value, score: null };
  const probs = o.probabilities;
  let score: number | null = null;
  if (probs) {
    const keys = Object.keys(probs);
    // Binary classifiers: the positive class is "1"/"true" when present, else the last class.
    const pos = keys.find((k) => k === "1" || k === "true") ?? keys[keys.length - 1];
    if (keys.length === 2 && pos !== undefined) score = probs[pos] ?? null;
  }
  return { prediction: o.label ?? null, score };
}

function push(table: Record<string, unknown[]>, column: string, index: number, value: unknown): void {
  const col = (table[column] ??= []);
  while (col.length < index) col.push(null);
  col.push(value);
}

/** Pivots logged rows into columns; rows that failed are counted but not part of the table. */
export function windowData(start: number, end: number, rows: WindowRow[]): WindowData {
  // Keyed by the requests' feature names: in `{}`, a feature `toString` found Object.prototype's
  // function as its column (the run failed: col.push is not a function) and `__proto__` vanished.
  const table = Object.create(null) as Record<string, unknown[]>;
  const labelled = Object.create(null) as Record<string, unknown[]>;
  let n = 0;
  let m = 0;
  let errors = 0;
  const latenciesMs: number[] = [];
  const llm: LlmCalls = { tokens: [], costs: [], feedback: [] };
  for (const row of rows) {
    latenciesMs.push(row.latencyMs);
    if (row.error !== null) {
      errors++;
      continue;
    }
    addLlmCall(llm, row);
    const { prediction, score } = predictionOf(row.output);
    const values: Record<string, unknown> = { ...row.features, [PREDICTION]: prediction, [PREDICTION_SCORE]: score };
    if (row.label !== undefined) values[TARGET] = row.label;
    for (const [k, v] of Object.entries(values)) push(table, k, n, v);
    n++;
    if (row.label !== undefined) {
      for (const [k, v] of Object.entries(values)) push(labelled, k, m, v);
      m++;
    }
  }
  for (const col of Object.values(table)) while (col.length < n) col.push(null);
  for (const col of Object.values(labelled)) while (col.length < m) col.push(null);
  return { start, end, rows: rows.length, errors, latenciesMs, table, labelled, llm };
}

export function rowCount(t: Table): number {
  let n = 0;
  for (const v of Object.values(t)) n = Math.max(n, v.length);
  return n;
}
