# mlflow.autolog() and mlflow.sklearn.autolog() around a scikit-learn fit: params, training metrics,
# the model with its input example and signature, the training dataset as a run input; then a
# dataset logged by hand with mlflow.log_input, and the model loaded back from runs:/.
import os
import mlflow
import mlflow.data
import numpy as np
import pandas as pd
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

VARYING_TAGS = {"mlflow.user", "mlflow.source.name", "mlflow.source.type", "mlflow.source.git.commit", "mlflow.runName"}


def files(client, run_id, path=""):
    out = []
    for f in client.list_artifacts(run_id, path):
        out += files(client, run_id, f.path) if f.is_dir else [f.path]
    return sorted(out)


def summary(ctx, run_id):
    c = ctx.client
    run = c.get_run(run_id)
    history = run.data.tags.get("mlflow.log-model.history")
    return {
        "status": run.info.status,
        "params": run.data.params,
        "metric keys": sorted(run.data.metrics),
        "tag keys": sorted(k for k in run.data.tags if k not in VARYING_TAGS),
        "artifacts": files(c, run_id),
        "inputs": [
            {
                "name": d.dataset.name,
                "digest": d.dataset.digest,
                "source_type": d.dataset.source_type,
                "has schema": bool(d.dataset.schema),
                "has profile": bool(d.dataset.profile),
                "tags": {t.key: t.value for t in d.tags},
            }
            for d in run.inputs.dataset_inputs
        ],
        "logged model flavors": sorted(__import__("json").loads(history)[0]["flavors"]) if history else None,
    }


def scenario(ctx):
    out = ctx.out
    X, y = load_iris(return_X_y=True, as_frame=True)
    mlflow.set_experiment("autolog")

    mlflow.sklearn.autolog(log_input_examples=True, log_model_signatures=True, log_datasets=True)
    with mlflow.start_run() as run:
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(X, y)
    out["sklearn.autolog"] = summary(ctx, run.info.run_id)
    model = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    out["sklearn.autolog predict"] = [int(p) for p in model.predict(X.head(5))]
    out["sklearn.autolog signature inputs"] = [s.name for s in model.metadata.get_input_schema().inputs]
    mlflow.sklearn.autolog(disable=True)

    mlflow.autolog(log_input_examples=True)
    with mlflow.start_run() as run2:
        LogisticRegression(max_iter=300, C=0.5).fit(X.values, y.values)
    out["autolog"] = summary(ctx, run2.info.run_id)
    mlflow.autolog(disable=True)

    # A fit with no active run: autolog starts and ends one itself.
    mlflow.sklearn.autolog()
    LogisticRegression(max_iter=100).fit(X, y)
    last = mlflow.last_active_run()
    out["autolog without a run"] = summary(ctx, last.info.run_id)
    mlflow.sklearn.autolog(disable=True)

    with mlflow.start_run() as run3:
        df = pd.DataFrame({"a": np.arange(5), "b": np.arange(5) * 2.0})
        ds = mlflow.data.from_pandas(df, source="s3://bucket/train.csv", name="train", targets="b")
        mlflow.log_input(ds, context="training", tags={"split": "train"})
        mlflow.log_input(mlflow.data.from_numpy(np.ones((3, 2)), name="np"), context="eval")
    got = mlflow.get_run(run3.info.run_id)
    out["log_input"] = summary(ctx, run3.info.run_id)["inputs"]
    source = mlflow.data.get_source(got.inputs.dataset_inputs[0])
    out["dataset source"] = type(source).__name__
