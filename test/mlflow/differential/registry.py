# The registry as a release script drives it: stages with archive_existing_versions, tags on models
# and versions, aliases, copy_model_version, rename; and the errors such a script catches by code.
import mlflow
from mlflow import MlflowClient

MLMODEL = "flavors:\n  python_function: {loader_module: custom, env: conda.yaml}\n"


def version_view(v):
    return {"version": v.version, "stage": v.current_stage, "tags": v.tags, "aliases": sorted(v.aliases), "description": v.description}


def scenario(ctx):
    c, out = ctx.client, ctx.out
    exp = c.create_experiment("registry")

    def logged(text):
        run_id = c.create_run(exp).info.run_id
        c.log_text(run_id, MLMODEL, "model/MLmodel")
        c.log_text(run_id, text, "model/weights.txt")
        return run_id

    runs = [logged(f"weights {i}") for i in range(4)]
    c.create_registered_model("m", tags={"team": "ml"}, description="first")
    for r in runs[:3]:
        c.create_model_version("m", f"runs:/{r}/model", r, tags={"from": "test"})
    out["versions"] = sorted(v.version for v in c.search_model_versions("name='m'"))

    c.transition_model_version_stage("m", "1", "Production")
    c.transition_model_version_stage("m", "2", "Staging")
    moved = c.transition_model_version_stage("m", "3", "Production", archive_existing_versions=True)
    out["moved"] = version_view(moved)
    out["stages after archive_existing"] = {v.version: v.current_stage for v in c.search_model_versions("name='m'")}
    out["latest Production"] = [v.version for v in c.get_latest_versions("m", stages=["Production"])]
    out["latest all"] = sorted((v.current_stage, v.version) for v in c.get_latest_versions("m"))
    c.transition_model_version_stage("m", "2", "Production", archive_existing_versions=False)
    out["two in Production"] = sorted(v.version for v in c.search_model_versions("name='m'") if v.current_stage == "Production")
    out["latest Production (two)"] = [v.version for v in c.get_latest_versions("m", stages=["Production"])]
    out["stage lowercase"] = ctx.attempt(lambda: c.transition_model_version_stage("m", "1", "staging").current_stage)
    out["bad stage"] = ctx.attempt(lambda: c.transition_model_version_stage("m", "1", "Prod"))
    out["archive_existing to Archived"] = ctx.attempt(lambda: c.transition_model_version_stage("m", "1", "Archived", archive_existing_versions=True).current_stage)

    c.set_registered_model_tag("m", "owner", "ada")
    c.set_model_version_tag("m", "1", "validated", "yes")
    c.delete_model_version_tag("m", "1", "from")
    out["delete absent version tag"] = ctx.attempt(lambda: c.delete_model_version_tag("m", "1", "from") or "ok")
    out["delete absent model tag"] = ctx.attempt(lambda: c.delete_registered_model_tag("m", "nope") or "ok")
    out["delete tag of unknown version"] = ctx.attempt(lambda: c.delete_model_version_tag("m", "99", "from") or "ok")
    c.set_registered_model_alias("m", "champion", "3")
    c.set_registered_model_alias("m", "challenger", "2")
    c.set_registered_model_alias("m", "champion", "1")
    out["model"] = (lambda m: {"tags": m.tags, "aliases": m.aliases, "description": m.description})(c.get_registered_model("m"))
    out["version 1"] = version_view(c.get_model_version("m", "1"))
    out["version 3"] = version_view(c.get_model_version("m", "3"))
    out["by alias"] = c.get_model_version_by_alias("m", "champion").version
    out["alias v1"] = ctx.attempt(lambda: c.set_registered_model_alias("m", "v1", "1"))
    out["alias bad chars"] = ctx.attempt(lambda: c.set_registered_model_alias("m", "a b", "1"))
    out["alias unknown version"] = ctx.attempt(lambda: c.set_registered_model_alias("m", "x", "99"))
    out["delete unknown alias"] = ctx.attempt(lambda: c.delete_registered_model_alias("m", "nope") or "ok")
    out["get unknown alias"] = ctx.attempt(lambda: c.get_model_version_by_alias("m", "nope"))

    # copy_model_version: to a new model and to an existing one.
    copied = ctx.attempt(lambda: c.copy_model_version("models:/m/1", "m-copy"))
    out["copy to new"] = copied if isinstance(copied, dict) else {"name": copied.name, "version": copied.version, "stage": copied.current_stage, "tags": copied.tags}
    copied2 = ctx.attempt(lambda: c.copy_model_version("models:/m@challenger", "m-copy"))
    out["copy by alias"] = copied2 if isinstance(copied2, dict) else {"version": copied2.version}
    out["copy source"] = ctx.attempt(lambda: c.get_model_version("m-copy", "1").source.split(":")[0])

    # rename: versions, aliases and tags follow; the old name is gone.
    c.rename_registered_model("m", "m2")
    out["renamed versions"] = sorted(v.version for v in c.search_model_versions("name='m2'"))
    out["renamed aliases"] = c.get_registered_model("m2").aliases
    out["old name"] = ctx.attempt(lambda: c.get_registered_model("m"))
    out["old name version"] = ctx.attempt(lambda: c.get_model_version("m", "1"))
    out["load renamed"] = ctx.attempt(lambda: mlflow.artifacts.load_text("models:/m2@champion/weights.txt"))

    # Errors a script catches by code.
    out["create existing model"] = ctx.attempt(lambda: c.create_registered_model("m2"))
    out["rename onto existing"] = ctx.attempt(lambda: c.rename_registered_model("m2", "m-copy"))
    out["get unknown model"] = ctx.attempt(lambda: c.get_registered_model("nope"))
    out["get unknown version"] = ctx.attempt(lambda: c.get_model_version("m2", "99"))
    out["version not a number"] = ctx.attempt(lambda: c.get_model_version("m2", "x"))
    made = ctx.attempt(lambda: c.create_model_version("by-version", f"runs:/{runs[3]}/model", runs[3]))
    out["version of unknown model"] = made if isinstance(made, dict) else {"version": made.version}
    out["empty name"] = ctx.attempt(lambda: c.create_registered_model(""))
    out["delete unknown model"] = ctx.attempt(lambda: c.delete_registered_model("nope"))
    out["tag unknown version"] = ctx.attempt(lambda: c.set_model_version_tag("m2", "99", "k", "v"))
    out["tag bad key"] = ctx.attempt(lambda: c.set_registered_model_tag("m2", "bad!", "v"))
    out["tag long value"] = ctx.attempt(lambda: c.set_registered_model_tag("m2", "long", "x" * 5001))
    out["search models filter"] = [m.name for m in c.search_registered_models("name LIKE 'm%'", order_by=["name"])]
    out["search models tag filter"] = [m.name for m in c.search_registered_models("tags.owner = 'ada'")]
    out["search models ILIKE"] = [m.name for m in c.search_registered_models("name ILIKE 'M-%'")]
    out["search models bad filter"] = ctx.attempt(lambda: c.search_registered_models("foo = 'x'"))
    out["search versions run_id IN"] = sorted(v.version for v in c.search_model_versions(f"run_id IN ('{runs[0]}', '{runs[1]}')"))
    out["search versions tags"] = sorted(v.version for v in c.search_model_versions("name = 'm2' and tags.validated = 'yes'"))
    out["search versions max_results"] = len(c.search_model_versions("name = 'm2'", max_results=2))
    out["delete version"] = ctx.attempt(lambda: c.delete_model_version("m2", "3") or "ok")
    out["aliases after delete"] = c.get_registered_model("m2").aliases
