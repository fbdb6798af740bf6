# Finding runs as an analysis notebook does: mlflow.search_runs (pandas) with metrics./params./tags./
# attributes. filters, LIKE/ILIKE, IN, order_by, max_results and page tokens; search_experiments;
# get_metric_history.
import mlflow


def names(frame):
    return list(frame["tags.mlflow.runName"]) if len(frame) else []


def scenario(ctx):
    c, out = ctx.client, ctx.out
    exp = mlflow.set_experiment("search").experiment_id
    other = c.create_experiment("search-other", tags={"team": "ml"})
    for i in range(6):
        with mlflow.start_run(run_name=f"run-{i}", tags={"kind": "odd" if i % 2 else "even"}):
            mlflow.log_params({"model": "lr" if i < 3 else "rf", "depth": i})
            mlflow.log_metric("auc", 0.5 + i / 10)
            if i != 4:
                mlflow.log_metric("loss", 1 - i / 10)
    with mlflow.start_run(run_name="elsewhere", experiment_id=other):
        mlflow.log_metric("auc", 0.99)
    failed = c.create_run(exp, run_name="failed").info.run_id
    c.set_terminated(failed, "FAILED")

    filters = [
        "metrics.auc > 0.7",
        "metrics.auc >= 0.7 and params.model = 'rf'",
        "params.model != 'lr'",
        "tags.kind = 'odd'",
        "tags.mlflow.runName LIKE 'run-%'",
        "attributes.run_name ILIKE 'RUN-1%'",
        "run_name = 'run-2'",
        "attributes.status = 'FAILED'",
        "params.model IN ('rf', 'xgb')",
        "attributes.status IN ('FINISHED')",
        "metrics.loss < 0.8",
        "params.depth = '3'",
        "attributes.start_time > 0",
        "tags.`mlflow.runName` = 'run-0'",
        "metrics.`auc` > 0.9",
        "params.model NOT IN ('rf')",
        "attributes.run_id IN ('nope')",
        "dataset.name = 'x'",
        "metrics.auc > 'x'",
        "params.depth > 2",
        "bogus.x = 1",
    ]
    for f in filters:
        out[f"filter {f}"] = ctx.attempt(lambda: sorted(names(mlflow.search_runs([exp], filter_string=f))))
    orders = [["metrics.auc DESC"], ["params.depth"], ["metrics.loss ASC"], ["attributes.start_time DESC"], ["tags.kind", "metrics.auc"], ["run_name"], ["metrics.auc DESC", "nonsense"]]
    for o in orders:
        out[f"order {o}"] = ctx.attempt(lambda: names(mlflow.search_runs([exp], filter_string="tags.mlflow.runName LIKE 'run-%'", order_by=o)))
    out["search_runs columns"] = sorted(mlflow.search_runs([exp]).columns)
    out["search_runs list"] = [r.info.run_name for r in mlflow.search_runs([exp], output_format="list", order_by=["metrics.auc DESC"], max_results=2)]
    out["search_runs by name"] = sorted(names(mlflow.search_runs(experiment_names=["search", "search-other"], filter_string="metrics.auc > 0.9")))
    out["search_runs all experiments"] = len(mlflow.search_runs(search_all_experiments=True))

    # Paging through the client.
    seen, token = [], None
    while True:
        page = c.search_runs([exp], "", max_results=3, page_token=token, order_by=["metrics.auc"])
        seen.append([r.info.run_name for r in page])
        token = page.token
        if not token:
            break
    out["pages"] = seen
    out["max_results 0"] = ctx.attempt(lambda: len(c.search_runs([exp], max_results=0)))
    out["max_results 50001"] = ctx.attempt(lambda: len(c.search_runs([exp], max_results=50001)))
    out["bad page token"] = ctx.attempt(lambda: len(c.search_runs([exp], page_token="garbage")))
    out["deleted runs"] = ctx.attempt(lambda: (c.delete_run(failed), [r.info.run_name for r in c.search_runs([exp], run_view_type=2)])[1])

    out["experiments"] = sorted(e.name for e in c.search_experiments())
    out["experiments filter name"] = [e.name for e in c.search_experiments(filter_string="name LIKE 'search%'", order_by=["name DESC"])]
    out["experiments filter tag"] = [e.name for e in c.search_experiments(filter_string="tags.team = 'ml'")]
    out["experiments bad filter"] = ctx.attempt(lambda: c.search_experiments(filter_string="foo = 'x'"))
    out["experiments paging"] = (lambda p: [len(p), bool(p.token)])(c.search_experiments(max_results=1))
    out["get_experiment_by_name missing"] = c.get_experiment_by_name("nope")
    out["create experiment twice"] = ctx.attempt(lambda: c.create_experiment("search"))
    out["get unknown experiment"] = ctx.attempt(lambda: c.get_experiment("123456"))
    out["get unknown run"] = ctx.attempt(lambda: c.get_run("0" * 32))
    out["history of unknown metric"] = [m.value for m in c.get_metric_history(failed, "nope")]
