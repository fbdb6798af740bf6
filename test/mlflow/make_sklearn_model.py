"""Writes an sklearn model in MLflow's model-directory layout WITHOUT MLflow (for CI machines).

    /usr/bin/python3 make_sklearn_model.py OUT_DIR [--regressor] [--broken]

The layout is the one `mlflow.sklearn.save_model(model, OUT_DIR, input_example=X)` writes in
MLflow 2.12 (MLmodel with python_function + sklearn flavors and a column signature, model.pkl by
cloudpickle, requirements.txt, conda.yaml, python_env.yaml, input_example.json); the tests that have
the real MLflow client log models with MLflow itself. Prints JSON: the feature names, test rows and
sklearn's own predictions for them, which the served answers must equal. `--broken` writes a
model.pkl that cannot be unpickled (a model whose server cannot start).
"""
import json
import os
import sys

import cloudpickle
import numpy as np
import sklearn
import yaml
from sklearn.linear_model import LinearRegression, LogisticRegression

FEATURES = ["age", "income", "tenure"]


def data():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 3)) * [10, 2, 3] + [40, 5, 6]
    score = 0.08 * (X[:, 0] - 40) + 0.9 * (X[:, 1] - 5) - 0.3 * (X[:, 2] - 6)
    return X, score


def main(out, regressor, broken):
    X, score = data()
    model = LinearRegression() if regressor else LogisticRegression()
    model.fit(X, score if regressor else (score > 0).astype(int))
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "model.pkl"), "wb") as f:
        f.write(b"not a pickle" if broken else cloudpickle.dumps(model))
    python = ".".join(map(str, sys.version_info[:3]))
    reqs = [f"cloudpickle=={cloudpickle.__version__}", f"scikit-learn=={sklearn.__version__}"]
    columns = [{"type": "double", "name": n, "required": True} for n in FEATURES]
    output = [{"type": "double" if regressor else "long", "required": True}]
    mlmodel = {
        "flavors": {
            "python_function": {
                "env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"},
                "loader_module": "mlflow.sklearn",
                "model_path": "model.pkl",
                "predict_fn": "predict",
                "python_version": python,
            },
            "sklearn": {
                "code": None,
                "pickled_model": "model.pkl",
                "serialization_format": "cloudpickle",
                "sklearn_version": sklearn.__version__,
            },
        },
        "mlflow_version": "2.12.1",
        "saved_input_example_info": {"artifact_path": "input_example.json", "pandas_orient": "split", "type": "dataframe"},
        "signature": {"inputs": json.dumps(columns), "outputs": json.dumps(output), "params": None},
    }
    with open(os.path.join(out, "MLmodel"), "w") as f:
        yaml.safe_dump(mlmodel, f)
    with open(os.path.join(out, "requirements.txt"), "w") as f:
        f.write("\n".join(["mlflow==2.12.1", *reqs]))
    with open(os.path.join(out, "conda.yaml"), "w") as f:
        yaml.safe_dump({"channels": ["conda-forge"], "dependencies": [f"python={python}", "pip", {"pip": ["mlflow==2.12.1", *reqs]}], "name": "mlflow-env"}, f)
    with open(os.path.join(out, "python_env.yaml"), "w") as f:
        yaml.safe_dump({"python": python, "build_dependencies": ["pip"], "dependencies": ["-r requirements.txt"]}, f)
    rows = X[:5].round(3)
    with open(os.path.join(out, "input_example.json"), "w") as f:
        json.dump({"columns": FEATURES, "data": rows[:2].tolist()}, f)
    predictions = [] if broken else model.predict(rows).tolist()
    json.dump({"features": FEATURES, "rows": rows.tolist(), "predictions": predictions}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], "--regressor" in sys.argv, "--broken" in sys.argv)
