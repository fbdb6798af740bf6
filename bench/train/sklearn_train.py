"""Baseline for bench/train: scikit-learn's HistGradientBoosting on the exact matrices Tandem trained on.

Usage: sklearn_train.py DIR
DIR holds meta.json and raw little-endian arrays written by run.ts (x_train.f32, y_train.f64, x_test.f32,
y_test.f64). Prints one JSON object: the test metric, the fit wall time and the iterations used.
"""

import json
import os
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import mean_squared_error, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def load(d, name, dtype, cols=None):
    a = np.fromfile(os.path.join(d, name), dtype=dtype)
    return a.reshape(-1, cols) if cols else a


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    cols = meta["cols"]
    x_train = load(d, "x_train.f32", np.float32, cols)
    y_train = load(d, "y_train.f64", np.float64)
    x_test = load(d, "x_test.f32", np.float32, cols)
    y_test = load(d, "y_test.f64", np.float64)
    p = meta["params"]
    classification = meta["task"] == "classification"
    if meta["algorithm"] == "logistic_regression":
        # Tandem minimises mean loss + l2/2·|w|² on standardised features; scikit-learn's C and alpha
        # weigh the summed loss instead, hence the factor n.
        n = len(y_train)
        if classification:
            est = LogisticRegression(C=1.0 / (p["l2_regularization"] * n), max_iter=1000)
        else:
            est = Ridge(alpha=p["l2_regularization"] * n)
        model = make_pipeline(StandardScaler(), est)
    else:
        model = make_hist_gbdt(p, classification)
    t0 = time.perf_counter()
    model.fit(x_train, y_train)
    fit_s = time.perf_counter() - t0
    if classification:
        metric = {"roc_auc": float(roc_auc_score(y_test, model.predict_proba(x_test)[:, 1]))}
    else:
        metric = {"rmse": float(np.sqrt(mean_squared_error(y_test, model.predict(x_test))))}
    n_iter = int(getattr(model, "n_iter_", 0) or 0)
    print(json.dumps({**metric, "fit_seconds": fit_s, "n_iter": n_iter, "sklearn": sklearn.__version__}))


def make_hist_gbdt(p, classification):
    common = dict(
        max_iter=p["max_iter"],
        learning_rate=p["learning_rate"],
        max_leaf_nodes=p["max_leaf_nodes"],
        min_samples_leaf=p["min_samples_leaf"],
        l2_regularization=p["l2_regularization"],
        max_bins=p["max_bins"],
        early_stopping=p["early_stopping"],
        validation_fraction=p["validation_fraction"],
        n_iter_no_change=p["n_iter_no_change"],
        tol=p["tol"],
        random_state=p["seed"],
    )
    if classification:
        return HistGradientBoostingClassifier(loss="log_loss", **common)
    return HistGradientBoostingRegressor(loss="squared_error", **common)


if __name__ == "__main__":
    main()
