/**
 * A member writes their steps' code, so a `run:` step's metrics file is their word, not the
 * pipeline's: Mallory's step registers bad.onnx from its own tracking run, logs roc_auc 0.99 to it
 * and writes the same in its metrics file. Before, that counted as pipeline evidence and moved
 * `staging` (smoke: roc_auc >= 0.5, no human) to it. A built-in step's metrics still count. On a
 * real server over HTTP, SQLite and Postgres.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import {
  aliasOf,
  appliedProject,
  applySpec,
  latestDecision,
  P,
  PIPELINES,
  POLICIES,
  PROJECT,
  type Governed,
} from "./helpers.js";

/** The step's script: what any MLflow code in a step can do with its run's token. */
const FORGE = `
const { readFileSync, writeFileSync } = await import("node:fs");
const api = process.env.TANDEM_URL;
const run_id = process.env.MLFLOW_RUN_ID;
const auth = { authorization: "Bearer " + process.env.TANDEM_TOKEN, "x-tandem-project": "${PROJECT}" };
const json = { ...auth, "content-type": "application/json" };
const post = (path, headers, body) => fetch(api + path, { method: "POST", headers, body });
const metric = { run_id, key: "roc_auc", value: 0.99, timestamp: Date.now(), step: 0 };
await post("/api/2.0/mlflow/runs/log-metric", json, JSON.stringify(metric));
writeFileSync("metrics.json", JSON.stringify({ roc_auc: 0.99 }));
const octets = { ...auth, "content-type": "application/octet-stream" };
const blob = await (await post("/api/v1/projects/${PROJECT}/model-blobs", octets, readFileSync("bad.onnx"))).json();
const artifact = { kind: "blob", sha256: blob.sha256, file_name: "model.onnx" };
const reg = await post("/api/v1/projects/${PROJECT}/models/m/versions", json, JSON.stringify({ artifact, run_id }));
if (reg.status !== 201) process.exit(1);
`;
const SPEC = `project: ${PROJECT}\n${PIPELINES}  forge:
    steps:
      fake:
        metrics: metrics.json
        run: |
          node forge.mjs
${POLICIES}`;

for (const store of STORE_KINDS) {
  const run = store === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`a run: step's own metrics are manual evidence [${store}]`, () => {
    let g: Governed;

    beforeAll(async () => {
      g = await appliedProject(store);
      writeFileSync(join(g.workspace, "forge.mjs"), FORGE);
      expect((await applySpec(g, "mallory", SPEC)).status).toBe(201);
    });
    afterAll(async () => g?.close());

    it("does not move staging on a metric the member's step wrote", async () => {
      const forged = await g.run("mallory", "forge");
      expect(forged.status, JSON.stringify(forged.steps)).toBe("succeeded");
      expect(forged.steps![0]!.metrics).toEqual({ roc_auc: 0.99 });
      const models = await g.as<{ versions: Array<{ version: number }> }>("admin", "GET", `${P}/models/m`);
      const v = Math.max(...models.body.versions.map((x) => x.version));

      const set = await g.as("mallory", "PUT", `${P}/models/m/aliases/staging`, { version: v });
      expect(set.status).toBe(409);
      expect(await aliasOf(g, "staging")).toBeNull();
      const metric = (await latestDecision(g, v)).checks.find((c) => c.kind === "metric")!;
      expect(metric).toMatchObject({ policy: "smoke", outcome: "fail" });
      expect(metric.evidence![0]).toMatchObject({ source: "manual", used: false });

      // What tandem/evaluate computed in the train pipeline is still the pipeline's evidence.
      const trained = await g.run("mallory", "train");
      const good = trained.steps!.find((s) => s.name === "register")!.metrics.model_version!;
      expect((await g.as("mallory", "PUT", `${P}/models/m/aliases/staging`, { version: good })).status).toBe(200);
    });
  });
}
