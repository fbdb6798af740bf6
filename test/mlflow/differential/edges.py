# The edges training loops reach: async logging, runs described and tagged at start, metric steps
# negative or past 2^31, NaN and infinities in search, the same metric at one step twice, unicode
# keys and values, MLFLOW_RUN_ID-style resume of a finished run, and system tags.
import math
import mlflow


def scenario(ctx):
    c, out = ctx.client, ctx.out
    exp = mlflow.set_experiment("edges").experiment_id
    with mlflow.start_run(run_name="described", description="a note", tags={"team": "ml"}) as run:
        rid = run.info.run_id
        mlflow.log_metric("async", 1.0, synchronous=False)
        mlflow.log_param("async_p", "x", synchronous=False)
        mlflow.set_tag("async_t", "y", synchronous=False)
        mlflow.log_metric("steps", 1.0, step=-5)
        mlflow.log_metric("steps", 2.0, step=2**40)
        mlflow.log_metric("steps", 3.0, step=0)
        mlflow.log_metric("twice", 1.0, step=1, timestamp=1000)
        mlflow.log_metric("twice", 2.0, step=1, timestamp=1000)
        mlflow.log_metric("twice", 2.0, step=1, timestamp=1000)
        mlflow.log_metric("nan", float("nan"))
        mlflow.log_metric("inf", float("inf"))
        mlflow.log_metric("ninf", float("-inf"))
        mlflow.log_metric("big", 1e308)
        mlflow.log_param("ünïcödé", "välue ✓")
        mlflow.set_tag("emoji", "🚀")
        mlflow.log_metric("long ago", 1.0, timestamp=0)
    got = c.get_run(rid)
    out["tags"] = {k: v for k, v in got.data.tags.items() if k in ("team", "mlflow.note.content", "async_t", "emoji", "mlflow.runName")}
    out["params"] = got.data.params
    out["metrics"] = {k: ("nan" if isinstance(v, float) and math.isnan(v) else v) for k, v in got.data.metrics.items()}
    out["steps history"] = sorted((m.step, m.value) for m in c.get_metric_history(rid, "steps"))
    out["twice history"] = sorted((m.step, m.value, m.timestamp) for m in c.get_metric_history(rid, "twice"))
    # timestamp=0 is falsy to the fluent API: it logs the current time instead.
    out["timestamp 0 is now"] = [m.timestamp > 1e12 for m in c.get_metric_history(rid, "long ago")]
    search = lambda f: sorted(r.info.run_name for r in c.search_runs([exp], f))
    for f in ["metrics.nan != 0", "metrics.nan = 0", "metrics.inf > 1e300", "metrics.ninf < 0", "metrics.big >= 1e308", "params.`ünïcödé` = 'välue ✓'", "tags.emoji = '🚀'", "metrics.steps = 3", "tags.`mlflow.note.content` = 'a note'"]:
        out[f"search {f}"] = ctx.attempt(lambda: search(f))
    out["order by nan"] = [r.info.run_name for r in c.search_runs([exp], order_by=["metrics.nan DESC"])]

    # Resuming a finished run (MLFLOW_RUN_ID or start_run(run_id=)) makes it RUNNING, then FINISHED.
    with mlflow.start_run(run_id=rid):
        out["resumed status"] = c.get_run(rid).info.status
        mlflow.log_metric("after resume", 1.0)
    info = c.get_run(rid).info
    out["after resume"] = [info.status, info.end_time is not None]
    # A run ended by hand with an end time before its start.
    r2 = c.create_run(exp, run_name="odd", start_time=2000).info.run_id
    c.set_terminated(r2, "FAILED", end_time=1000)
    out["end before start"] = (lambda i: [i.status, i.start_time, i.end_time])(c.get_run(r2).info)
    out["update run name"] = ctx.attempt(lambda: (c.update_run(r2, name="renamed"), c.get_run(r2).info.run_name, c.get_run(r2).data.tags.get("mlflow.runName"))[1:])
    out["update status only"] = ctx.attempt(lambda: (c.update_run(r2, status="RUNNING"), c.get_run(r2).info.status)[1])
    out["create run unknown experiment"] = ctx.attempt(lambda: c.create_run("999999") and "created")
    out["log to unknown run"] = ctx.attempt(lambda: c.log_metric("f" * 32, "m", 1.0))
