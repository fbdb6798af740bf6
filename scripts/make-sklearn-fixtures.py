#!/usr/bin/env python3
"""Expected evaluation metrics from scikit-learn, for test/evaluation/sklearn-agreement.test.ts.

Run with Debian's python3-sklearn:
    /usr/bin/python3 scripts/make-sklearn-fixtures.py && npx prettier --write test/fixtures/sklearn
Inputs are small and stored in the JSON. Fairlearn is not packaged for Debian, so the fairness numbers
are computed here from Fairlearn's documented definitions with scikit-learn's per-group metrics.
"""
import json
import os

import numpy as np
import sklearn
from sklearn import metrics
from sklearn.calibration import calibration_curve

rng = np.random.default_rng(8)


def binary_case(n, skew):
    y = (rng.random(n) < 0.4).astype(int)
    score = np.clip(0.5 * y + rng.normal(0.25, 0.25, n) * skew, 0.001, 0.999)
    score = np.round(score, 3)  # ties in the scores exercise ROC AUC's half-credit
    pred = (score >= 0.5).astype(int)
    group = np.where(rng.random(n) < 0.3, "a", np.where(rng.random(n) < 0.5, "b", "c"))
    prob_true, prob_pred = calibration_curve(y, score, n_bins=10, strategy="uniform")
    bins = np.linspace(0.0, 1.0, 11)
    ids = np.searchsorted(bins[1:-1], score)  # side "left", as calibration_curve
    counts = np.bincount(ids, minlength=10)
    nz = counts[counts > 0]
    ece = float(np.sum(nz / n * np.abs(prob_true - prob_pred)))
    groups = {}
    for g in sorted(set(group)):
        m = group == g
        groups[g] = {
            "selection_rate": float(np.mean(pred[m] == 1)),
            "tpr": float(metrics.recall_score(y[m], pred[m], zero_division=0)),
            "fpr": float(np.mean(pred[m][y[m] == 0] == 1)),
            "accuracy": float(metrics.accuracy_score(y[m], pred[m])),
        }
    sel = [v["selection_rate"] for v in groups.values()]
    tpr = [v["tpr"] for v in groups.values()]
    fpr = [v["fpr"] for v in groups.values()]
    return {
        "y_true": y.tolist(),
        "y_pred": pred.tolist(),
        "score": score.tolist(),
        "group": group.tolist(),
        "accuracy": metrics.accuracy_score(y, pred),
        "precision": metrics.precision_score(y, pred),
        "recall": metrics.recall_score(y, pred),
        "f1": metrics.f1_score(y, pred),
        "roc_auc": metrics.roc_auc_score(y, score),
        "log_loss": metrics.log_loss(y, score),
        "calibration_error": ece,
        "fairness": {
            "groups": groups,
            "demographic_parity_difference": max(sel) - min(sel),
            "demographic_parity_ratio": min(sel) / max(sel),
            "equalized_odds_difference": max(max(tpr) - min(tpr), max(fpr) - min(fpr)),
            "equal_opportunity_difference": max(tpr) - min(tpr),
        },
    }


def multiclass_case(n):
    y = rng.integers(0, 3, n)
    pred = np.where(rng.random(n) < 0.7, y, rng.integers(0, 3, n))
    return {
        "y_true": y.tolist(),
        "y_pred": pred.tolist(),
        "accuracy": metrics.accuracy_score(y, pred),
        **{
            f"{name}_{avg}": float(fn(y, pred, average=avg))
            for avg in ("macro", "micro", "weighted")
            for name, fn in (("precision", metrics.precision_score), ("recall", metrics.recall_score), ("f1", metrics.f1_score))
        },
    }


def regression_case(n):
    y = rng.normal(10, 3, n)
    pred = y + rng.normal(0.5, 1.5, n)
    return {
        "y_true": y.tolist(),
        "y_pred": pred.tolist(),
        "rmse": float(np.sqrt(metrics.mean_squared_error(y, pred))),
        "mae": float(metrics.mean_absolute_error(y, pred)),
        "r2": float(metrics.r2_score(y, pred)),
    }


def main():
    out = {
        "generator": "scripts/make-sklearn-fixtures.py",
        "sklearn": sklearn.__version__,
        "binary": [binary_case(300, 1.0), binary_case(120, 1.6)],
        "multiclass": [multiclass_case(200)],
        "regression": [regression_case(150)],
    }
    path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "sklearn", "evaluation.json")
    with open(path, "w") as f:
        json.dump(out, f)
        f.write("\n")
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
