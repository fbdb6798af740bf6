"""The Python baseline users know: Flask + scikit-learn serving a GradientBoostingClassifier of the
same size as the ONNX model (N trees of depth 4 over F features, fitted on synthetic data), with the
same wire format: {"instances": [{f0: ..., ...}]} -> {"predictions": [{label, probabilities}]}.

    python3 bench/serving/flask_sklearn.py FEATURES TREES   (prints "listening on http://...")
"""
import logging
import socket
import sys

import numpy as np
from flask import Flask, jsonify, request
from sklearn.ensemble import GradientBoostingClassifier

features, trees = int(sys.argv[1]), int(sys.argv[2])
names = [f"f{i}" for i in range(features)]
rng = np.random.default_rng(5)
x = rng.uniform(-1, 1, size=(2000, features))
y = (x[:, 0] + x[:, 1] * x[:, 2] + rng.normal(0, 0.3, 2000) > 0).astype(int)
model = GradientBoostingClassifier(n_estimators=trees, max_depth=4, random_state=0).fit(x, y)

app = Flask(__name__)
logging.getLogger("werkzeug").setLevel(logging.ERROR)


@app.post("/predict")
def predict():
    instances = request.get_json()["instances"]
    rows = np.array([[inst[n] for n in names] for inst in instances], dtype=np.float64)
    probs = model.predict_proba(rows)
    return jsonify(
        predictions=[
            {"label": int(p[1] > 0.5), "probabilities": {"0": float(p[0]), "1": float(p[1])}} for p in probs
        ]
    )


if __name__ == "__main__":
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    app.run(host="127.0.0.1", port=port, threaded=True)
