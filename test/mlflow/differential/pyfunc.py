# A custom mlflow.pyfunc.PythonModel with artifacts and code_paths, registered, then loaded back every
# way a serving script does: models:/name@alias, models:/name/Production, models:/name/N,
# models:/name/latest, runs:/id/model; downloaded with mlflow.artifacts.download_artifacts; and
# MlflowClient's download URI.
import os
import mlflow
import pandas as pd

HELPER = "def scale(x):\n    return x * 3\n"


class Scaled(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        with open(context.artifacts["offset"]) as f:
            self.offset = float(f.read())

    def predict(self, context, model_input):
        import scaling  # from code_paths

        return scaling.scale(model_input["x"]) + self.offset


def scenario(ctx):
    c, out = ctx.client, ctx.out
    code = os.path.join(ctx.dir, "scaling.py")
    with open(code, "w") as f:
        f.write(HELPER)
    offset = os.path.join(ctx.dir, "offset.txt")
    with open(offset, "w") as f:
        f.write("0.5")
    mlflow.set_experiment("pyfunc")
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(
            "model",
            python_model=Scaled(),
            artifacts={"offset": offset},
            code_path=[code],
            input_example=frame,
            registered_model_name="scaled",
        )
    out["model_uri is runs:/"] = info.model_uri == f"runs:/{run.info.run_id}/model"
    out["registered versions"] = [v.version for v in c.search_model_versions("name = 'scaled'")]
    c.set_registered_model_alias("scaled", "champion", "1")
    c.transition_model_version_stage("scaled", "1", "Production")
    for uri in ["models:/scaled@champion", "models:/scaled/Production", "models:/scaled/1", "models:/scaled/latest", f"runs:/{run.info.run_id}/model"]:
        key = uri.replace(run.info.run_id, "<run>")
        out[f"predict {key}"] = ctx.attempt(lambda: [float(v) for v in mlflow.pyfunc.load_model(uri).predict(frame)])
    for uri in ["models:/scaled@champion", "models:/scaled/1", f"runs:/{run.info.run_id}/model", f"runs:/{run.info.run_id}/model/MLmodel"]:
        key = uri.replace(run.info.run_id, "<run>")
        d = os.path.join(ctx.dir, "dl", str(len(out)))
        os.makedirs(d)
        local = ctx.attempt(lambda: mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=d))
        out[f"download {key}"] = ctx.tree(local) if isinstance(local, str) and os.path.isdir(local) else os.path.basename(local) if isinstance(local, str) else local
    d = os.path.join(ctx.dir, "dl-run")
    os.makedirs(d)
    out["download run_id+path"] = ctx.tree(mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="model", dst_path=d))
    uri = c.get_model_version_download_uri("scaled", "1")
    out["download uri scheme"] = uri.split(":")[0]
    out["download uri ends"] = uri.rstrip("/").split("/")[-1]
    d = os.path.join(ctx.dir, "dl-uri")
    os.makedirs(d)
    out["download of download uri"] = ctx.attempt(lambda: ctx.tree(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=d)))
    out["load_dict/text"] = ctx.attempt(lambda: mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/model/MLmodel").splitlines()[0])
    mv = c.get_model_version("scaled", "1")
    out["version source is runs:/"] = mv.source.startswith("runs:/") or mv.source.startswith("mlflow-artifacts:")
    out["version source"] = mv.source.replace(run.info.run_id, "<run>").split("/", 3)[-1] if mv.source else None
    out["version run_id"] = mv.run_id == run.info.run_id
    out["version status"] = mv.status
    out["unknown alias"] = ctx.attempt(lambda: mlflow.pyfunc.load_model("models:/scaled@nope") and "loaded")
    out["unknown model"] = ctx.attempt(lambda: mlflow.pyfunc.load_model("models:/nope/1") and "loaded")
    out["unknown stage"] = ctx.attempt(lambda: mlflow.pyfunc.load_model("models:/scaled/Staging") and "loaded")
