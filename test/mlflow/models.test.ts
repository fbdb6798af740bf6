/**
 * Any MLflow model in the registry and serving, without MLflow on the machine (every CI run): an
 * sklearn model in MLflow's directory layout is logged through the MLflow REST API as a client does,
 * registered from `runs:/…`, and served as a command-served model by a STAND-IN of MLflow's scoring
 * server (standin_scoring_server.py, on Debian's python3-sklearn) through TANDEM_MLFLOW_SERVE. The
 * real `mlflow models serve` runs in client.test.ts where the MLflow source tree is present.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sklearnPython, SYSTEM_PYTHON } from "../helpers/mlflow.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { linearClassifierOnnx } from "../helpers/onnx-models.js";
import { predict } from "../serving/helpers.js";
import {
  asRecords,
  logDirectory,
  makeSklearnModel,
  oipColumns,
  putArtifact,
  registerSource,
  STANDIN,
  type SklearnModel,
} from "./helpers.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const V1 = "/api/v1/projects/default";

const py = sklearnPython();
if ("reason" in py) console.warn(`[skip] MLflow model tests: ${py.reason}`);

describe.skipIf("reason" in py)("MLflow models in the registry", () => {
  let dir: string;
  let model: SklearnModel;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "tandem-mlflow-model-"));
    model = makeSklearnModel(join(dir, "classifier"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const kind of STORE_KINDS) {
    describe.skipIf(kind === "postgres" && !postgresAvailable())(`[${kind}]`, () => {
      let t: TestServer;
      beforeAll(async () => {
        t = await startTestServer({ store: kind });
      });
      afterAll(async () => t?.stop());

      it("registers an MLflow model directory as it is: format, signature, requirements in lineage", async () => {
        const runId = await logDirectory(t, join(dir, "classifier"), "model");
        const reg = await registerSource(t, "churn", `runs:/${runId}/model`);
        expect(reg.status, JSON.stringify(reg.body)).toBe(200);
        expect(reg.body.model_version).toMatchObject({ version: "1", source: `runs:/${runId}/model` });
        const v = await t.api<Json>("GET", `${V1}/models/churn/versions/1`);
        expect(v.body.artifact).toMatchObject({ format: "mlflow/sklearn", storage: "tree" });
        expect(v.body.signature.source).toBe("mlmodel");
        expect(v.body.signature.inputs).toEqual(
          model.features.map((name) => ({ name, type: "float64", shape: [null] })),
        );
        expect(v.body.signature.outputs).toEqual([{ name: "output-0", type: "int64", shape: [null] }]);
        expect(v.body.signature.model).toMatchObject({
          task: "multiclass_classification",
          features: model.features.map((name) => ({ name, type: "numeric" })),
        });
        expect(Object.keys(v.body.lineage.requirements).sort()).toEqual([
          "conda.yaml",
          "python_env.yaml",
          "requirements.txt",
        ]);
        expect(v.body.lineage.env_digest).toMatch(/^[0-9a-f]{64}$/);
        const lineage = await t.api<Json>("GET", `${V1}/models/churn/versions/1/lineage`);
        const env = (lineage.body.nodes as Json[]).find((n) => n.kind === "environment");
        expect(env?.attributes["requirements.txt"]).toBe(v.body.lineage.requirements["requirements.txt"]);
        // Load back the way MLflow clients do: the download URI, then the artifact proxy.
        const uri = await t.api<Json>("GET", "/api/2.0/mlflow/model-versions/get-download-uri?name=churn&version=1");
        const listed = await t.api<Json>(
          "GET",
          `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(uri.body.artifact_uri.replace("mlflow-artifacts:/", ""))}`,
        );
        expect((listed.body.files as Json[]).map((f) => f.path).sort()).toEqual([
          "MLmodel",
          "conda.yaml",
          "input_example.json",
          "model.pkl",
          "python_env.yaml",
          "requirements.txt",
        ]);
      });

      it("registers any other file as format other: downloadable at its own URI, never deployed", async () => {
        const run = await t.api<Json>("POST", "/api/2.0/mlflow/runs/create", { experiment_id: "0" });
        const root = (run.body.run.info.artifact_uri as string).replace("mlflow-artifacts:/", "");
        await putArtifact(t, `${root}/notes.txt`, "release notes");
        const reg = await registerSource(t, "notes", `runs:/${run.body.run.info.run_id}/notes.txt`);
        expect(reg.status, JSON.stringify(reg.body)).toBe(200);
        const v = await t.api<Json>("GET", `${V1}/models/notes/versions/1`);
        expect(v.body.artifact).toMatchObject({ format: "other", storage: "blob", file_name: "notes.txt" });
        const uri = await t.api<Json>("GET", "/api/2.0/mlflow/model-versions/get-download-uri?name=notes&version=1");
        expect(uri.body.artifact_uri).toBe("mlflow-artifacts:/_registry/notes/1/notes.txt");
        const bytes = await fetch(`${t.url}/api/2.0/mlflow-artifacts/artifacts/_registry/notes/1/notes.txt`, {
          headers: { authorization: `Bearer ${t.adminToken}` },
        });
        expect(await bytes.text()).toBe("release notes");
        // Aliases and policies apply to every format alike.
        const alias = await t.api("POST", "/api/2.0/mlflow/registered-models/alias", {
          name: "notes",
          alias: "current",
          version: "1",
        });
        expect(alias.status).toBe(200);
        const deploy = await t.api<Json>("PUT", `${V1}/endpoints/notes`, { model: "notes@current" });
        expect(deploy.status).toBe(409);
        expect(deploy.body.error.message).toMatch(/format "other".*stays downloadable/);
      });

      it("an alias on an MLflow model waits for its approval as on any version", async () => {
        expect((await t.api("POST", "/api/v1/users", { name: "bob" })).status).toBe(201);
        expect((await t.api("PUT", `${V1}/members/bob`, { role: "approver" })).status).toBe(200);
        const bob = (await t.api<Json>("POST", "/api/v1/tokens", { name: "t", user: "bob" })).body.token as string;
        const policies = await t.api("PUT", `${V1}/policies`, {
          policies: {
            release: {
              accept_manual: true,
              require: [{ approvals: { role: "approver", count: 1, for_alias: "champion" } }],
            },
          },
        });
        expect(policies.status).toBe(200);
        // "churn" version 1 is the sklearn model the first test registered.
        const held = await t.api<Json>("POST", "/api/2.0/mlflow/registered-models/alias", {
          name: "churn",
          alias: "champion",
          version: "1",
        });
        expect([held.status, held.body.error_code]).toEqual([409, "INVALID_STATE"]);
        expect(held.body.message).toMatch(/awaiting 1 approval by approver/);
        const ok = await t.api<Json>("POST", `${V1}/models/churn/versions/1/approve`, { comment: "ok" }, bob);
        expect(ok.status, JSON.stringify(ok.body)).toBe(200);
        const alias = await t.api<Json>("GET", "/api/2.0/mlflow/registered-models/alias?name=churn&alias=champion");
        expect(alias.body.model_version).toMatchObject({ version: "1", aliases: ["champion"] });
      });
    });
  }
});

describe.skipIf("reason" in py)("MLflow models served by MLflow's scoring server (stand-in)", () => {
  let t: TestServer;
  let dir: string;
  let model: SklearnModel;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tandem-mlflow-serve-"));
    model = makeSklearnModel(join(dir, "v1"));
    makeSklearnModel(join(dir, "v2"), ["--regressor"]);
    makeSklearnModel(join(dir, "broken"), ["--broken"]);
    t = await startTestServer({
      env: { TANDEM_MLFLOW_SERVE: `exec ${SYSTEM_PYTHON} ${STANDIN}`, TANDEM_MLFLOW_STARTUP_TIMEOUT_S: "90" },
    });
    for (const v of ["v1", "broken"]) {
      const runId = await logDirectory(t, join(dir, v), "model");
      const reg = await registerSource(t, v === "v1" ? "churn" : "broken", `runs:/${runId}/model`);
      expect(reg.status).toBe(200);
    }
  });
  afterAll(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves predictions equal to sklearn's over /v1 and OIP v2, logs them and takes feedback", async () => {
    const deploy = await t.api<Json>("PUT", `${V1}/endpoints/churn`, { model: "churn@1" });
    expect(deploy.status, JSON.stringify(deploy.body)).toBe(200);
    const byName = await predict(t, "default", "churn", asRecords(model));
    expect(byName.status, JSON.stringify(byName.body)).toBe(200);
    expect(byName.body.predictions).toEqual(model.predictions.map((label) => ({ label })));
    const inOrder = await predict(t, "default", "churn", model.rows);
    expect(inOrder.body.predictions).toEqual(byName.body.predictions);

    const meta = await t.api<Json>("GET", "/v2/models/churn");
    expect(meta.body).toMatchObject({ platform: "mlflow_sklearn", parameters: { features: model.features.join(",") } });
    expect((meta.body.inputs as Json[]).map((i) => i.name)).toEqual(model.features);
    const infer = await t.api<Json>("POST", "/v2/models/churn/infer", oipColumns(model));
    expect(infer.status, JSON.stringify(infer.body)).toBe(200);
    expect(infer.body.outputs).toEqual([
      { name: "label", datatype: "INT64", shape: [model.rows.length], data: model.predictions },
    ]);

    const bad = await predict(t, "default", "churn", [{ age: 1, income: 2 }]);
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toMatch(/missing feature \\"tenure\\"/);

    const ids = byName.body.prediction_ids as string[];
    const fb = await t.api<Json>(
      "POST",
      "/v1/endpoints/churn/feedback",
      ids.map((prediction_id, i) => ({ prediction_id, label: model.predictions[i] })),
    );
    expect(fb.body).toEqual({ accepted: ids.length, unknown_prediction_ids: [] });
    await t.server.opened.services.serving.logger.flush();
    const log = await t.server.opened.services.serving.log.recent("default", "churn", 50);
    const logged = log.find((r) => r.id === ids[0])!;
    expect(logged).toMatchObject({ version: 1, slot: "primary", features: asRecords(model)[0] });
  });

  it("mirrors to a shadow version and runs a monitor over the logged columns", async () => {
    const runId = await logDirectory(t, join(dir, "v2"), "model");
    expect((await registerSource(t, "churn", `runs:/${runId}/model`)).status).toBe(200);
    const deploy = await t.api<Json>("PUT", `${V1}/endpoints/churn`, { model: "churn@1", shadow: "2" });
    expect(deploy.status, JSON.stringify(deploy.body)).toBe(200);
    const services = t.server.opened.services;
    await services.serving.runtime.sync();
    const answer = await predict(t, "default", "churn", asRecords(model));
    expect(answer.status).toBe(200);
    const deadline = Date.now() + 30_000;
    let shadow: Array<{ slot: string; output: unknown }> = [];
    while (Date.now() < deadline && shadow.length < model.rows.length) {
      await services.serving.logger.flush();
      shadow = (await services.serving.log.recent("default", "churn", 200)).filter((r) => r.slot === "shadow");
      await new Promise((r) => setTimeout(r, 100));
    }
    // The regressor in the shadow answers values (float output), the classifier labels.
    expect(shadow.length).toBe(model.rows.length);
    expect(shadow.every((r) => typeof (r.output as { value?: unknown }).value === "number")).toBe(true);

    const reference = model.rows.map((r) => r.join(",")).join("\n");
    const blob = await services.artifacts.putBlob(`${model.features.join(",")}\n${reference}\n`);
    await services.data.createVersion("admin", "default", "churn-ref", {
      kind: "file",
      entries: [{ path: "ref.csv", sha256: blob.sha256, size: blob.size }],
    });
    const put = await t.api("PUT", `${V1}/monitors/churn-drift`, {
      endpoint: "churn",
      window: "1h",
      min_rows: 5,
      reference: "dataset://churn-ref@latest",
      checks: ["data_drift", { performance: { metric: "accuracy", min: 0.5 } }],
    });
    expect(put.status).toBe(200);
    const run = await t.api<Json>("POST", `${V1}/monitors/churn-drift/run`, { window_end: Date.now() + 60_000 });
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    const drift = run.body.checks.find((c: Json) => c.check === "data_drift");
    expect((drift.details.columns as Json[]).map((c) => c.name).sort()).toEqual([...model.features].sort());
    const perf = run.body.checks.find((c: Json) => c.check === "performance");
    expect(perf.details).toMatchObject({ value: 1 });
  });

  it("splits traffic to a canary version served by its own scoring server, logged per slot", async () => {
    // Version 2 (the regressor) was registered by the shadow test above.
    const deploy = await t.api<Json>("PUT", `${V1}/endpoints/churn`, {
      model: "churn@1",
      canary: { selector: "2", percent: 50 },
    });
    expect(deploy.status, JSON.stringify(deploy.body)).toBe(200);
    expect(deploy.body).toMatchObject({ primary_version: 1, canary_version: 2 });
    const services = t.server.opened.services;
    await services.serving.runtime.sync();
    const row = asRecords(model)[0]!;
    const byVersion = new Map<number, Json[]>();
    for (let i = 0; i < 30; i++) {
      const r = await predict(t, "default", "churn", [row], { "x-tandem-routing-key": `user-${i}` });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const v = r.body.model_version as number;
      byVersion.set(v, [...(byVersion.get(v) ?? []), ...(r.body.predictions as Json[])]);
    }
    expect([...byVersion.keys()].sort()).toEqual([1, 2]);
    // The classifier answers labels, the regressor values: each slot really ran its own model.
    expect(byVersion.get(1)!.every((p) => p.label === model.predictions[0])).toBe(true);
    expect(byVersion.get(2)!.every((p) => typeof p.value === "number")).toBe(true);
    await services.serving.logger.flush();
    const slots = new Set((await services.serving.log.recent("default", "churn", 100)).map((r) => r.slot));
    expect(slots).toContain("canary");
  });

  it("a model whose scoring server cannot start answers 409 with the reason", async () => {
    const deploy = await t.api<Json>("PUT", `${V1}/endpoints/broken`, { model: "broken@1" });
    expect(deploy.status).toBe(409);
    expect(deploy.body.error.message).toMatch(/cannot serve.*exited during startup/);
    const res = await predict(t, "default", "broken", [[1, 2, 3]]);
    expect(res.status).toBe(409);
    expect(JSON.stringify(res.body)).toMatch(/loading its model failed/);
    const shown = await t.api<Json>("GET", `${V1}/endpoints/broken`);
    expect(shown.body.load_error).toMatch(/exited during startup/);
  });
});

describe("an MLflow model on a host without MLflow", () => {
  let t: TestServer;
  beforeAll(async () => {
    // No TANDEM_MLFLOW_SERVE: MLflow's own `models serve`, which this Python cannot import.
    delete process.env.PYTHONPATH;
    t = await startTestServer({ env: { TANDEM_PYTHON: SYSTEM_PYTHON } });
  });
  afterAll(async () => t?.stop());

  it("refuses the deploy with 409 naming what to install", async () => {
    const run = await t.api<Json>("POST", "/api/2.0/mlflow/runs/create", { experiment_id: "0" });
    const root = (run.body.run.info.artifact_uri as string).replace("mlflow-artifacts:/", "");
    await putArtifact(
      t,
      `${root}/model/MLmodel`,
      "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n  sklearn:\n    pickled_model: model.pkl\n",
    );
    await putArtifact(t, `${root}/model/model.pkl`, "pickle");
    await putArtifact(t, `${root}/model/requirements.txt`, "mlflow==2.12.1\nscikit-learn==1.2.1\n");
    expect((await registerSource(t, "m", `runs:/${run.body.run.info.run_id}/model`)).status).toBe(200);
    const deploy = await t.api<Json>("PUT", `${V1}/endpoints/m`, { model: "m@1" });
    expect(deploy.status).toBe(409);
    expect(deploy.body.error.message).toMatch(/MLflow sklearn model.*No module named 'mlflow'.*Install mlflow/);
    expect(deploy.body.error.details).toMatchObject({
      install: ["mlflow>=2.12,<3", "scikit-learn"],
      requirements: ["mlflow==2.12.1", "scikit-learn==1.2.1"],
    });
    const endpoints = await t.api<Json>("GET", `${V1}/endpoints`);
    expect(endpoints.body.endpoints).toEqual([]);
  });
});

describe("an MLflow model with the onnx flavor", () => {
  let t: TestServer;
  beforeAll(async () => {
    // No Python at all: the onnx flavor must never reach MLflow's scoring server.
    t = await startTestServer({ env: { TANDEM_PYTHON: "/nonexistent/python3" } });
  });
  afterAll(async () => t?.stop());

  it("is served in-process by onnxruntime, and has a model card like any version", async () => {
    const features = ["distance", "dep_hour"];
    const weights = [0.002, 0.3];
    const bias = -4;
    const run = await t.api<Json>("POST", "/api/2.0/mlflow/runs/create", { experiment_id: "0" });
    const root = (run.body.run.info.artifact_uri as string).replace("mlflow-artifacts:/", "");
    const signature = JSON.stringify(features.map((name) => ({ type: "double", name })));
    await putArtifact(
      t,
      `${root}/model/MLmodel`,
      [
        "flavors:",
        "  onnx: {data: model.onnx, onnx_version: 1.15.0, providers: [CPUExecutionProvider]}",
        "  python_function: {loader_module: mlflow.onnx, data: model.onnx, python_version: 3.11.2}",
        "signature:",
        `  inputs: '${signature}'`,
        `  outputs: '[{"type": "long", "name": "label"}]'`,
        "",
      ].join("\n"),
    );
    await putArtifact(t, `${root}/model/model.onnx`, linearClassifierOnnx({ features, weights, bias }));
    await putArtifact(t, `${root}/model/requirements.txt`, "mlflow==2.12.1\nonnx==1.15.0\nonnxruntime\n");
    const reg = await registerSource(t, "delays", `runs:/${run.body.run.info.run_id}/model`);
    expect(reg.status, JSON.stringify(reg.body)).toBe(200);
    const v = await t.api<Json>("GET", `${V1}/models/delays/versions/1`);
    expect(v.body.artifact).toMatchObject({ format: "mlflow/onnx" });
    const deploy = await t.api<Json>("PUT", `${V1}/endpoints/delays`, { model: "delays@1" });
    expect(deploy.status, JSON.stringify(deploy.body)).toBe(200);
    const rows = [
      { distance: 300, dep_hour: 6 },
      { distance: 2000, dep_hour: 20 },
    ];
    const answer = await predict(t, "default", "delays", rows);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    // label = sigmoid(x·w + b) > 0.5: -4 + 0.6 + 1.8 < 0 → 0; -4 + 4 + 6 > 0 → 1.
    expect((answer.body.predictions as Json[]).map((p) => p.label)).toEqual([0, 1]);
    const card = await t.api<Json>("GET", `${V1}/models/delays/versions/1/card`);
    expect(card.status).toBe(200);
    expect(JSON.stringify(card.body)).toContain("mlflow/onnx");
  });
});
