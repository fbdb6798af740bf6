/**
 * A refused MLflow registration leaves the registry as it was (issue 23). `mlflow.register_model` is
 * one action in two requests — `registered-models/create`, then `model-versions/create` — so a refused
 * version used to leave an empty registered model behind. Over the REST routes on SQLite and Postgres,
 * and with the real MLflow 2.12 client where its source tree is on this machine.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mlflowPython, runMlflowClient } from "../helpers/mlflow.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { logDirectory, registerSource } from "./helpers.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function modelNames(s: TestServer): Promise<string[]> {
  const found = await s.api<Json>("GET", "/api/2.0/mlflow/registered-models/search");
  return (found.body.registered_models ?? []).map((m: Json) => m.name as string);
}

for (const kind of STORE_KINDS) {
  const run = kind === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`a refused MLflow registration over REST [${kind}]`, () => {
    let s: TestServer;
    const api = (method: string, path: string, body?: unknown) => s.api<Json>(method, `/api/2.0/mlflow${path}`, body);
    beforeAll(async () => {
      s = await startTestServer({ store: kind });
    });
    afterAll(async () => {
      await s?.stop();
    });

    it("removes the model register_model created for the refused version, and audits why", async () => {
      expect((await api("POST", "/registered-models/create", { name: "ghost" })).status).toBe(200);
      const refused = await registerSource(s, "ghost", "mlflow-artifacts:/0/0123456789abcdef/artifacts/nope");
      expect(refused.status).toBe(404);
      expect(refused.body.error_code).toBe("RESOURCE_DOES_NOT_EXIST");
      const gone = await api("GET", "/registered-models/get?name=ghost");
      expect([gone.status, gone.body.error_code]).toEqual([404, "RESOURCE_DOES_NOT_EXIST"]);
      expect(await modelNames(s)).not.toContain("ghost");
      const audit = await s.api<{ events: Array<{ action: string; target: string; summary: Json }> }>(
        "GET",
        "/api/v1/projects/default/audit",
      );
      const ghost = audit.body.events.filter((e) => e.target === "model:ghost").map((e) => e.action);
      expect(ghost).toEqual(expect.arrayContaining(["model.create", "model.delete"]));
    });

    it("keeps a model that has versions, or that someone described after creating it", async () => {
      const dir = mkdtempSync(join(tmpdir(), "refused-registration-"));
      writeFileSync(join(dir, "notes.txt"), "hello");
      const runId = await logDirectory(s, dir, "files");
      expect((await api("POST", "/registered-models/create", { name: "kept" })).status).toBe(200);
      expect((await registerSource(s, "kept", `runs:/${runId}/files/notes.txt`)).status).toBe(200);
      expect((await registerSource(s, "kept", "mlflow-artifacts:/0/0123456789abcdef/artifacts/nope")).status).toBe(404);
      expect((await api("POST", "/registered-models/create", { name: "described" })).status).toBe(200);
      expect(
        (await api("PATCH", "/registered-models/update", { name: "described", description: "on purpose" })).status,
      ).toBe(200);
      expect((await registerSource(s, "described", "mlflow-artifacts:/0/0123456789abcdef/artifacts/nope")).status).toBe(
        404,
      );
      expect(await modelNames(s)).toEqual(expect.arrayContaining(["kept", "described"]));
      const kept = await api("GET", "/model-versions/search?filter=name%3D%27kept%27");
      expect(kept.body.model_versions.map((v: Json) => v.version)).toEqual(["1"]);
    });
  });
}

const mlflow = mlflowPython();
if ("reason" in mlflow) console.warn(`[skip] the real MLflow client's refused registration: ${mlflow.reason}`);

describe.skipIf("reason" in mlflow)("a refused registration from the real MLflow 2.12 client", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("mlflow.register_model of a path the run does not hold fails and leaves no registered model", async () => {
    if ("reason" in mlflow) return;
    const script = `
import mlflow
from mlflow import MlflowClient
with mlflow.start_run() as run:
    mlflow.log_text("hello", "notes.txt")
try:
    mlflow.register_model(f"runs:/{run.info.run_id}/nope", "ghost")
    print("registered")
except mlflow.exceptions.MlflowException as e:
    print("refused:", e.error_code)
mlflow.register_model(f"runs:/{run.info.run_id}/notes.txt", "notes")
print("models:", sorted(m.name for m in MlflowClient().search_registered_models()))
`;
    const out = await runMlflowClient(s.url, s.adminToken, ["-c", script]);
    expect([out.status, out.stderr.split("\n").slice(-4).join("\n")]).toEqual([0, expect.any(String)]);
    expect(out.stdout).toContain("refused: RESOURCE_DOES_NOT_EXIST");
    expect(out.stdout).toContain("models: ['notes']");
    expect(await modelNames(s)).toEqual(["notes"]);
  }, 120_000);
});
