# A release script around logged sklearn models: register_model with tags and await_registration_for,
# update_model_version, get_registered_model's latest_versions, paging through search results,
# get_model_info, get_model_dependencies, sklearn.load_model by models:/ URIs, the deprecated stage
# reads, and deleting what it made.
import os
import mlflow
import mlflow.sklearn
from mlflow.models import infer_signature
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression


def scenario(ctx):
    c, out = ctx.client, ctx.out
    X, y = load_iris(return_X_y=True, as_frame=True)
    mlflow.set_experiment("models")
    runs = []
    for C in (0.5, 1.0, 2.0):
        with mlflow.start_run() as run:
            model = LogisticRegression(C=C, max_iter=300).fit(X, y)
            mlflow.sklearn.log_model(model, "model", signature=infer_signature(X, model.predict(X)))
            runs.append(run.info.run_id)
    mv = mlflow.register_model(f"runs:/{runs[0]}/model", "iris", tags={"C": "0.5"}, await_registration_for=5)
    out["register_model"] = {"version": mv.version, "tags": mv.tags, "status": mv.status}
    for r in runs[1:]:
        mlflow.register_model(f"runs:/{r}/model", "iris")
    for i in range(5):
        c.create_registered_model(f"other-{i}")
    updated = c.update_model_version("iris", "2", description="second")
    out["update_model_version"] = {"description": updated.description, "version": updated.version}
    c.update_registered_model("iris", description="iris classifier")
    c.transition_model_version_stage("iris", "1", "Production")
    c.transition_model_version_stage("iris", "2", "Staging")
    rm = c.get_registered_model("iris")
    out["latest_versions"] = sorted((v.version, v.current_stage) for v in rm.latest_versions)
    out["description"] = rm.description
    out["get_latest_versions"] = sorted((v.version, v.current_stage) for v in c.get_latest_versions("iris"))
    out["get_latest_versions None"] = [v.version for v in c.get_latest_versions("iris", stages=["None"])]

    pages, token = [], None
    while True:
        page = c.search_registered_models(max_results=2, page_token=token, order_by=["name"])
        pages.append([m.name for m in page])
        token = page.token
        if not token:
            break
    out["model pages"] = pages
    pages, token = [], None
    while True:
        page = c.search_model_versions("name = 'iris'", max_results=2, page_token=token, order_by=["version_number DESC"])
        pages.append([v.version for v in page])
        token = page.token
        if not token:
            break
    out["version pages"] = pages
    out["versions by creation"] = [v.version for v in c.search_model_versions("name='iris'", order_by=["creation_timestamp ASC"])]
    out["versions LIKE"] = sorted({v.name for v in c.search_model_versions("name LIKE 'ir%'")})
    out["versions by tag"] = [v.version for v in c.search_model_versions("tags.C = '0.5'")]

    info = mlflow.models.get_model_info("models:/iris/2")
    out["get_model_info"] = {"flavors": sorted(info.flavors), "artifact_path": info.artifact_path, "has signature": info.signature is not None}
    deps = mlflow.pyfunc.get_model_dependencies("models:/iris/1")
    out["get_model_dependencies"] = os.path.basename(deps)
    for uri in ["models:/iris/1", "models:/iris/Production", "models:/iris/Staging", "models:/iris/latest"]:
        out[f"sklearn.load_model {uri}"] = ctx.attempt(lambda: [int(p) for p in mlflow.sklearn.load_model(uri).predict(X.head(3))])
    out["pyfunc bad input"] = ctx.attempt(lambda: mlflow.pyfunc.load_model("models:/iris/1").predict(X.head(2).drop(columns=[X.columns[0]])) and "predicted")

    out["delete version"] = ctx.attempt(lambda: c.delete_model_version("iris", "3") or "ok")
    out["versions after delete"] = sorted(v.version for v in c.search_model_versions("name='iris'"))
    out["register after delete"] = mlflow.register_model(f"runs:/{runs[2]}/model", "iris").version
    out["delete model"] = ctx.attempt(lambda: c.delete_registered_model("other-0") or "ok")
    out["deleted model gone"] = ctx.attempt(lambda: c.get_registered_model("other-0"))
