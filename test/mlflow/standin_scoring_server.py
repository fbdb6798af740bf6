"""A STAND-IN for MLflow's scoring server (`mlflow models serve`), for CI machines without MLflow.

It is not MLflow: it is written for Tandem's tests, on Debian's python3-sklearn, python3-cloudpickle
and python3-yaml only. It answers what MLflow 2.x's scoring server answers for an sklearn model:

  GET  /ping, /health   200 "\\n" once the model is loaded
  POST /invocations     application/json with exactly one of dataframe_split, dataframe_records,
                        instances, inputs  ->  {"predictions": [...]}; bad input -> 400
                        {"error_code": "BAD_REQUEST", "message": ...}

The model directory is $TANDEM_MODEL_DIR (or -m DIR), the port $PORT (or -p PORT), as Tandem's
TANDEM_MLFLOW_SERVE contract gives them. Column signatures are enforced by name and order, tensor
signatures by width, as MLflow does. Where the real MLflow source tree is present the tests run
`mlflow models serve` itself; this stand-in only keeps the non-ONNX serving tests running everywhere.
"""
import argparse
import json
import os
import pickle
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import yaml

FORMATS = {"dataframe_split", "dataframe_records", "instances", "inputs"}


class BadRequest(Exception):
    def __init__(self, message, error_code="BAD_REQUEST"):
        super().__init__(message)
        self.error_code = error_code


def load_model(model_dir):
    with open(os.path.join(model_dir, "MLmodel")) as f:
        mlmodel = yaml.safe_load(f)
    flavor = mlmodel["flavors"].get("sklearn")
    if flavor is None:
        sys.exit("stand-in scoring server: only the sklearn flavor is served")
    with open(os.path.join(model_dir, flavor["pickled_model"]), "rb") as f:
        if flavor.get("serialization_format") == "cloudpickle":
            import cloudpickle

            model = cloudpickle.load(f)
        else:
            model = pickle.load(f)
    signature = mlmodel.get("signature") or {}
    inputs = json.loads(signature["inputs"]) if signature.get("inputs") else None
    return model, inputs


def to_matrix(payload, inputs):
    keys = FORMATS.intersection(payload) if isinstance(payload, dict) else set()
    if len(keys) != 1:
        raise BadRequest(
            "The input must be a JSON dictionary with exactly one of the input fields "
            f"{sorted(FORMATS)}. Received dictionary with input fields: {list(payload) if isinstance(payload, dict) else type(payload).__name__}"
        )
    key = keys.pop()
    body = payload[key]
    columns, rows = None, None
    if key == "dataframe_split":
        columns, rows = body.get("columns"), body["data"]
    elif key in ("dataframe_records", "instances") and body and isinstance(body[0], dict):
        columns = list(body[0])
        rows = [[r.get(c) for c in columns] for r in body]
    elif key == "inputs" and isinstance(body, dict):
        columns = list(body)
        rows = list(map(list, zip(*body.values())))
    else:
        rows = body
    named = inputs and all(s.get("type") != "tensor" for s in inputs)
    if named:
        wanted = [s["name"] for s in inputs]
        if columns is None:
            columns = wanted[: len(rows[0])] if rows else wanted
        missing = [c for c in wanted if c not in columns]
        if missing:
            # MLflow's schema enforcement answers this one with INVALID_PARAMETER_VALUE, not BAD_REQUEST.
            raise BadRequest(f"Model is missing inputs {missing}. Note that there were extra inputs: []", "INVALID_PARAMETER_VALUE")
        order = [columns.index(c) for c in wanted]
        rows = [[r[i] for i in order] for r in rows]
    try:
        matrix = np.array(rows, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise BadRequest(f"Invalid input. Data is not compatible with model signature. {e}")
    if matrix.ndim != 2:
        raise BadRequest(f"Invalid input. Expected a 2-D input, got shape {list(matrix.shape)}")
    if inputs and not named:
        width = (inputs[0].get("tensor-spec") or {}).get("shape", [None, None])[-1]
        if width not in (None, -1) and matrix.shape[1] != width:
            raise BadRequest(f"Shape of input {list(matrix.shape)} does not match expected shape [-1, {width}]")
    return matrix


def serve(model_dir, port):
    model, inputs = load_model(model_dir)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, status, body):
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path in ("/ping", "/health"):
                return self.answer(200, b"\n")
            self.answer(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": self.path})

        def do_POST(self):
            if self.path != "/invocations":
                return self.answer(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": self.path})
            raw = self.rfile.read(int(self.headers.get("content-length", "0")))
            try:
                matrix = to_matrix(json.loads(raw), inputs)
                predictions = model.predict(matrix)
            except BadRequest as e:
                return self.answer(400, {"error_code": e.error_code, "message": str(e)})
            except json.JSONDecodeError as e:
                return self.answer(400, {"error_code": "BAD_REQUEST", "message": f"Failed to parse input from JSON: {e}"})
            self.answer(200, {"predictions": predictions.tolist()})

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-m", default=os.environ.get("TANDEM_MODEL_DIR"))
    parser.add_argument("-p", type=int, default=int(os.environ.get("PORT", "5000")))
    args = parser.parse_args()
    serve(args.m, args.p)
