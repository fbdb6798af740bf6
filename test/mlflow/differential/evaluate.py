# mlflow.evaluate with the default evaluator on a logged sklearn classifier: the metrics, plots,
# evaluation dataset and tags it logs to the run, as a user's evaluation script reads them back.
import mlflow
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression


def scenario(ctx):
    c, out = ctx.client, ctx.out
    X, y = load_iris(return_X_y=True, as_frame=True)
    data = X.assign(label=(y == 1).astype(int))
    mlflow.set_experiment("evaluate")
    with mlflow.start_run() as run:
        model = LogisticRegression(max_iter=300).fit(X, data["label"])
        info = mlflow.sklearn.log_model(model, "model")
        result = ctx.attempt(lambda: mlflow.evaluate(info.model_uri, data, targets="label", model_type="classifier", evaluators=["default"]))
    out["evaluate"] = sorted(result.metrics) if hasattr(result, "metrics") else result
    r = c.get_run(run.info.run_id)
    out["metric keys"] = sorted(r.data.metrics)
    out["inputs"] = [(d.dataset.source_type, {t.key: t.value for t in d.tags}) for d in r.inputs.dataset_inputs]
    out["artifacts"] = sorted(f.path for f in c.list_artifacts(run.info.run_id))
    out["tags"] = sorted(k for k in r.data.tags if not k.startswith("mlflow.source") and k != "mlflow.user")
