/**
 * Classification metrics with scikit-learn's definitions and defaults, so numbers read the same as a
 * notebook's: accuracy, precision/recall/F1 (average "binary" for two labels, else "macro"; a 0/0
 * ratio counts as 0 as sklearn's zero_division="warn" does), ROC AUC (binary, ties scored ½), log loss
 * (probabilities clipped to [ε, 1−ε], ε = 2⁻⁵², as sklearn's eps="auto"), and the expected calibration
 * error over 10 equal-width bins of the positive-class probability.
 */
import { InvalidInputError } from "../errors.js";

export type Label = string | number | boolean;
export type Average = "binary" | "macro" | "micro" | "weighted";

function sameLength(a: ArrayLike<unknown>, b: ArrayLike<unknown>, what: string): void {
  if (a.length !== b.length) throw new InvalidInputError(`${what}: ${a.length} labels but ${b.length} predictions`);
  if (a.length === 0) throw new InvalidInputError(`${what}: no rows to evaluate`);
}

export function accuracy(yTrue: ArrayLike<Label>, yPred: ArrayLike<Label>): number {
  sameLength(yTrue, yPred, "accuracy");
  let hit = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hit++;
  return hit / yTrue.length;
}

/** Sorted distinct labels of both arrays (numbers numerically, others as strings), as sklearn's unique_labels. */
export function labelsOf(...arrays: ArrayLike<Label>[]): Label[] {
  const set = new Set<Label>();
  for (const a of arrays) for (let i = 0; i < a.length; i++) set.add(a[i]!);
  return [...set].sort((x, y) =>
    typeof x === "number" && typeof y === "number" ? x - y : String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0,
  );
}

const ratio = (num: number, den: number): number => (den === 0 ? 0 : num / den);

export interface PrfOptions {
  /** Averaging (default "binary" when there are at most two labels, else "macro"). */
  average?: Average;
  /** The positive class for average "binary" (default 1, or true, or the larger of two labels). */
  posLabel?: Label;
}

export interface Prf {
  precision: number;
  recall: number;
  f1: number;
}

/** The positive class when none is named: 1, else true, else "1", else the last label in sorted order. */
export function defaultPosLabel(labels: Label[]): Label {
  if (labels.includes(1)) return 1;
  if (labels.includes(true)) return true;
  if (labels.includes("1")) return "1";
  return labels[labels.length - 1]!;
}

/** Precision, recall and F1 together (one pass over the confusion counts). */
export function precisionRecallF1(yTrue: ArrayLike<Label>, yPred: ArrayLike<Label>, options: PrfOptions = {}): Prf {
  sameLength(yTrue, yPred, "precision/recall");
  const labels = labelsOf(yTrue, yPred);
  const average = options.average ?? (labels.length <= 2 ? "binary" : "macro");
  const tp = new Map<Label, number>();
  const predicted = new Map<Label, number>();
  const actual = new Map<Label, number>();
  const bump = (m: Map<Label, number>, k: Label): void => void m.set(k, (m.get(k) ?? 0) + 1);
  for (let i = 0; i < yTrue.length; i++) {
    bump(actual, yTrue[i]!);
    bump(predicted, yPred[i]!);
    if (yTrue[i] === yPred[i]) bump(tp, yTrue[i]!);
  }
  const one = (k: Label): Prf => {
    const p = ratio(tp.get(k) ?? 0, predicted.get(k) ?? 0);
    const r = ratio(tp.get(k) ?? 0, actual.get(k) ?? 0);
    return { precision: p, recall: r, f1: ratio(2 * p * r, p + r) };
  };
  switch (average) {
    case "binary": {
      if (labels.length > 2) throw new InvalidInputError(`average "binary" needs two labels, found ${labels.length}`);
      return one(options.posLabel ?? defaultPosLabel(labels));
    }
    case "micro": {
      // Every row is one prediction: micro precision = recall = F1 = accuracy for single-label data.
      const a = accuracy(yTrue, yPred);
      return { precision: a, recall: a, f1: a };
    }
    case "macro":
    case "weighted": {
      let p = 0;
      let r = 0;
      let f = 0;
      let wsum = 0;
      for (const k of labels) {
        const w = average === "macro" ? 1 : (actual.get(k) ?? 0);
        const m = one(k);
        p += w * m.precision;
        r += w * m.recall;
        f += w * m.f1;
        wsum += w;
      }
      return { precision: ratio(p, wsum), recall: ratio(r, wsum), f1: ratio(f, wsum) };
    }
  }
}

/** Binary ROC AUC from positive-class scores: the Mann-Whitney U with tied scores counted ½. */
export function rocAuc(yTrue: ArrayLike<Label>, score: ArrayLike<number>, posLabel?: Label): number {
  sameLength(yTrue, score, "roc_auc");
  const labels = labelsOf(yTrue);
  if (labels.length !== 2)
    throw new InvalidInputError(`roc_auc needs both classes in the labels, found ${labels.length}`);
  const pos = posLabel ?? defaultPosLabel(labels);
  const order = Array.from({ length: score.length }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
  // Average ranks over ties, then U = Σ ranks of positives − nPos(nPos+1)/2.
  let rankSum = 0;
  let nPos = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && score[order[j + 1]!] === score[order[i]!]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (yTrue[order[k]!] === pos) {
        rankSum += avgRank;
        nPos++;
      }
    }
    i = j + 1;
  }
  const nNeg = order.length - nPos;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

const EPS = 2 ** -52;

/**
 * Log loss. `proba` is either the positive-class probability per row (binary) or one row of class
 * probabilities per row in the order of `classes` (default: the sorted labels).
 */
export function logLoss(
  yTrue: ArrayLike<Label>,
  proba: ArrayLike<number> | ArrayLike<ArrayLike<number>>,
  classes?: Label[],
): number {
  sameLength(yTrue, proba, "log_loss");
  const cls = classes ?? labelsOf(yTrue);
  let total = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const row = proba[i]!;
    const probs = typeof row === "number" ? [1 - row, row] : Array.from(row);
    if (probs.length !== Math.max(2, cls.length)) {
      throw new InvalidInputError(`log_loss: row ${i} has ${probs.length} probabilities for ${cls.length} classes`);
    }
    const clipped = probs.map((p) => Math.min(1 - EPS, Math.max(EPS, p)));
    const sum = clipped.reduce((a, b) => a + b, 0);
    const at = cls.indexOf(yTrue[i]!);
    if (at < 0) throw new InvalidInputError(`log_loss: row ${i} has label ${String(yTrue[i])} outside the classes`);
    total -= Math.log(clipped[at]! / sum);
  }
  return total / yTrue.length;
}

/** Default number of equal-width probability bins for the expected calibration error. */
export const CALIBRATION_BINS = 10;

/** Expected calibration error: Σ_bins (n_b/n)·|fraction positive − mean probability| over [0,1] in equal bins. */
export function calibrationError(
  yTrue: ArrayLike<Label>,
  probability: ArrayLike<number>,
  options: { posLabel?: Label; bins?: number } = {},
): number {
  sameLength(yTrue, probability, "calibration_error");
  const bins = options.bins ?? CALIBRATION_BINS;
  const pos = options.posLabel ?? defaultPosLabel(labelsOf(yTrue));
  const count = new Float64Array(bins);
  const hits = new Float64Array(bins);
  const conf = new Float64Array(bins);
  const step = 1 / bins;
  for (let i = 0; i < yTrue.length; i++) {
    const p = probability[i]!;
    // sklearn's calibration_curve binning: the number of inner edges k·(1/bins) below p.
    let b = 0;
    while (b < bins - 1 && (b + 1) * step < p) b++;
    count[b]!++;
    conf[b]! += p;
    if (yTrue[i] === pos) hits[b]!++;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    if (count[b] === 0) continue;
    ece += (count[b]! / yTrue.length) * Math.abs(hits[b]! / count[b]! - conf[b]! / count[b]!);
  }
  return ece;
}
