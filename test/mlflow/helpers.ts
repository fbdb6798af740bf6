/**
 * MLflow-model test helpers: write an sklearn model in MLflow's layout (make_sklearn_model.py), log a
 * directory as a run's artifacts through the MLflow REST API as a client does, register it.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { TestServer } from "../helpers/server.js";
import { SYSTEM_PYTHON } from "../helpers/mlflow.js";

export const HERE = import.meta.dirname;
export const STANDIN = join(HERE, "standin_scoring_server.py");

export interface SklearnModel {
  features: string[];
  rows: number[][];
  /** sklearn's own predictions for `rows`. */
  predictions: number[];
}

/** Writes an sklearn model in MLflow's directory layout into `dir`; returns its test rows and predictions. */
export function makeSklearnModel(dir: string, flags: Array<"--regressor" | "--broken"> = []): SklearnModel {
  const r = spawnSync(SYSTEM_PYTHON, [join(HERE, "make_sklearn_model.py"), dir, ...flags], {
    encoding: "utf8",
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`make_sklearn_model.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as SklearnModel;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

/** Creates a run in the Default experiment and uploads `dir` under `artifactPath`, as `mlflow.log_artifacts` does. */
export async function logDirectory(t: TestServer, dir: string, artifactPath: string): Promise<string> {
  const run = await t.api<{ run: { info: { run_id: string; artifact_uri: string } } }>(
    "POST",
    "/api/2.0/mlflow/runs/create",
    { experiment_id: "0", run_name: "train" },
  );
  const root = run.body.run.info.artifact_uri.replace(/^mlflow-artifacts:\//, "");
  for (const file of filesUnder(dir))
    await putArtifact(t, `${root}/${artifactPath}/${relative(dir, file)}`, readFileSync(file));
  return run.body.run.info.run_id;
}

export async function putArtifact(t: TestServer, path: string, bytes: Uint8Array | string): Promise<void> {
  const res = await fetch(`${t.url}/api/2.0/mlflow-artifacts/artifacts/${path}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "application/octet-stream" },
    body: bytes,
  });
  if (res.status !== 200) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`);
}

export async function registerSource(t: TestServer, name: string, source: string) {
  return t.api<{ model_version: { version: string; source: string }; error_code?: string; message?: string }>(
    "POST",
    "/api/2.0/mlflow/model-versions/create",
    { name, source },
  );
}

/** Rows as objects keyed by feature, as /v1/…/predict takes them. */
export const asRecords = (m: Pick<SklearnModel, "features" | "rows">) =>
  m.rows.map((r) => Object.fromEntries(m.features.map((f, i) => [f, r[i]])));

/** An OIP v2 infer request with one FP64 input per feature (a column of the rows). */
export const oipColumns = (m: Pick<SklearnModel, "features" | "rows">) => ({
  inputs: m.features.map((name, c) => ({
    name,
    shape: [m.rows.length],
    datatype: "FP64",
    data: m.rows.map((r) => r[c]),
  })),
});
