/**
 * Registry search order checked against the real MLflow 2.12: the real client runs the same steps on
 * the real tracking server (its Flask app and SQL store, on a port of its own) and on Tandem, then
 * reads both with the same searches. The default order of search_model_versions (the last updated
 * first) and the refusal of a field given twice must agree; where the MLflow source is absent (CI)
 * this skips with the reason printed, and registry-order.test.ts checks the same without it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mlflowPython, runMlflowClient } from "../helpers/mlflow.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const mlflow = mlflowPython();
if ("reason" in mlflow) console.warn(`[skip] registry order against the real MLflow server: ${mlflow.reason}`);

const SCRIPT = `
import json, os, sys, tempfile, threading, time, urllib.error, urllib.parse, urllib.request
tmp = tempfile.mkdtemp()
os.environ["_MLFLOW_SERVER_FILE_STORE"] = f"sqlite:///{tmp}/mlflow.db"
os.environ["_MLFLOW_SERVER_ARTIFACT_ROOT"] = f"{tmp}/artifacts"
from werkzeug.serving import make_server
import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.server import app

server = make_server("127.0.0.1", 0, app, threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()

def steps(client):
    pause = lambda: time.sleep(0.02)
    by_update = lambda: [m.name for m in client.search_registered_models(order_by=["timestamp DESC"])]
    seen = []
    for name in ["b", "a", "c"]:
        client.create_registered_model(name)
        pause()
    for name in ["a", "a", "b", "c"]:
        run_id = client.create_run("0").info.run_id
        client.log_text(run_id, "flavors:\\n  python_function: {loader_module: custom}\\n", "model/MLmodel")
        client.create_model_version(name, f"runs:/{run_id}/model", run_id)
        pause()
    seen.append(by_update())
    client.update_registered_model("b", description="new")
    pause()
    seen.append(by_update())
    client.transition_model_version_stage("a", "2", "Staging")
    pause()
    seen.append(by_update())
    client.delete_model_version("c", "1")
    pause()
    seen.append(by_update())
    client.update_model_version("a", "1", description="new")
    seen.append(by_update())
    return seen

def attempt(search):
    try:
        return search()
    except MlflowException as e:
        return {"error_code": e.error_code, "message": e.message}

def raw(uri, path, order):
    query = urllib.parse.urlencode([("order_by", o) for o in order])
    request = urllib.request.Request(f"{uri}/api/2.0/mlflow/{path}?{query}")
    request.add_header("Authorization", "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"])
    try:
        with urllib.request.urlopen(request) as r:
            return {"status": r.status}
    except urllib.error.HTTPError as e:
        return {"status": e.code, **json.loads(e.read())}

def read(client, uri):
    versions = lambda *o: attempt(lambda: [f"{v.name}/{v.version}" for v in client.search_model_versions(order_by=list(o) or None)])
    models = lambda *o: attempt(lambda: [m.name for m in client.search_registered_models(order_by=list(o) or None)])
    sorted_ = {
        "versions": versions(),
        "versions name": versions("name"),
        "versions creation_timestamp DESC": versions("creation_timestamp DESC"),
        "versions last_updated_timestamp": versions("last_updated_timestamp"),
        "models": models(),
        "models name DESC": models("name DESC"),
    }
    twice = [
        ("model-versions/search", ["name", "name DESC"]),
        ("model-versions/search", ["name", "attribute.name"]),
        ("model-versions/search", ["version_number", "last_updated_timestamp", "version_number"]),
        ("registered-models/search", ["name", "name DESC"]),
        ("registered-models/search", ["timestamp", "last_updated_timestamp"]),
    ]
    search = lambda path, o: [x.name for x in (client.search_model_versions if path.startswith("model") else client.search_registered_models)(order_by=o)]
    refused = [{"server": raw(uri, path, o), "client": attempt(lambda: search(path, o))} for path, o in twice]
    return {"sorted": sorted_, "refused": refused}

out = {}
for label, uri in [("mlflow", f"http://127.0.0.1:{server.server_port}"), ("tandem", sys.argv[1])]:
    # Importing the server set the tracking URI to its store; mlflow-artifacts:/ resolves against it.
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    out[label] = {"models by update": steps(client), **read(client, uri)}
print(json.dumps(out))
`;

type Refusal = { error_code: string; message: string };
interface Read {
  "models by update": string[][];
  sorted: Record<string, string[] | Refusal>;
  refused: Array<{ server: Refusal & { status: number }; client: Refusal }>;
}

(("reason" in mlflow ? describe.skip : describe) as typeof describe)(
  "registry search order: Tandem and the real MLflow server",
  () => {
    let s: TestServer;
    let out: { mlflow: Read; tandem: Read };
    beforeAll(async () => {
      s = await startTestServer();
      const r = await runMlflowClient(s.url, s.adminToken, ["-c", SCRIPT, s.url]);
      expect([r.status, r.stderr.split("\n").slice(-8).join("\n")]).toEqual([0, expect.any(String)]);
      out = JSON.parse(r.stdout.trim().split("\n").pop()!) as typeof out;
    }, 240_000);
    afterAll(async () => s?.stop());

    it("orders versions and models as MLflow does, the last updated version first by default", () => {
      // a/1 was updated last, a/2 moved stage before: MLflow's default is last_updated_timestamp
      // DESC, then name, version DESC.
      expect(out.mlflow.sorted.versions).toEqual(["a/1", "a/2", "b/1"]);
      expect(out.tandem.sorted).toEqual(out.mlflow.sorted);
    });

    it("moves a model's last update when a version is created, moves stage or is deleted, as MLflow does", () => {
      // After the versions (c/1 last), b's description, a/2 to Staging, c/1 deleted, a/1's description
      // (a version's own update leaves its model as it was).
      expect(out.mlflow["models by update"]).toEqual([
        ["c", "b", "a"],
        ["b", "c", "a"],
        ["a", "b", "c"],
        ["c", "a", "b"],
        ["c", "a", "b"],
      ]);
      expect(out.tandem["models by update"]).toEqual(out.mlflow["models by update"]);
    });

    it("refuses a field given twice with MLflow's message, as a 400 its client shows", () => {
      expect(out.mlflow.refused.map((r) => r.server.message)).toEqual([
        "`order_by` contains duplicate fields: ['name', 'name DESC']",
        "`order_by` contains duplicate fields: ['name', 'attribute.name']",
        "`order_by` contains duplicate fields: ['version_number', 'last_updated_timestamp', 'version_number']",
        "`order_by` contains duplicate fields: ['name', 'name DESC']",
        "`order_by` contains duplicate fields: ['timestamp', 'last_updated_timestamp']",
      ]);
      out.mlflow.refused.forEach(({ server, client }, i) => {
        // MLflow raises it without an error code: a 500, which its own client retries and then
        // reports without the message.
        expect(server).toMatchObject({ status: 500, error_code: "INTERNAL_ERROR" });
        expect(client.message).toContain("too many 500 error responses");
        const tandem = out.tandem.refused[i]!;
        expect(tandem.server).toEqual({ status: 400, error_code: "INVALID_PARAMETER_VALUE", message: server.message });
        expect(tandem.client.message).toBe(`INVALID_PARAMETER_VALUE: ${server.message}`);
      });
    });
  },
);
