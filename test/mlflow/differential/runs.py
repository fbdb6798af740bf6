# Runs as a training script uses them: nested runs, resuming a run by id, metrics with steps and
# timestamps, log_batch at and over MLflow's limits, bad keys, a param logged twice, long values.
import mlflow
from mlflow.entities import Metric, Param, RunTag


def scenario(ctx):
    c, out = ctx.client, ctx.out
    mlflow.set_experiment("runs")
    with mlflow.start_run(run_name="parent") as parent:
        mlflow.log_param("lr", 0.1)
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_metrics({"loss": 0.5, "acc": 0.7}, step=1)
            mlflow.log_metrics({"loss": 0.4, "acc": 0.8}, step=2)
            mlflow.log_metric("loss", 0.3, step=3, timestamp=1700000000000)
    got = c.get_run(child.info.run_id)
    out["child parent tag is parent"] = got.data.tags.get("mlflow.parentRunId") == parent.info.run_id
    out["child status"] = got.info.status
    out["child latest metrics"] = got.data.metrics
    out["loss history"] = [(m.step, m.value) for m in c.get_metric_history(child.info.run_id, "loss")]
    out["loss timestamp at step 3"] = [m.timestamp for m in c.get_metric_history(child.info.run_id, "loss") if m.step == 3]

    # Resume the parent by id and log more; it ends FINISHED again.
    with mlflow.start_run(run_id=parent.info.run_id) as resumed:
        out["resumed same id"] = resumed.info.run_id == parent.info.run_id
        out["resumed status while active"] = c.get_run(parent.info.run_id).info.status
        mlflow.log_metric("after", 1.0)
    out["resumed status after"] = c.get_run(parent.info.run_id).info.status
    out["resumed metrics"] = c.get_run(parent.info.run_id).data.metrics

    # A run of its own for the error cases.
    run = c.create_run(c.get_experiment_by_name("runs").experiment_id)
    rid = run.info.run_id
    out["param twice, same value"] = ctx.attempt(lambda: (c.log_param(rid, "p", "1"), c.log_param(rid, "p", "1")) and "ok")
    out["param twice, other value"] = ctx.attempt(lambda: c.log_param(rid, "p", "2"))
    for name in ["bad!key", "a/../b", "..", "/abs", "ok:colon", "x" * 251]:
        out[f"metric key {name[:20]!r}"] = ctx.attempt(lambda: c.log_metric(rid, name, 1.0) or "ok")
        out[f"param key {name[:20]!r}"] = ctx.attempt(lambda: c.log_param(rid, name, "v") and "ok")
        out[f"tag key {name[:20]!r}"] = ctx.attempt(lambda: c.set_tag(rid, name, "v") or "ok")
    out["metric key ''"] = ctx.attempt(lambda: c.log_metric(rid, "", 1.0) or "ok")
    out["delete absent run tag"] = ctx.attempt(lambda: c.delete_tag(rid, "nope") or "ok")
    out["metric NaN"] = ctx.attempt(lambda: c.log_metric(rid, "nan", float("nan")) or "ok")
    out["metric inf"] = ctx.attempt(lambda: c.log_metric(rid, "inf", float("inf")) or "ok")

    # Long values: MLflow 2.12's server truncates a param value past 6000 and a tag value past 5000.
    out["param 6001 chars"] = ctx.attempt(lambda: c.log_param(rid, "long", "x" * 6001) and "ok")
    out["tag 5001 chars"] = ctx.attempt(lambda: c.set_tag(rid, "long", "y" * 5001) or "ok")
    out["tag 8001 chars"] = ctx.attempt(lambda: c.set_tag(rid, "longer", "y" * 8001) or "ok")
    data = c.get_run(rid).data
    out["stored long param length"] = len(data.params.get("long", ""))
    out["stored long tag lengths"] = [len(data.tags.get("long", "")), len(data.tags.get("longer", ""))]

    # log_batch through the client: it splits over-limit batches itself.
    r2 = c.create_run(run.info.experiment_id).info.run_id
    c.log_batch(
        r2,
        metrics=[Metric(f"m{i}", i, 1700000000000 + i, i) for i in range(1500)],
        params=[Param(f"p{i}", str(i)) for i in range(150)],
        tags=[RunTag(f"t{i}", str(i)) for i in range(150)],
    )
    d2 = c.get_run(r2).data
    out["client log_batch counts"] = [len(d2.metrics), len(d2.params), len([k for k in d2.tags if k.startswith("t")])]

    # log-batch over REST, as a non-Python client sends it: MLflow's own limits and messages.
    m = lambda n: [{"key": f"k{i}", "value": 1, "timestamp": 1, "step": 0} for i in range(n)]
    kv = lambda n, p: [{"key": f"{p}{i}", "value": "v"} for i in range(n)]
    r3 = c.create_run(run.info.experiment_id).info.run_id
    cases = {
        "1000 metrics": {"metrics": m(1000)},
        "1001 metrics": {"metrics": m(1001)},
        "101 params": {"params": kv(101, "p")},
        "101 tags": {"tags": kv(101, "t")},
        "900 metrics + 100 params + 1 tag": {"metrics": m(900), "params": kv(100, "q"), "tags": kv(1, "u")},
        "duplicate param keys": {"params": [{"key": "d", "value": "1"}, {"key": "d", "value": "2"}]},
        "metric without value": {"metrics": [{"key": "nv", "timestamp": 1, "step": 0}]},
        "metric without timestamp": {"metrics": [{"key": "nt", "value": 1, "step": 0}]},
        "bad metric key": {"metrics": [{"key": "no!", "value": 1, "timestamp": 1, "step": 0}]},
    }
    for name, body in cases.items():
        r = ctx.raw("POST", "runs/log-batch", {"run_id": r3, **body})
        out[f"REST log-batch {name}"] = {"status": r["status"], **({"body": r["body"]} if r["status"] != 200 else {})}
    out["REST log-batch unknown run"] = ctx.raw("POST", "runs/log-batch", {"run_id": "0" * 32, "params": kv(1, "p")})
    out["REST log-batch no run"] = ctx.raw("POST", "runs/log-batch", {"params": kv(1, "p")})
