/**
 * Group fairness metrics with Fairlearn's definitions (method "between_groups", agg "worst_case"):
 * selection rate, demographic parity difference and ratio, equalized odds difference and ratio, equal
 * opportunity difference and ratio, and per-group accuracy. The four-fifths rule is offered as a
 * configurable heuristic on the demographic parity ratio — a screening signal, not a legal verdict.
 */
import { InvalidInputError } from "../errors.js";
import type { Label } from "./classification.js";

export interface GroupStats {
  group: string;
  count: number;
  selectionRate: number;
  /** TPR; NaN when the group has no positive labels. */
  truePositiveRate: number;
  /** FPR; NaN when the group has no negative labels. */
  falsePositiveRate: number;
  accuracy: number;
}

export interface FairnessReport {
  groups: GroupStats[];
  demographicParityDifference: number;
  demographicParityRatio: number;
  equalizedOddsDifference: number;
  equalizedOddsRatio: number;
  equalOpportunityDifference: number;
  equalOpportunityRatio: number;
  /** The four-fifths heuristic: demographic parity ratio ≥ `fourFifthsThreshold`. */
  passesFourFifths: boolean;
  fourFifthsThreshold: number;
}

export interface FairnessOptions {
  /** The favourable outcome (default 1). */
  posLabel?: Label;
  /** Minimum acceptable demographic parity ratio for the four-fifths heuristic (default 0.8). */
  fourFifthsThreshold?: number;
}

/** Fairlearn's selection_rate: the share of predictions equal to `posLabel` (default 1). */
export function selectionRate(yPred: ArrayLike<Label>, posLabel: Label = 1): number {
  if (yPred.length === 0) throw new InvalidInputError("selection_rate: no rows");
  let n = 0;
  for (let i = 0; i < yPred.length; i++) if (yPred[i] === posLabel) n++;
  return n / yPred.length;
}

function spread(values: number[]): { diff: number; ratio: number } {
  const finite = values.filter((v) => !Number.isNaN(v));
  if (finite.length === 0) return { diff: Number.NaN, ratio: Number.NaN };
  const max = Math.max(...finite);
  const min = Math.min(...finite);
  return { diff: max - min, ratio: max === 0 ? Number.NaN : min / max };
}

/** All group metrics and their between-group disparities for one sensitive attribute. */
export function fairnessReport(
  yTrue: ArrayLike<Label>,
  yPred: ArrayLike<Label>,
  sensitive: ArrayLike<unknown>,
  options: FairnessOptions = {},
): FairnessReport {
  if (yTrue.length !== yPred.length || yTrue.length !== sensitive.length) {
    throw new InvalidInputError(
      `fairness: labels (${yTrue.length}), predictions (${yPred.length}) and sensitive values (${sensitive.length}) differ in length`,
    );
  }
  if (yTrue.length === 0) throw new InvalidInputError("fairness: no rows to evaluate");
  const pos = options.posLabel ?? 1;
  const acc = new Map<string, { n: number; sel: number; tp: number; p: number; fp: number; neg: number; ok: number }>();
  for (let i = 0; i < yTrue.length; i++) {
    const g = String(sensitive[i]);
    let s = acc.get(g);
    if (s === undefined) acc.set(g, (s = { n: 0, sel: 0, tp: 0, p: 0, fp: 0, neg: 0, ok: 0 }));
    const predPos = yPred[i] === pos;
    const truePos = yTrue[i] === pos;
    s.n++;
    if (predPos) s.sel++;
    if (truePos) {
      s.p++;
      if (predPos) s.tp++;
    } else {
      s.neg++;
      if (predPos) s.fp++;
    }
    if (yTrue[i] === yPred[i]) s.ok++;
  }
  const groups: GroupStats[] = [...acc.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([group, s]) => ({
      group,
      count: s.n,
      selectionRate: s.sel / s.n,
      truePositiveRate: s.p === 0 ? Number.NaN : s.tp / s.p,
      falsePositiveRate: s.neg === 0 ? Number.NaN : s.fp / s.neg,
      accuracy: s.ok / s.n,
    }));
  const dp = spread(groups.map((g) => g.selectionRate));
  const tpr = spread(groups.map((g) => g.truePositiveRate));
  const fpr = spread(groups.map((g) => g.falsePositiveRate));
  const threshold = options.fourFifthsThreshold ?? 0.8;
  return {
    groups,
    demographicParityDifference: dp.diff,
    demographicParityRatio: dp.ratio,
    // Fairlearn: the worse of the TPR and FPR disparities.
    equalizedOddsDifference: Math.max(tpr.diff, fpr.diff),
    equalizedOddsRatio: Math.min(tpr.ratio, fpr.ratio),
    equalOpportunityDifference: tpr.diff,
    equalOpportunityRatio: tpr.ratio,
    passesFourFifths: dp.ratio >= threshold,
    fourFifthsThreshold: threshold,
  };
}
