/**
 * The real MLflow 2.12 client and server, for the tests that use them: the source tree of
 * github.com/opendatahub-io/mlflow at 18dc54fb on PYTHONPATH, run by Debian's /usr/bin/python3 with
 * its python3-sklearn, -cloudpickle, -pandas, -flask, -sqlalchemy, … (no pip).
 *
 * Where the tree is found, in order:
 * 1. `$TANDEM_MLFLOW_SOURCE` (a directory holding `mlflow/__init__.py`);
 * 2. /tmp/mlflow-src;
 * 3. `<tmpdir>/tandem-mlflow-src-18dc54fb`, extracted once from a bare mirror of the repository
 *    (`$TANDEM_MLFLOW_MIRROR`, else /work/.mirror/opendatahub-io+mlflow/repo) when one is on this machine.
 * Nothing is downloaded and nothing of MLflow is committed. Where none is found (CI), `mlflowPython()`
 * says why, and the tests skip with that reason printed.
 *
 * The server also needs `querystring_parser`, which Debian does not package: a three-line stand-in
 * over urllib.parse is written beside (shimDir), ours, not MLflow's.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { linearClassifierOnnx } from "./onnx-models.js";

export const MLFLOW_COMMIT = "18dc54fb";
export const SYSTEM_PYTHON = "/usr/bin/python3";
const DEFAULT_MIRROR = "/work/.mirror/opendatahub-io+mlflow/repo";

export interface MlflowPython {
  python: string;
  source: string;
  /** Environment for a child process: PYTHONPATH with the source tree and the shims. */
  env: Record<string, string>;
}

const hasTree = (dir: string) => existsSync(join(dir, "mlflow", "__init__.py"));

/**
 * Extracts `mlflow/` (and the files the server reads beside it) at MLFLOW_COMMIT from a bare mirror
 * into `target`, skipping blobs the mirror does not hold (a partial clone lacks a few large files).
 */
export function extractMlflowSource(mirror: string, target: string): void {
  const git = (args: string[], input?: string) =>
    spawnSync("git", [`--git-dir=${mirror}`, ...args], { input, maxBuffer: 1 << 30 });
  const listed = git(["ls-tree", "-r", "-z", MLFLOW_COMMIT, "mlflow", "pyproject.toml", "LICENSE.txt"]);
  if (listed.status !== 0) throw new Error(`git ls-tree in ${mirror} failed: ${listed.stderr.toString()}`);
  const files = listed.stdout
    .toString()
    .split("\0")
    .filter(Boolean)
    .map((line) => {
      const [meta, path] = line.split("\t") as [string, string];
      const [mode, type, sha] = meta.split(" ") as [string, string, string];
      return { mode, type, sha, path };
    })
    .filter((f) => f.type === "blob");
  const batch = git(["cat-file", "--batch"], files.map((f) => f.sha).join("\n") + "\n");
  const out = batch.stdout;
  const tmp = `${target}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  let at = 0;
  for (const f of files) {
    const eol = out.indexOf(10, at);
    const header = out.subarray(at, eol).toString().split(" ");
    at = eol + 1;
    if (header[1] === "missing") continue;
    const size = Number(header[2]);
    const file = join(tmp, f.path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, out.subarray(at, at + size), { mode: f.mode === "100755" ? 0o755 : 0o644 });
    at += size + 1;
  }
  try {
    renameSync(tmp, target);
  } catch (error) {
    // Another test file extracted it meanwhile: keep theirs.
    rmSync(tmp, { recursive: true, force: true });
    if (!hasTree(target)) throw error;
  }
}

/** Where the MLflow source tree is on this machine (extracting it from a mirror if need be), or why not. */
export function findMlflowSource(): { source: string } | { reason: string } {
  const given = process.env.TANDEM_MLFLOW_SOURCE;
  if (given) return hasTree(given) ? { source: given } : { reason: `TANDEM_MLFLOW_SOURCE=${given} holds no mlflow/` };
  for (const dir of ["/tmp/mlflow-src", join(tmpdir(), `tandem-mlflow-src-${MLFLOW_COMMIT}`)])
    if (hasTree(dir)) return { source: dir };
  const mirror = process.env.TANDEM_MLFLOW_MIRROR || DEFAULT_MIRROR;
  if (!existsSync(mirror))
    return {
      reason: `the MLflow ${MLFLOW_COMMIT} source tree is not on this machine (set TANDEM_MLFLOW_SOURCE, or put it in /tmp/mlflow-src)`,
    };
  const target = join(tmpdir(), `tandem-mlflow-src-${MLFLOW_COMMIT}`);
  try {
    extractMlflowSource(mirror, target);
  } catch (error) {
    if (!hasTree(target)) return { reason: `extracting MLflow from ${mirror} failed: ${(error as Error).message}` };
  }
  return { source: target };
}

/** A directory with our `querystring_parser` stand-in (MLflow's server imports it; Debian lacks it). */
export function shimDir(): string {
  const dir = join(tmpdir(), "tandem-mlflow-shims");
  const pkg = join(dir, "querystring_parser");
  if (!existsSync(join(pkg, "parser.py"))) {
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, "__init__.py"), "");
    writeFileSync(
      join(pkg, "parser.py"),
      [
        "# Tandem's stand-in for querystring_parser.parser.parse, which MLflow's server calls on GET query strings.",
        "from urllib.parse import parse_qs",
        "def parse(qs, normalized=False):",
        "    return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(qs, keep_blank_values=True).items()}",
        "",
      ].join("\n"),
    );
  }
  return dir;
}

let cached: MlflowPython | { reason: string } | undefined;

/** The real MLflow client/server runnable here, or the reason it is not (printed by the skipping tests). */
export function mlflowPython(): MlflowPython | { reason: string } {
  if (cached) return cached;
  const found = findMlflowSource();
  if ("reason" in found) return (cached = found);
  const env = { PYTHONPATH: `${found.source}:${shimDir()}` };
  const check = spawnSync(SYSTEM_PYTHON, ["-c", "import mlflow, sklearn, cloudpickle, pandas, flask, sqlalchemy"], {
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 120_000,
  });
  if (check.status !== 0) {
    const why = (check.stderr || check.error?.message || "").trim().split("\n").pop();
    return (cached = { reason: `${SYSTEM_PYTHON} cannot import MLflow from ${found.source}: ${why}` });
  }
  return (cached = { python: SYSTEM_PYTHON, source: found.source, env });
}

/** Whether Debian's python3 with sklearn, cloudpickle and yaml is here (the stand-in scoring server's needs). */
export function sklearnPython(): { python: string } | { reason: string } {
  const check = spawnSync(SYSTEM_PYTHON, ["-c", "import sklearn, cloudpickle, yaml, numpy"], {
    encoding: "utf8",
    timeout: 120_000,
  });
  if (check.status === 0) return { python: SYSTEM_PYTHON };
  const why = (check.stderr || check.error?.message || "").trim().split("\n").pop();
  return {
    reason: `${SYSTEM_PYTHON} cannot import sklearn, cloudpickle and yaml (apt-get install python3-sklearn python3-cloudpickle python3-yaml): ${why}`,
  };
}

/**
 * The ONNX files the registry fixture script logs (MODEL_FILE, MODEL2_DIR/model.onnx): two small
 * classifiers, written into `dir`. Returns the environment that script reads.
 */
export function fixtureModelFiles(dir: string): { MODEL_FILE: string; MODEL2_DIR: string } {
  const model2 = join(dir, "model2");
  mkdirSync(model2, { recursive: true });
  const onnx = (bias: number) =>
    linearClassifierOnnx({ features: ["distance", "dep_hour"], weights: [0.001, 0.1], bias });
  writeFileSync(join(dir, "model.onnx"), onnx(-1));
  writeFileSync(join(model2, "model.onnx"), onnx(-2));
  return { MODEL_FILE: join(dir, "model.onnx"), MODEL2_DIR: model2 };
}

/**
 * Runs the real MLflow client (`/usr/bin/python3 ARGS…`: a script path, or `-c CODE`, and its
 * arguments) pointed at a Tandem or MLflow server; async, so a server on this event loop can answer.
 * A refused request fails at once instead of after minutes of the client's retries.
 */
export function runMlflowClient(
  url: string,
  token: string | null,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const mlflow = mlflowPython();
  if ("reason" in mlflow) throw new Error(mlflow.reason);
  return new Promise((resolve) => {
    const child = spawn(SYSTEM_PYTHON, args, {
      env: {
        ...process.env,
        ...mlflow.env,
        MLFLOW_TRACKING_URI: url,
        ...(token ? { MLFLOW_TRACKING_TOKEN: token } : {}),
        MLFLOW_HTTP_REQUEST_MAX_RETRIES: "0",
        ...env,
      },
      cwd: tmpdir(),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}
