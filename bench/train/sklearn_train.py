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
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import mean_squared_error, roc_auc_score


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
    if meta["task"] == "classification":
        model = HistGradientBoostingClassifier(loss="log_loss", **common)
    else:
        model = HistGradientBoostingRegressor(loss="squared_error", **common)
    t0 = time.perf_counter()
    model.fit(x_train, y_train)
    fit_s = time.perf_counter() - t0
    if meta["task"] == "classification":
        metric = {"roc_auc": float(roc_auc_score(y_test, model.predict_proba(x_test)[:, 1]))}
    else:
        metric = {"rmse": float(np.sqrt(mean_squared_error(y_test, model.predict(x_test))))}
    print(json.dumps({**metric, "fit_seconds": fit_s, "n_iter": int(model.n_iter_)}))


if __name__ == "__main__":
    main()
