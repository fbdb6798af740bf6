/**
 * MLflow models of any flavor but `onnx` run in MLflow's own scoring server, as a command-served
 * model: `$TANDEM_PYTHON -m mlflow models serve -m DIR --env-manager local -h 127.0.0.1 -p $PORT`
 * (or the `TANDEM_MLFLOW_SERVE` command), health-checked on `/ping`, predictions on `/invocations`
 * in MLflow's `dataframe_split` format (mlflow-protocol.ts).
 *
 * Before a deploy, `mlflowServeProblem` checks that this host's Python can import MLflow and the
 * flavor's library, so a deploy answers 409 naming what to install instead of an endpoint that never
 * becomes ready.
 */
import { execFile } from "node:child_process";
import type { ModelSignature } from "../core/training/signature.js";
import type { CommandSpec } from "./command-runner.js";
import { mlflowProtocol } from "./mlflow-protocol.js";

export interface MlflowServeOptions {
  /** TANDEM_PYTHON: the Python that runs `-m mlflow models serve` (default "python3"). */
  python: string;
  /**
   * TANDEM_MLFLOW_SERVE: a shell command that serves the MLflow model in `$TANDEM_MODEL_DIR` on
   * 127.0.0.1:`$PORT` with `/ping` and `/invocations` (default: MLflow's own `models serve`).
   */
  command: string | null;
  /** How long the scoring server may take to answer /ping, seconds (default 120: it imports MLflow and the model). */
  startupTimeoutS: number;
}

export const DEFAULT_MLFLOW_SERVE_OPTIONS: MlflowServeOptions = {
  python: "python3",
  command: null,
  startupTimeoutS: 120,
};

/** `exec` so that the process Tandem watches is MLflow's (its gunicorn is in the same process group). */
const MLFLOW_MODELS_SERVE =
  'exec "$TANDEM_PYTHON" -m mlflow models serve -m "$TANDEM_MODEL_DIR" --env-manager local -h 127.0.0.1 -p "$PORT"';

export function mlflowServeSpec(
  options: MlflowServeOptions,
  dir: string,
  signature: ModelSignature | null,
): CommandSpec {
  return {
    command: options.command ?? MLFLOW_MODELS_SERVE,
    health: "/ping",
    predict: "/invocations",
    startupTimeoutS: options.startupTimeoutS,
    env: { TANDEM_PYTHON: options.python, TANDEM_MODEL_DIR: dir },
    protocol: mlflowProtocol(signature),
  };
}

/**
 * The Python module a flavor's models need besides MLflow (flavors not listed need only MLflow). A
 * Map: the flavor is the MLmodel's own key, and as an object literal a flavor `toString` or
 * `__proto__` found Object.prototype's members, so the deploy's 409 said to install `undefined`.
 */
const FLAVOR_MODULES = new Map<string, { module: string; pip: string }>([
  ["sklearn", { module: "sklearn", pip: "scikit-learn" }],
  ["xgboost", { module: "xgboost", pip: "xgboost" }],
  ["lightgbm", { module: "lightgbm", pip: "lightgbm" }],
  ["catboost", { module: "catboost", pip: "catboost" }],
  ["pytorch", { module: "torch", pip: "torch" }],
  ["tensorflow", { module: "tensorflow", pip: "tensorflow" }],
  ["keras", { module: "keras", pip: "keras" }],
  ["transformers", { module: "transformers", pip: "transformers" }],
  ["statsmodels", { module: "statsmodels", pip: "statsmodels" }],
  ["prophet", { module: "prophet", pip: "prophet" }],
  ["spacy", { module: "spacy", pip: "spacy" }],
]);

export interface ServeProblem {
  /** What failed, as Python said it (e.g. "No module named 'mlflow'"). */
  reason: string;
  /** pip packages to install. */
  install: string[];
}

const okCache = new Map<string, number>();
/** A successful probe is trusted this long (a failed one is retried at once: the user may have just installed). */
const OK_TTL_MS = 5 * 60_000;

/** Why this host cannot serve a `flavor` model with MLflow's scoring server, or null when it can. */
export async function mlflowServeProblem(options: MlflowServeOptions, flavor: string): Promise<ServeProblem | null> {
  if (options.command) return null; // a configured command is the operator's choice; its startup says the rest
  const extra = FLAVOR_MODULES.get(flavor);
  const key = `${options.python}\0${flavor}`;
  if ((okCache.get(key) ?? 0) > Date.now()) return null;
  const modules = ["mlflow.pyfunc", ...(extra ? [extra.module] : [])];
  // One import per line, so the traceback's last line names the module that is missing.
  const script = modules.map((m) => `import ${m}`).join("\n");
  const failure = await new Promise<string | null>((resolve) => {
    // From /: `python -c` imports from its working directory first, and the server's may be one a
    // step can write (a project folder in /tmp), where an `mlflow.py` would run as the server.
    execFile(options.python, ["-c", script], { timeout: 120_000, cwd: "/" }, (error, _stdout, stderr) => {
      if (!error) return resolve(null);
      const lines = String(stderr).trim().split("\n");
      resolve(lines[lines.length - 1] || error.message);
    });
  });
  if (failure === null) {
    okCache.set(key, Date.now() + OK_TTL_MS);
    return null;
  }
  const missing = /No module named '([^'.]+)/.exec(failure)?.[1];
  const install =
    missing && missing !== "mlflow"
      ? [extra?.module === missing ? extra.pip : missing]
      : ["mlflow>=2.12,<3", ...(extra ? [extra.pip] : [])];
  return { reason: failure.includes("ENOENT") ? `${options.python} was not found` : failure, install };
}
