import { describe, expect, it } from "vitest";
import { buildOpenApi } from "./openapi.js";
import { deriveOperationId } from "./operation-ids.js";
import { allRoutes } from "./routes/index.js";

describe("OpenAPI operationIds", () => {
  it("read like calls: list/get/create/update/delete, the action of an action URL, MLflow's own names", () => {
    const cases: Array<[string, string, string]> = [
      ["GET", "/api/v1/projects/:project/runs", "listRuns"],
      ["POST", "/api/v1/projects/:project/runs", "createRun"],
      ["GET", "/api/v1/projects/:project/runs/:run", "getRun"],
      ["PATCH", "/api/v1/projects/:project/runs/:run", "updateRun"],
      ["DELETE", "/api/v1/projects/:project/runs/:run", "deleteRun"],
      ["POST", "/api/v1/projects/:project/runs/:run/restore", "restoreRun"],
      ["POST", "/api/v1/projects/:project/pipelines/:pipeline/runs", "createPipelineRun"],
      ["GET", "/api/v1/projects/:project/models/:name/versions/:v/lineage", "getModelVersionLineage"],
      ["POST", "/api/v1/projects/:project/models/:name/aliases/:alias/rollback", "rollbackModelAlias"],
      ["POST", "/api/2.0/mlflow/runs/log-metric", "mlflowLogRunMetric"],
      ["POST", "/api/2.0/mlflow/runs/search", "mlflowSearchRuns"],
      ["GET", "/api/2.0/mlflow/experiments/get-by-name", "mlflowGetExperimentByName"],
      ["POST", "/api/2.0/mlflow/experiments/set-experiment-tag", "mlflowSetExperimentTag"],
      ["POST", "/api/2.0/mlflow/registered-models/alias", "mlflowSetRegisteredModelAlias"],
      ["GET", "/v2/models/:endpoint/versions/:version/ready", "v2GetModelVersionReady"],
      ["POST", "/v2/models/:endpoint/infer", "v2InferModel"],
    ];
    for (const [method, url, id] of cases) expect(deriveOperationId(method, url), `${method} ${url}`).toBe(id);
  });

  it("every operation of the server has a unique operationId and at least one tag", () => {
    const doc = buildOpenApi(allRoutes(), "0") as {
      paths: Record<string, Record<string, { operationId?: string; tags?: string[] }>>;
    };
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ at: `${method.toUpperCase()} ${path}`, ...op })),
    );
    expect(operations.length).toBeGreaterThan(150);
    for (const op of operations) {
      expect(op.operationId, op.at).toMatch(/^[a-z][A-Za-z0-9]*$/);
      expect(op.tags?.length, op.at).toBeGreaterThan(0);
    }
    const ids = operations.map((o) => o.operationId);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });
});
