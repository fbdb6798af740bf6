/**
 * A binary classifier's curves as scikit-learn 1.2 computes them, so a drawn ROC or PR curve reads
 * the same as a notebook's: `roc_curve` (drop_intermediate as asked; the first threshold is the top
 * score + 1), `precision_recall_curve` (one point per distinct score, then precision 1 at recall 0),
 * their areas (`roc_auc_score` = the trapezoids under the ROC curve; `average_precision_score` =
 * Σ (Rₙ − Rₙ₋₁) Pₙ), and the confusion matrix at a threshold (score ≥ threshold is positive).
 */
import { InvalidInputError } from "../errors.js";

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  thresholds: number[];
}

export interface PrCurve {
  precision: number[];
  recall: number[];
  /** One fewer than the points: the last point (precision 1, recall 0) has no threshold. */
  thresholds: number[];
}

/** [[TN, FP], [FN, TP]] at `threshold`, rows the true class, as sklearn's confusion_matrix orders labels. */
export interface ConfusionAt {
  threshold: number;
  matrix: [[number, number], [number, number]];
}

/** Cumulative false and true positives at each distinct score, highest score first (sklearn's _binary_clf_curve). */
function countsByThreshold(positive: ArrayLike<boolean>, score: ArrayLike<number>) {
  if (positive.length !== score.length)
    throw new InvalidInputError(`curves: ${positive.length} labels but ${score.length} scores`);
  if (positive.length === 0) throw new InvalidInputError("curves: no rows to evaluate");
  const order = Array.from({ length: score.length }, (_, i) => i).sort((a, b) => score[b]! - score[a]!);
  const fps: number[] = [];
  const tps: number[] = [];
  const thresholds: number[] = [];
  let tp = 0;
  for (let k = 0; k < order.length; k++) {
    if (positive[order[k]!]) tp++;
    const last = k === order.length - 1 || score[order[k + 1]!] !== score[order[k]!];
    if (!last) continue;
    tps.push(tp);
    fps.push(k + 1 - tp);
    thresholds.push(score[order[k]!]!);
  }
  return { fps, tps, thresholds };
}

/** sklearn.metrics.roc_curve(y, score, drop_intermediate=…) (default true: collinear points go). */
export function rocCurve(
  positive: ArrayLike<boolean>,
  score: ArrayLike<number>,
  options: { dropIntermediate?: boolean } = {},
): RocCurve {
  let { fps, tps, thresholds } = countsByThreshold(positive, score);
  if ((options.dropIntermediate ?? true) && fps.length > 2) {
    // Keep the ends and every point where the curve bends (a non-zero second difference).
    const keep = fps
      .map((_, i) => i)
      .filter(
        (i) =>
          i === 0 ||
          i === fps.length - 1 ||
          fps[i + 1]! - 2 * fps[i]! + fps[i - 1]! !== 0 ||
          tps[i + 1]! - 2 * tps[i]! + tps[i - 1]! !== 0,
      );
    fps = keep.map((i) => fps[i]!);
    tps = keep.map((i) => tps[i]!);
    thresholds = keep.map((i) => thresholds[i]!);
  }
  const negatives = fps[fps.length - 1]!;
  const positives = tps[tps.length - 1]!;
  // sklearn answers NaN (and warns) when a class is missing; a curve needs both.
  if (negatives === 0 || positives === 0)
    throw new InvalidInputError("curves: the labels have only one class, so there is no ROC curve");
  return {
    fpr: [0, ...fps.map((f) => f / negatives)],
    tpr: [0, ...tps.map((t) => t / positives)],
    thresholds: [thresholds[0]! + 1, ...thresholds],
  };
}

/** sklearn.metrics.precision_recall_curve(y, score), points from the lowest threshold up. */
export function precisionRecallCurve(positive: ArrayLike<boolean>, score: ArrayLike<number>): PrCurve {
  const { fps, tps, thresholds } = countsByThreshold(positive, score);
  const positives = tps[tps.length - 1]!;
  const precision = tps.map((t, i) => (t + fps[i]! === 0 ? 0 : t / (t + fps[i]!))).reverse();
  const recall = tps.map((t) => (positives === 0 ? 1 : t / positives)).reverse();
  return { precision: [...precision, 1], recall: [...recall, 0], thresholds: [...thresholds].reverse() };
}

/** Area under the ROC curve by trapezoids (equals sklearn's roc_auc_score for binary labels). */
export function areaUnderRoc(roc: RocCurve): number {
  let area = 0;
  for (let i = 1; i < roc.fpr.length; i++)
    area += ((roc.fpr[i]! - roc.fpr[i - 1]!) * (roc.tpr[i]! + roc.tpr[i - 1]!)) / 2;
  return area;
}

/** sklearn.metrics.average_precision_score: −Σ (recallₙ₊₁ − recallₙ) · precisionₙ over the PR points. */
export function averagePrecision(pr: PrCurve): number {
  let ap = 0;
  for (let i = 0; i < pr.recall.length - 1; i++) ap -= (pr.recall[i + 1]! - pr.recall[i]!) * pr.precision[i]!;
  return ap;
}

/** The confusion matrix when a score at or above `threshold` is called positive. */
export function confusionAt(positive: ArrayLike<boolean>, score: ArrayLike<number>, threshold: number): ConfusionAt {
  const m: [[number, number], [number, number]] = [
    [0, 0],
    [0, 0],
  ];
  for (let i = 0; i < positive.length; i++) m[positive[i] ? 1 : 0][score[i]! >= threshold ? 1 : 0]++;
  return { threshold, matrix: m };
}

/** What an evaluation keeps of a binary classifier: both curves down-sampled, their areas, and the matrix. */
export interface ClassifierCurves {
  roc: RocCurve;
  pr: PrCurve;
  /** Over the full curves, before down-sampling (equal to the evaluation's `roc_auc`). */
  rocAuc: number;
  averagePrecision: number;
  confusion: ConfusionAt;
}

/** The most points a stored curve keeps: enough to draw smoothly, small enough for an evaluation row. */
export const MAX_CURVE_POINTS = 200;

/** Every index when there are few, else `max` evenly spaced ones; the first and last always stay. */
function sampledIndices(length: number, max: number): number[] {
  if (length <= max) return Array.from({ length }, (_, i) => i);
  return Array.from({ length: max }, (_, k) => Math.round((k * (length - 1)) / (max - 1)));
}

const pick = (values: number[], at: number[]) => at.map((i) => values[i]!);

/**
 * ROC and PR curves, their areas and the confusion matrix at `threshold`, each curve cut to at most
 * `maxPoints` points (its endpoints kept) so a million-row evaluation still stores a few kilobytes.
 */
export function classifierCurves(
  positive: ArrayLike<boolean>,
  score: ArrayLike<number>,
  options: { threshold?: number; maxPoints?: number } = {},
): ClassifierCurves {
  const max = Math.max(2, options.maxPoints ?? MAX_CURVE_POINTS);
  const roc = rocCurve(positive, score);
  const pr = precisionRecallCurve(positive, score);
  const r = sampledIndices(roc.fpr.length, max);
  const p = sampledIndices(pr.recall.length, max);
  // PR thresholds are one fewer than the points: the last point (recall 0) has none.
  const pt = p.filter((i) => i < pr.thresholds.length);
  return {
    roc: { fpr: pick(roc.fpr, r), tpr: pick(roc.tpr, r), thresholds: pick(roc.thresholds, r) },
    pr: { precision: pick(pr.precision, p), recall: pick(pr.recall, p), thresholds: pick(pr.thresholds, pt) },
    rocAuc: areaUnderRoc(roc),
    averagePrecision: averagePrecision(pr),
    confusion: confusionAt(positive, score, options.threshold ?? 0.5),
  };
}
