/**
 * ROC and PR curves, their areas and the confusion matrix against scikit-learn 1.2.1
 * (/usr/bin/python3; the Python that made each recorded value is beside it).
 */
import { describe, expect, it } from "vitest";
import {
  areaUnderRoc,
  averagePrecision,
  classifierCurves,
  confusionAt,
  precisionRecallCurve,
  rocCurve,
} from "./curves.js";

// y = [0,0,1,1,0,1,0,1,1,0]; s = [0.1,0.4,0.35,0.8,0.4,0.9,0.2,0.55,0.35,0.6]
const Y = [0, 0, 1, 1, 0, 1, 0, 1, 1, 0].map((v) => v === 1);
const S = [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.2, 0.55, 0.35, 0.6];

// 500 rows with ties, the same formula on both sides:
//   i = np.arange(500); s = ((i * 37) % 101) / 100
//   y = (((i * 53) % 7) < 3).astype(int) | ((s > 0.7) & (i % 3 == 0)).astype(int)
const I = Array.from({ length: 500 }, (_, i) => i);
const S500 = I.map((i) => ((i * 37) % 101) / 100);
const Y500 = I.map((i) => (i * 53) % 7 < 3 || (S500[i]! > 0.7 && i % 3 === 0));

describe("curves against scikit-learn", () => {
  it("roc_curve(y, s, drop_intermediate=False) and with the default True", () => {
    expect(rocCurve(Y, S, { dropIntermediate: false })).toEqual({
      fpr: [0.0, 0.0, 0.0, 0.2, 0.2, 0.6, 0.6, 0.8, 1.0],
      tpr: [0.0, 0.2, 0.4, 0.4, 0.6, 0.6, 1.0, 1.0, 1.0],
      thresholds: [1.9, 0.9, 0.8, 0.6, 0.55, 0.4, 0.35, 0.2, 0.1],
    });
    expect(rocCurve(Y, S)).toEqual({
      fpr: [0.0, 0.0, 0.0, 0.2, 0.2, 0.6, 0.6, 1.0],
      tpr: [0.0, 0.2, 0.4, 0.4, 0.6, 0.6, 1.0, 1.0],
      thresholds: [1.9, 0.9, 0.8, 0.6, 0.55, 0.4, 0.35, 0.1],
    });
  });

  it("precision_recall_curve(y, s), roc_auc_score 0.72, average_precision_score 0.8, confusion_matrix at 0.5", () => {
    const pr = precisionRecallCurve(Y, S);
    expect(pr.thresholds).toEqual([0.1, 0.2, 0.35, 0.4, 0.55, 0.6, 0.8, 0.9]);
    expect(pr.recall).toEqual([1.0, 1.0, 1.0, 0.6, 0.6, 0.4, 0.4, 0.2, 0.0]);
    const sk = [0.5, 0.5555555555555556, 0.625, 0.5, 0.75, 0.6666666666666666, 1.0, 1.0, 1.0];
    pr.precision.forEach((p, i) => expect(p).toBeCloseTo(sk[i]!, 15));
    expect(areaUnderRoc(rocCurve(Y, S))).toBeCloseTo(0.72, 15);
    expect(averagePrecision(pr)).toBeCloseTo(0.8, 15);
    expect(confusionAt(Y, S, 0.5).matrix).toEqual([
      [4, 1],
      [2, 3],
    ]);
  });

  it("500 rows with ties: 66 ROC points, 102 PR points, AUC and AP to 1e-12", () => {
    const roc = rocCurve(Y500, S500);
    expect(roc.fpr.length).toBe(66);
    expect(roc.fpr.slice(0, 5)).toEqual([
      0.0, 0.007782101167315175, 0.027237354085603113, 0.038910505836575876, 0.054474708171206226,
    ]);
    expect(roc.tpr.slice(0, 5)).toEqual([
      0.0, 0.012345679012345678, 0.09465020576131687, 0.102880658436214, 0.10699588477366255,
    ]);
    expect(roc.thresholds.slice(0, 5)).toEqual([2.0, 1.0, 0.95, 0.94, 0.93]);
    expect(areaUnderRoc(roc)).toBeCloseTo(0.5869881987478183, 12);
    const pr = precisionRecallCurve(Y500, S500);
    expect(pr.precision.length).toBe(102);
    expect(averagePrecision(pr)).toBeCloseTo(0.5798656780940884, 12);
    expect(confusionAt(Y500, S500, 0.5).matrix).toEqual([
      [143, 114],
      [105, 138],
    ]);
  });

  it("refuses one class or mismatched lengths with a clear error", () => {
    expect(() => rocCurve([true, true], [0.2, 0.3])).toThrow(/only one class/);
    expect(() => precisionRecallCurve([true], [0.2, 0.3])).toThrow(/1 labels but 2 scores/);
  });

  it("stores curves cut to at most maxPoints, endpoints kept, areas from the full curves", () => {
    const full = { roc: rocCurve(Y500, S500), pr: precisionRecallCurve(Y500, S500) };
    const c = classifierCurves(Y500, S500, { maxPoints: 20, threshold: 0.5 });
    expect(full.pr.recall.length).toBeGreaterThan(20);
    expect(c.roc.fpr.length).toBeLessThanOrEqual(20);
    expect(c.pr.recall).toHaveLength(20);
    expect(c.pr.thresholds).toHaveLength(19);
    expect([c.roc.fpr[0], c.roc.tpr[0], c.roc.fpr.at(-1), c.roc.tpr.at(-1)]).toEqual([0, 0, 1, 1]);
    expect([c.pr.recall[0], c.pr.precision.at(-1), c.pr.recall.at(-1)]).toEqual([1, 1, 0]);
    expect(c.rocAuc).toBe(areaUnderRoc(full.roc));
    expect(c.averagePrecision).toBe(averagePrecision(full.pr));
    expect(c.confusion).toEqual(confusionAt(Y500, S500, 0.5));
    // Small curves are kept whole.
    expect(classifierCurves(Y, S).roc).toEqual(rocCurve(Y, S));
  });
});
