#!/usr/bin/env python3
"""Fits y = a*x + b by gradient descent on a small synthetic set and logs the run through MLflow's
REST API (https://mlflow.org/docs/latest/rest-api.html) with nothing but the standard library.

  python3 steps/fit.py --epochs 300 --lr 0.05 --out DIR

Env (Tandem sets these for every step): MLFLOW_TRACKING_URI, MLFLOW_RUN_ID, MLFLOW_TRACKING_TOKEN.
Outside Tandem, without MLFLOW_RUN_ID, it creates a run in the Default experiment itself.
"""
import argparse
import json
import os
import random
import time
import urllib.error
import urllib.request


def mlflow(path, body):
    """POST to the MLflow REST API; errors show the server's message (error_code, message)."""
    uri = os.environ["MLFLOW_TRACKING_URI"].rstrip("/")
    req = urllib.request.Request(
        f"{uri}/api/2.0/mlflow/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            text = res.read().decode()
            return json.loads(text) if text else {}
    except urllib.error.HTTPError as e:
        raise SystemExit(f"MLflow API {path}: HTTP {e.code}: {e.read().decode()}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    run_id = os.environ.get("MLFLOW_RUN_ID")
    if not run_id:
        run_id = mlflow("runs/create", {"experiment_id": "0", "start_time": int(time.time() * 1000)})["run"]["info"]["run_id"]

    rng = random.Random(7)
    xs = [rng.uniform(-2, 2) for _ in range(200)]
    ys = [3.0 * x - 1.0 + rng.gauss(0, 0.3) for x in xs]
    a, b = 0.0, 0.0
    mlflow("runs/log-batch", {
        "run_id": run_id,
        "params": [{"key": "epochs", "value": str(args.epochs)}, {"key": "learning_rate", "value": str(args.lr)}],
        "tags": [{"key": "framework", "value": "python-stdlib"}],
    })
    history = []
    for epoch in range(args.epochs):
        ga = sum((a * x + b - y) * x for x, y in zip(xs, ys)) * 2 / len(xs)
        gb = sum((a * x + b - y) for x, y in zip(xs, ys)) * 2 / len(xs)
        a, b = a - args.lr * ga, b - args.lr * gb
        if epoch % 25 == 0 or epoch == args.epochs - 1:
            mse = sum((a * x + b - y) ** 2 for x, y in zip(xs, ys)) / len(xs)
            history.append({"key": "mse", "value": mse, "timestamp": int(time.time() * 1000), "step": epoch})
    # One batch for the whole curve: one request instead of one per point.
    mlflow("runs/log-batch", {"run_id": run_id, "metrics": history + [
        {"key": "slope", "value": a, "timestamp": int(time.time() * 1000), "step": 0},
        {"key": "intercept", "value": b, "timestamp": int(time.time() * 1000), "step": 0},
    ]})
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "model.json"), "w") as f:
        json.dump({"slope": a, "intercept": b}, f)
    print(f"fitted y = {a:.3f}x + {b:.3f}; final mse {history[-1]['value']:.4f}; logged to run {run_id}")


if __name__ == "__main__":
    main()
