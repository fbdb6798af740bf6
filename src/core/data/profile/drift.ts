/**
 * Drift between two profiles (no rows needed): Evidently's rules for references of more than 1000
 * rows, computed from the sketches.
 * - numeric columns with > 5 distinct reference values: Wasserstein-1 distance between the two KLL
 *   quantile functions (W1 = ∫₀¹ |Q_ref(u) − Q_cur(u)| du on a 1000-point midpoint grid), divided
 *   by the reference's population standard deviation (floored at 0.001); drift when ≥ 0.1;
 * - other columns (categorical, text, bool, few-valued numbers): Jensen-Shannon distance (natural
 *   log) over frequent-value shares — values beyond the 1024 counters pool into one "other" share;
 *   drift when ≥ 0.1;
 * - datetime columns are not tested (DESIGN.md: not drift-tested unless asked);
 * - the dataset drifts when at least half of the tested columns drift.
 * Scores inherit the sketches' error (quantile rank error ≈ 1.3 %); on small tables use
 * monitoring's raw-row tests instead.
 */
import { jensenShannonDistance } from "../../monitoring/stats/tests.js";
import { FrequentItems } from "../sketches/frequent.js";
import { keyString } from "../sketches/hash.js";
import { quantile } from "./accessors.js";
import type { ColumnProfile, TableProfile } from "./model.js";

export const PROFILE_DRIFT_THRESHOLD = 0.1;
export const PROFILE_DRIFT_SHARE = 0.5;
const GRID = 1000;

export interface ColumnDrift {
  column: string;
  test: "wasserstein" | "jensenshannon";
  score: number;
  threshold: number;
  drifted: boolean;
}

export interface ProfileDrift {
  columns: ColumnDrift[];
  driftedShare: number;
  drifted: boolean;
}

function isNumericColumn(c: ColumnProfile): boolean {
  return (c.kind === "integer" || c.kind === "float") && c.sketches.quantiles.n > 0;
}

/** Normalised Wasserstein distance from the two quantile sketches. */
export function wassersteinFromProfiles(ref: ColumnProfile, cur: ColumnProfile): number {
  let sum = 0;
  for (let i = 0; i < GRID; i++) {
    const u = (i + 0.5) / GRID;
    sum += Math.abs(quantile(ref, u) - quantile(cur, u));
  }
  return sum / GRID / Math.max(ref.std ?? 0, 0.001);
}

/** Jensen-Shannon distance over the frequent values of both columns plus one pooled "other" share. */
export function jensenShannonFromProfiles(ref: ColumnProfile, cur: ColumnProfile): number {
  const a = FrequentItems.fromJSON(ref.sketches.frequent);
  const b = FrequentItems.fromJSON(cur.sketches.frequent);
  const shares = (f: FrequentItems) => {
    const m = new Map<string, number>();
    for (const [k, c] of f.counts) m.set(keyString(k), (m.get(keyString(k)) ?? 0) + c);
    return m;
  };
  const sa = shares(a);
  const sb = shares(b);
  const keys = [...new Set([...sa.keys(), ...sb.keys()])];
  const p = keys.map((k) => sa.get(k) ?? 0);
  const q = keys.map((k) => sb.get(k) ?? 0);
  p.push(Math.max(0, a.n - p.reduce((x, y) => x + y, 0)));
  q.push(Math.max(0, b.n - q.reduce((x, y) => x + y, 0)));
  if (a.n === 0 || b.n === 0) return a.n === b.n ? 0 : 1;
  return jensenShannonDistance(p, q);
}

/** Drift of one column, or null when it is not tested (datetime, empty). */
export function columnDrift(
  ref: ColumnProfile,
  cur: ColumnProfile,
  threshold = PROFILE_DRIFT_THRESHOLD,
): ColumnDrift | null {
  if (ref.kind === "datetime" || ref.kind === "null" || cur.kind === "null") return null;
  const numeric = isNumericColumn(ref) && isNumericColumn(cur) && ref.distinct > 5;
  const score = numeric ? wassersteinFromProfiles(ref, cur) : jensenShannonFromProfiles(ref, cur);
  return {
    column: ref.name,
    test: numeric ? "wasserstein" : "jensenshannon",
    score,
    threshold,
    drifted: score >= threshold,
  };
}

export interface ProfileDriftOptions {
  /** Columns to test (default: every column in both profiles). */
  columns?: string[];
  /** (default 0.1) */
  threshold?: number;
  /** Share of drifted columns at which the table drifts (default 0.5). */
  driftShare?: number;
}

export function profileDrift(
  reference: TableProfile,
  current: TableProfile,
  options: ProfileDriftOptions = {},
): ProfileDrift {
  const names =
    options.columns ?? reference.columns.map((c) => c.name).filter((n) => current.columns.some((c) => c.name === n));
  const columns: ColumnDrift[] = [];
  for (const name of names) {
    const ref = reference.columns.find((c) => c.name === name);
    const cur = current.columns.find((c) => c.name === name);
    if (!ref || !cur) continue;
    const d = columnDrift(ref, cur, options.threshold);
    if (d) columns.push(d);
  }
  const driftedShare = columns.length ? columns.filter((c) => c.drifted).length / columns.length : 0;
  return {
    columns,
    driftedShare,
    drifted: columns.length > 0 && driftedShare >= (options.driftShare ?? PROFILE_DRIFT_SHARE),
  };
}
