/**
 * MLflow REST endpoints newer than 2.12 (MLflow 3's logged models, traces, assessments, evaluation
 * datasets, scorers; 2.x-late webhooks, workspaces and run outputs). Tandem implements MLflow's 2.x
 * API as of 2.12; a newer client calling one of these gets a clear 501 NOT_IMPLEMENTED in MLflow's
 * error shape naming the endpoint, never a 404 page. MLflow's client does not retry a 501 (its
 * transient codes are 408, 429, 500, 502, 503, 504), so the error reaches the user at once.
 *
 * The table is the difference between the HTTP endpoints of MlflowService, ModelRegistryService,
 * MlflowArtifactsService and WebhookService in github.com/opendatahub-io/mlflow at master (3.6.1.dev0,
 * mlflow/protos/*.proto) and those MLflow 2.12 (18dc54fb) serves. docs/reference/mlflow-endpoints.md
 * is generated from it and from the route table.
 */
import type { AnyRoute, HttpMethod } from "../route-kit.js";
import { defineRoute } from "../route-kit.js";

export type LaterArea =
  | "logged models"
  | "run outputs"
  | "traces"
  | "assessments"
  | "evaluation datasets"
  | "scorers"
  | "webhooks"
  | "workspaces";

/** [method, MLflow's path (its {param} syntax), MLflow's rpc name, area]. */
export const MLFLOW_LATER_ENDPOINTS: ReadonlyArray<readonly [HttpMethod, string, string, LaterArea]> = [
  ["POST", "/api/2.0/mlflow/logged-models", "createLoggedModel", "logged models"],
  ["POST", "/api/2.0/mlflow/logged-models/search", "searchLoggedModels", "logged models"],
  ["DELETE", "/api/2.0/mlflow/logged-models/{model_id}", "deleteLoggedModel", "logged models"],
  ["GET", "/api/2.0/mlflow/logged-models/{model_id}", "getLoggedModel", "logged models"],
  ["PATCH", "/api/2.0/mlflow/logged-models/{model_id}", "finalizeLoggedModel", "logged models"],
  [
    "GET",
    "/api/2.0/mlflow/logged-models/{model_id}/artifacts/directories",
    "listLoggedModelArtifacts",
    "logged models",
  ],
  ["POST", "/api/2.0/mlflow/logged-models/{model_id}/params", "LogLoggedModelParams", "logged models"],
  ["PATCH", "/api/2.0/mlflow/logged-models/{model_id}/tags", "setLoggedModelTags", "logged models"],
  ["DELETE", "/api/2.0/mlflow/logged-models/{model_id}/tags/{tag_key}", "deleteLoggedModelTag", "logged models"],
  ["POST", "/api/2.0/mlflow/runs/outputs", "logOutputs", "run outputs"],
  ["GET", "/api/2.0/mlflow/get-online-trace-details", "getOnlineTraceDetails", "traces"],
  ["GET", "/api/2.0/mlflow/traces", "searchTraces", "traces"],
  ["POST", "/api/2.0/mlflow/traces", "startTrace", "traces"],
  ["POST", "/api/2.0/mlflow/traces/delete-traces", "deleteTraces", "traces"],
  ["POST", "/api/2.0/mlflow/traces/link-to-run", "linkTracesToRun", "traces"],
  ["PATCH", "/api/2.0/mlflow/traces/{request_id}", "endTrace", "traces"],
  ["GET", "/api/2.0/mlflow/traces/{request_id}/info", "getTraceInfo", "traces"],
  ["DELETE", "/api/2.0/mlflow/traces/{request_id}/tags", "deleteTraceTag", "traces"],
  ["PATCH", "/api/2.0/mlflow/traces/{request_id}/tags", "setTraceTag", "traces"],
  ["GET", "/api/2.0/mlflow/unified-traces", "searchUnifiedTraceHandler", "traces"],
  ["POST", "/api/3.0/mlflow/traces", "startTraceV3", "traces"],
  ["GET", "/api/3.0/mlflow/traces/batchGet", "batchGetTraces", "traces"],
  ["POST", "/api/3.0/mlflow/traces/calculate-filter-correlation", "calculateTraceFilterCorrelation", "traces"],
  ["POST", "/api/3.0/mlflow/traces/delete-traces", "deleteTracesV3", "traces"],
  ["GET", "/api/3.0/mlflow/traces/get", "getTrace", "traces"],
  ["POST", "/api/3.0/mlflow/traces/search", "searchTracesV3", "traces"],
  ["GET", "/api/3.0/mlflow/traces/{trace_id}", "getTraceInfoV3", "traces"],
  ["DELETE", "/api/3.0/mlflow/traces/{trace_id}/tags", "deleteTraceTagV3", "traces"],
  ["PATCH", "/api/3.0/mlflow/traces/{trace_id}/tags", "setTraceTagV3", "traces"],
  ["POST", "/api/3.0/mlflow/traces/{assessment.trace_id}/assessments", "createAssessment", "assessments"],
  ["DELETE", "/api/3.0/mlflow/traces/{trace_id}/assessments/{assessment_id}", "deleteAssessment", "assessments"],
  ["GET", "/api/3.0/mlflow/traces/{trace_id}/assessments/{assessment_id}", "GetAssessment", "assessments"],
  ["PATCH", "/api/3.0/mlflow/traces/{trace_id}/assessments/{assessment_id}", "updateAssessment", "assessments"],
  ["POST", "/api/3.0/mlflow/datasets/create", "createDataset", "evaluation datasets"],
  ["GET", "/api/3.0/mlflow/datasets/search", "searchEvaluationDatasets", "evaluation datasets"],
  ["POST", "/api/3.0/mlflow/datasets/search", "searchEvaluationDatasets", "evaluation datasets"],
  ["DELETE", "/api/3.0/mlflow/datasets/{dataset_id}", "deleteDataset", "evaluation datasets"],
  ["GET", "/api/3.0/mlflow/datasets/{dataset_id}", "getDataset", "evaluation datasets"],
  ["POST", "/api/3.0/mlflow/datasets/{dataset_id}/add-experiments", "addDatasetToExperiments", "evaluation datasets"],
  ["GET", "/api/3.0/mlflow/datasets/{dataset_id}/experiment-ids", "getDatasetExperimentIds", "evaluation datasets"],
  ["GET", "/api/3.0/mlflow/datasets/{dataset_id}/records", "getDatasetRecords", "evaluation datasets"],
  ["POST", "/api/3.0/mlflow/datasets/{dataset_id}/records", "upsertDatasetRecords", "evaluation datasets"],
  [
    "POST",
    "/api/3.0/mlflow/datasets/{dataset_id}/remove-experiments",
    "removeDatasetFromExperiments",
    "evaluation datasets",
  ],
  ["PATCH", "/api/3.0/mlflow/datasets/{dataset_id}/tags", "setDatasetTags", "evaluation datasets"],
  ["DELETE", "/api/3.0/mlflow/datasets/{dataset_id}/tags/{key}", "deleteDatasetTag", "evaluation datasets"],
  ["DELETE", "/api/3.0/mlflow/scorers/delete", "deleteScorer", "scorers"],
  ["GET", "/api/3.0/mlflow/scorers/get", "getScorer", "scorers"],
  ["GET", "/api/3.0/mlflow/scorers/list", "listScorers", "scorers"],
  ["POST", "/api/3.0/mlflow/scorers/register", "registerScorer", "scorers"],
  ["GET", "/api/3.0/mlflow/scorers/versions", "listScorerVersions", "scorers"],
  ["GET", "/api/2.0/mlflow/webhooks", "listWebhooks", "webhooks"],
  ["POST", "/api/2.0/mlflow/webhooks", "createWebhook", "webhooks"],
  ["DELETE", "/api/2.0/mlflow/webhooks/{webhook_id}", "deleteWebhook", "webhooks"],
  ["GET", "/api/2.0/mlflow/webhooks/{webhook_id}", "getWebhook", "webhooks"],
  ["PATCH", "/api/2.0/mlflow/webhooks/{webhook_id}", "updateWebhook", "webhooks"],
  ["POST", "/api/2.0/mlflow/webhooks/{webhook_id}/test", "testWebhook", "webhooks"],
  ["GET", "/api/2.0/mlflow/workspaces", "listWorkspaces", "workspaces"],
  ["POST", "/api/2.0/mlflow/workspaces", "createWorkspace", "workspaces"],
  ["DELETE", "/api/2.0/mlflow/workspaces/{workspace_name}", "deleteWorkspace", "workspaces"],
  ["GET", "/api/2.0/mlflow/workspaces/{workspace_name}", "getWorkspace", "workspaces"],
  ["PATCH", "/api/2.0/mlflow/workspaces/{workspace_name}", "updateWorkspace", "workspaces"],
];

/** `{model_id}` and `{assessment.trace_id}` become Fastify's `:model_id` and `:trace_id`. */
export function fastifyPath(path: string): string {
  return path.replace(/\{(?:[\w]+\.)?(\w+)\}/g, ":$1");
}

export function notImplementedMessage(method: string, path: string, rpc: string, area: LaterArea): string {
  return (
    `Tandem does not implement ${method} ${path} (MLflow's ${rpc}, ${area}): it serves MLflow's REST API as of 2.12. ` +
    "See docs/reference/mlflow-endpoints.md for what is supported."
  );
}

export const mlflowLaterRoutes: AnyRoute[] = MLFLOW_LATER_ENDPOINTS.map(([method, path, rpc, area]) => {
  const url = fastifyPath(path);
  return defineRoute({
    method,
    url,
    aliases: [url.replace(/^\/api\//, "/ajax-api/")],
    summary: `Not implemented (MLflow ${area}, newer than 2.12): answers 501 NOT_IMPLEMENTED naming the endpoint.`,
    tags: ["mlflow"],
    auth: "bearer",
    role: "authenticated",
    changesState: false,
    raw: true,
    handler: async ({ reply }) =>
      reply
        .status(501)
        .send({ error_code: "NOT_IMPLEMENTED", message: notImplementedMessage(method, path, rpc, area) }),
  }) as AnyRoute;
});
