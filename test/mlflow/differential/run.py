# Runs one user script (a scenario: a Python file defining scenario(ctx)) with the real MLflow 2.12
# client twice: against the real MLflow 2.12 server, started here in-process (its Flask app and SQL
# store on SQLite, artifacts proxied as `mlflow server --serve-artifacts` does), and against Tandem
# (argv[2]). Prints {"mlflow": <ctx.out>, "tandem": <ctx.out>} as the last line: what the scenario
# put in ctx.out, only what a user's script would see and could compare (no ids, no times).
import importlib.util, json, os, re, sys, tempfile, threading, traceback

tmp = tempfile.mkdtemp()
os.environ["_MLFLOW_SERVER_FILE_STORE"] = f"sqlite:///{tmp}/mlflow.db"
os.environ["_MLFLOW_SERVER_ARTIFACT_ROOT"] = "mlflow-artifacts:/"
os.environ["_MLFLOW_SERVER_ARTIFACT_DESTINATION"] = f"{tmp}/artifacts"
os.environ["_MLFLOW_SERVER_SERVE_ARTIFACTS"] = "true"
import urllib.error, urllib.request
from werkzeug.serving import make_server
import mlflow
import mlflow.tracking.fluent as fluent
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.server import app
from mlflow.server.handlers import _get_model_registry_store, _get_tracking_store

# Made now, not on the first request: making them points the process's tracking and registry URIs
# at the server's own SQLite store, which would send the client's later calls there too.
_get_tracking_store()
_get_model_registry_store()

server = make_server("127.0.0.1", 0, app, threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()


class Ctx:
    def __init__(self, label, uri):
        self.label, self.uri = label, uri
        self.client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        self.dir = tempfile.mkdtemp(prefix=f"{label}-")
        # What the scenario saw so far, kept when it breaks half-way.
        self.out = {}

    def attempt(self, fn):
        """fn()'s value, or the MlflowException it raised as {error_code, message}."""
        try:
            return fn()
        except MlflowException as e:
            return {"error_code": e.error_code, "message": e.message}

    @staticmethod
    def tree(path):
        """The files under path (a download), as sorted relative paths."""
        out = []
        for root, _, names in os.walk(path):
            out += [os.path.relpath(os.path.join(root, n), path) for n in names]
        return sorted(out)

    def raw(self, method, path, body=None):
        """One REST call as curl would make it: {status, body}."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.uri}/api/2.0/mlflow/{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        token = os.environ.get("MLFLOW_TRACKING_TOKEN")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request) as r:
                return {"status": r.status, "body": json.loads(r.read() or b"{}")}
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                return {"status": e.code, "body": json.loads(text)}
            except ValueError:
                return {"status": e.code, "body": text.decode(errors="replace")}


def reset(uri):
    """The fluent API's global state back to a fresh process's, pointed at uri."""
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.autolog(disable=True)
    fluent._active_experiment_id = None
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)


spec = importlib.util.spec_from_file_location("scenario", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)

out = {}
for label, uri in [("mlflow", f"http://127.0.0.1:{server.server_port}"), ("tandem", sys.argv[2])]:
    reset(uri)
    ctx = Ctx(label, uri)
    try:
        module.scenario(ctx)
    except Exception as e:  # the scenario itself broke: say where, against which server
        ctx.out["crashed"] = {"error": f"{type(e).__name__}: {e}", "at": traceback.format_exc().splitlines()[-6:]}
    out[label] = ctx.out
    reset(uri)
def plain(v):
    """JSON.parse takes no NaN or Infinity: those are written as strings, as protobuf writes them."""
    if isinstance(v, float) and v != v:
        return "NaN"
    if isinstance(v, float) and v in (float("inf"), float("-inf")):
        return "Infinity" if v > 0 else "-Infinity"
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


# Ids and ports differ between the servers by nature; what is said around them is compared.
text = json.dumps(plain(out), default=str, allow_nan=False)
text = re.sub(r"\b[0-9a-f]{32}\b", "<id>", text)
text = re.sub(r"127\.0\.0\.1:\d+", "<host>", text)
print(text)
