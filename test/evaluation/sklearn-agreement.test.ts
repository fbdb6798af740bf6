/**
 * Evaluation metrics agree with scikit-learn (and Fairlearn's definitions) to 1e-9 on fixtures made by
 * scripts/make-sklearn-fixtures.py with Debian's python3-sklearn.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  classificationMetrics,
  fairnessReport,
  precisionRecallF1,
  regressionMetrics,
  selectionRate,
} from "../../src/core/evaluation/index.js";

interface Binary {
  y_true: number[];
  y_pred: number[];
  score: number[];
  group: string[];
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  roc_auc: number;
  log_loss: number;
  calibration_error: number;
  fairness: {
    groups: Record<string, { selection_rate: number; tpr: number; fpr: number; accuracy: number }>;
    demographic_parity_difference: number;
    demographic_parity_ratio: number;
    equalized_odds_difference: number;
    equal_opportunity_difference: number;
  };
}
interface Fixtures {
  binary: Binary[];
  multiclass: (Record<string, number> & { y_true: number[]; y_pred: number[] })[];
  regression: { y_true: number[]; y_pred: number[]; rmse: number; mae: number; r2: number }[];
}

const fx = JSON.parse(
  readFileSync(new URL("../fixtures/sklearn/evaluation.json", import.meta.url), "utf8"),
) as Fixtures;
const close = (a: number | null, b: number): void => expect(Math.abs(a! - b)).toBeLessThanOrEqual(1e-9);

describe("classification metrics match scikit-learn", () => {
  fx.binary.forEach((c, i) => {
    it(`binary case ${i} (${c.y_true.length} rows)`, () => {
      const m = classificationMetrics({ yTrue: c.y_true, yPred: c.y_pred, probability: c.score });
      close(m.accuracy, c.accuracy);
      close(m.precision, c.precision);
      close(m.recall, c.recall);
      close(m.f1, c.f1);
      close(m.roc_auc, c.roc_auc);
      close(m.log_loss, c.log_loss);
      close(m.calibration_error, c.calibration_error);
    });
  });
  it("multiclass macro, micro and weighted averages", () => {
    for (const c of fx.multiclass) {
      for (const average of ["macro", "micro", "weighted"] as const) {
        const m = precisionRecallF1(c.y_true, c.y_pred, { average });
        close(m.precision, c[`precision_${average}`]!);
        close(m.recall, c[`recall_${average}`]!);
        close(m.f1, c[`f1_${average}`]!);
      }
    }
  });
});

describe("regression metrics match scikit-learn", () => {
  it("rmse, mae, r2", () => {
    for (const c of fx.regression) {
      const m = regressionMetrics(c.y_true, c.y_pred);
      close(m.rmse, c.rmse);
      close(m.mae, c.mae);
      close(m.r2, c.r2);
    }
  });
});

describe("fairness metrics follow Fairlearn's definitions", () => {
  fx.binary.forEach((c, i) => {
    it(`binary case ${i}`, () => {
      const f = fairnessReport(c.y_true, c.y_pred, c.group);
      for (const g of f.groups) {
        const e = c.fairness.groups[g.group]!;
        close(g.selectionRate, e.selection_rate);
        close(g.truePositiveRate, e.tpr);
        close(g.falsePositiveRate, e.fpr);
        close(g.accuracy, e.accuracy);
      }
      close(f.demographicParityDifference, c.fairness.demographic_parity_difference);
      close(f.demographicParityRatio, c.fairness.demographic_parity_ratio);
      close(f.equalizedOddsDifference, c.fairness.equalized_odds_difference);
      close(f.equalOpportunityDifference, c.fairness.equal_opportunity_difference);
      expect(f.passesFourFifths).toBe(c.fairness.demographic_parity_ratio >= 0.8);
      close(selectionRate(c.y_pred), c.y_pred.filter((v) => v === 1).length / c.y_pred.length);
    });
  });
});
