# Artifacts as notebooks log and read them: log_text/log_dict/log_table/log_image/log_figure-free
# helpers, log_artifacts of a tree, list_artifacts at each level, download of a file, a folder and the
# root, load_text/load_dict/load_table, and the run lifecycle calls around them.
import json, os
import mlflow
import numpy as np
import pandas as pd


def scenario(ctx):
    c, out = ctx.client, ctx.out
    mlflow.set_experiment("artifacts")
    src = os.path.join(ctx.dir, "src")
    os.makedirs(os.path.join(src, "sub", "deeper"))
    for rel, text in [("a.txt", "a"), ("sub/b.txt", "b"), ("sub/deeper/c.json", "{}"), ("empty.txt", "")]:
        with open(os.path.join(src, rel), "w") as f:
            f.write(text)
    with mlflow.start_run() as run:
        rid = run.info.run_id
        mlflow.log_text("hello", "notes/hello.txt")
        mlflow.log_dict({"a": 1, "b": [1, 2]}, "config.json")
        mlflow.log_dict({"a": 1}, "config.yaml")
        mlflow.log_table(pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}), "tables/t.json")
        mlflow.log_image(np.zeros((4, 4, 3), dtype=np.uint8), "images/black.png")
        mlflow.log_artifacts(src, "tree")
        mlflow.log_artifact(os.path.join(src, "a.txt"))
        mlflow.log_artifact(os.path.join(src, "a.txt"), "again")
        mlflow.set_tags({"t1": "1", "t2": "2"})
        mlflow.log_params({"p1": 1, "p2": "x"})
    out["root"] = [(f.path, f.is_dir, f.file_size) for f in c.list_artifacts(rid)]
    out["tree"] = [(f.path, f.is_dir, f.file_size) for f in c.list_artifacts(rid, "tree")]
    out["tree/sub"] = [(f.path, f.is_dir, f.file_size) for f in c.list_artifacts(rid, "tree/sub")]
    out["a file as a folder"] = [(f.path, f.is_dir) for f in c.list_artifacts(rid, "a.txt")]
    out["missing folder"] = [(f.path, f.is_dir) for f in c.list_artifacts(rid, "nope")]
    out["mlflow.artifacts.list_artifacts"] = sorted(f.path for f in mlflow.artifacts.list_artifacts(run_id=rid, artifact_path="tree"))
    out["load_text"] = mlflow.artifacts.load_text(f"runs:/{rid}/notes/hello.txt")
    out["load_dict json"] = mlflow.artifacts.load_dict(f"runs:/{rid}/config.json")
    out["load_table"] = mlflow.load_table("tables/t.json", run_ids=[rid]).drop(columns=["run_id"], errors="ignore").to_dict("list")
    os.makedirs(os.path.join(ctx.dir, "dl-root"))
    out["download root"] = ctx.tree(c.download_artifacts(rid, "", os.path.join(ctx.dir, "dl-root")))
    os.makedirs(os.path.join(ctx.dir, "dl-sub"))
    out["download folder"] = ctx.tree(c.download_artifacts(rid, "tree/sub", os.path.join(ctx.dir, "dl-sub")))
    os.makedirs(os.path.join(ctx.dir, "dl-file"))
    local = c.download_artifacts(rid, "tree/sub/b.txt", os.path.join(ctx.dir, "dl-file"))
    out["download file"] = [os.path.relpath(local, os.path.join(ctx.dir, "dl-file")), open(local).read()]
    os.makedirs(os.path.join(ctx.dir, "dl-empty"))
    local = c.download_artifacts(rid, "tree/empty.txt", os.path.join(ctx.dir, "dl-empty"))
    out["download empty file"] = open(local).read()
    os.makedirs(os.path.join(ctx.dir, "dl-missing"))
    out["download missing"] = ctx.attempt(lambda: c.download_artifacts(rid, "nope.txt", os.path.join(ctx.dir, "dl-missing")) and "downloaded")

    # Run lifecycle around it.
    out["parent of a plain run"] = mlflow.get_parent_run(rid)
    with mlflow.start_run() as p:
        with mlflow.start_run(nested=True) as ch:
            pass
    out["get_parent_run"] = mlflow.get_parent_run(ch.info.run_id).info.run_id == p.info.run_id
    c.set_terminated(rid, "KILLED")
    out["killed"] = c.get_run(rid).info.status
    c.delete_run(rid)
    out["deleted lifecycle"] = c.get_run(rid).info.lifecycle_stage
    out["log to deleted run"] = ctx.attempt(lambda: c.log_metric(rid, "m", 1) or "ok")
    c.restore_run(rid)
    out["restored lifecycle"] = c.get_run(rid).info.lifecycle_stage
    exp = c.get_experiment_by_name("artifacts").experiment_id
    c.delete_experiment(exp)
    out["deleted experiment"] = c.get_experiment(exp).lifecycle_stage
    out["run in deleted experiment"] = ctx.attempt(lambda: c.create_run(exp) and "created")
    out["set_experiment deleted"] = ctx.attempt(lambda: mlflow.set_experiment("artifacts") and "set")
    out["create same name"] = ctx.attempt(lambda: c.create_experiment("artifacts"))
    c.restore_experiment(exp)
    out["restored experiment"] = c.get_experiment(exp).lifecycle_stage
    c.rename_experiment(exp, "artifacts-2")
    out["renamed"] = c.get_experiment(exp).name
    out["rename onto existing"] = ctx.attempt(lambda: c.rename_experiment(exp, "Default"))
    out["experiment tags"] = ctx.attempt(lambda: (c.set_experiment_tag(exp, "k", "v"), c.get_experiment(exp).tags)[1])
    out["delete run twice"] = ctx.attempt(lambda: (c.delete_run(rid), c.delete_run(rid)) and "ok")
