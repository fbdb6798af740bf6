/**
 * The real MLflow 2.12 Python client and scoring server against Tandem, where the MLflow source tree
 * is on this machine (test/helpers/mlflow.ts; elsewhere, CI included, these skip with the reason
 * printed). models.py, the script whose exchanges with the real MLflow server are the replay
 * fixture, runs here against Tandem unchanged: mlflow.sklearn.log_model → register_model →
 * set_registered_model_alias → pyfunc.load_model("models:/churn@champion").predict equals sklearn,
 * and a plain file registers and downloads. Then Tandem serves that model with MLflow's own
 * `mlflow models serve` (the default command, no TANDEM_MLFLOW_SERVE).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtureModelFiles, mlflowPython, runMlflowClient, SYSTEM_PYTHON } from "../helpers/mlflow.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { predict } from "../serving/helpers.js";
import { asRecords, logDirectory, makeSklearnModel, oipColumns, registerSource } from "./helpers.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const V1 = "/api/v1/projects/default";
const SCRIPTS = join(import.meta.dirname, "..", "fixtures", "mlflow", "scripts");

const mlflow = mlflowPython();
if ("reason" in mlflow) console.warn(`[skip] real MLflow client tests: ${mlflow.reason}`);

/** Runs a Python script with the MLflow client pointed at `t`. */
export function runClient(t: TestServer, script: string, env: Record<string, string> = {}) {
  return runMlflowClient(t.url, t.adminToken, [script], env);
}

describe.skipIf("reason" in mlflow)("the real MLflow 2.12 client and scoring server against Tandem", () => {
  let t: TestServer;
  let dir: string;
  let result: { run_id: string; features: string[]; rows: number[][]; predictions: number[] };
  const savedPath = process.env.PYTHONPATH;

  beforeAll(async () => {
    if ("reason" in mlflow) return;
    dir = mkdtempSync(join(tmpdir(), "mlflow-client-"));
    // The scoring server Tandem starts (python -m mlflow models serve) finds MLflow where this does.
    process.env.PYTHONPATH = mlflow.env.PYTHONPATH;
    t = await startTestServer({ env: { TANDEM_PYTHON: SYSTEM_PYTHON, TANDEM_MLFLOW_STARTUP_TIMEOUT_S: "240" } });
  });
  afterAll(async () => {
    await t?.stop();
    if (savedPath === undefined) delete process.env.PYTHONPATH;
    else process.env.PYTHONPATH = savedPath;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("runs the fixture scripts recorded against the real MLflow server unchanged: training, MlflowClient, registry", async () => {
    const files = fixtureModelFiles(dir);
    for (const script of ["train", "client", "registry"]) {
      const run = await runClient(t, join(SCRIPTS, `${script}.py`), files);
      expect([script, run.status, run.stderr.split("\n").slice(-5).join("\n")]).toEqual([
        script,
        0,
        expect.any(String),
      ]);
      expect(run.stdout).toMatch(/^ok/m);
    }
  }, 300_000);

  it("log_model → register_model → alias → pyfunc.load_model('models:/…@alias').predict equals sklearn; a plain file registers", async () => {
    const run = await runClient(t, join(SCRIPTS, "models.py"));
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^ok$/m);
    result = JSON.parse(/^result: (.*)$/m.exec(run.stdout)![1]!) as typeof result;
    const v = await t.api<Json>("GET", `${V1}/models/churn/versions/1`);
    expect(v.body.artifact).toMatchObject({ format: "mlflow/sklearn" });
    expect((v.body.signature.inputs as Json[]).map((i) => i.name)).toEqual(result.features);
    expect(v.body.lineage.requirements["requirements.txt"]).toMatch(/^[0-9a-f]{64}$/);
    const notes = await t.api<Json>("GET", `${V1}/models/notes/versions/1`);
    expect(notes.body.artifact).toMatchObject({ format: "other", file_name: "notes.txt" });
    const runInputs = await t.api<Json>("GET", `/api/2.0/mlflow/runs/get?run_id=${result.run_id}`);
    expect(runInputs.body.run.inputs.dataset_inputs[0].dataset).toMatchObject({
      name: "churn-train",
      source_type: "http",
    });
  }, 300_000);

  it("serves it with MLflow's own `mlflow models serve`: /v1 and OIP v2 equal sklearn, logged, with feedback", async () => {
    expect(result, "the previous test logged the model").toBeDefined();
    const deploy = await t.api<Json>("PUT", `${V1}/endpoints/churn`, { model: "churn@champion" });
    expect(deploy.status, JSON.stringify(deploy.body)).toBe(200);
    const rows = asRecords(result);
    const answer = await predict(t, "default", "churn", rows);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.predictions).toEqual(result.predictions.map((label) => ({ label })));
    const infer = await t.api<Json>("POST", "/v2/models/churn/infer", oipColumns(result));
    expect(infer.status, JSON.stringify(infer.body)).toBe(200);
    expect(infer.body.outputs[0].data).toEqual(result.predictions);
    const ids = answer.body.prediction_ids as string[];
    const fb = await t.api<Json>(
      "POST",
      "/v1/endpoints/churn/feedback",
      ids.map((prediction_id, i) => ({ prediction_id, label: result.predictions[i] })),
    );
    expect(fb.body).toEqual({ accepted: ids.length, unknown_prediction_ids: [] });
    await t.server.opened.services.serving.logger.flush();
    const log = await t.server.opened.services.serving.log.recent("default", "churn", 100);
    expect(log.find((r) => r.id === ids[0])).toMatchObject({ version: 1, features: rows[0] });
  }, 300_000);

  it("a large artifact goes up through multipart upload and comes back byte-identical", async () => {
    const uploads = t.server.opened.services.multipartUploads;
    const create = uploads.create.bind(uploads);
    const parts: number[] = [];
    uploads.create = (input) => {
      parts.push(input.numParts);
      return create(input);
    };
    const run = await runClient(t, join(import.meta.dirname, "multipart_upload.py"), {
      SIZE: String(3 * 1024 * 1024 + 5),
      MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD: "true",
      MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE: String(1024 * 1024),
      MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE: String(1024 * 1024),
    });
    expect(run.status, run.stderr).toBe(0);
    const sent = /^sent (\w+)$/m.exec(run.stdout)?.[1];
    expect(sent).toMatch(/^[0-9a-f]{64}$/);
    expect(run.stdout).toContain(`got ${sent}`);
    expect(parts).toEqual([4]);
  }, 300_000);

  it("a model whose MLflow scoring server cannot start answers 409 with the reason", async () => {
    makeSklearnModel(join(dir, "broken"), ["--broken"]);
    const runId = await logDirectory(t, join(dir, "broken"), "model");
    expect((await registerSource(t, "broken", `runs:/${runId}/model`)).status).toBe(200);
    const deploy = await t.api<Json>("PUT", `${V1}/endpoints/broken`, { model: "broken@1" });
    expect(deploy.status).toBe(409);
    expect(deploy.body.error.message).toMatch(/cannot serve.*exited during startup/);
    expect(deploy.body.error.message).toMatch(/pickle|load/i);
  }, 300_000);
});
