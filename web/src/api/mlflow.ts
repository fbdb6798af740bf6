/**
 * MLflow's REST API (mlflow/protos/service.proto as JSON), as Tandem serves it under /api/2.0/mlflow;
 * the project travels in the X-Tandem-Project header.
 */
import { request } from "./client";

export interface MlflowExperiment {
  experiment_id: string;
  name: string;
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
  tags: Array<{ key: string; value: string }>;
}

export interface MlflowMetric {
  key: string;
  /** Protobuf writes NaN and ±Infinity as strings. */
  value: number | string;
  timestamp: number;
  step: number;
}

export interface MlflowRun {
  info: {
    run_id: string;
    run_name: string;
    experiment_id: string;
    user_id: string;
    status: string;
    start_time: number;
    end_time?: number;
    lifecycle_stage: string;
  };
  data: {
    metrics: MlflowMetric[];
    params: Array<{ key: string; value: string }>;
    tags: Array<{ key: string; value: string }>;
  };
}

const headers = (project: string) => ({ "x-tandem-project": project });

export function searchExperiments(project: string): Promise<{ experiments?: MlflowExperiment[] }> {
  return request("GET", "/api/2.0/mlflow/experiments/search?max_results=1000", { headers: headers(project) });
}

export function searchRuns(
  project: string,
  body: { experiment_ids: string[]; filter?: string; order_by?: string[]; max_results?: number; page_token?: string },
): Promise<{ runs?: MlflowRun[]; next_page_token?: string }> {
  return request("POST", "/api/2.0/mlflow/runs/search", { headers: headers(project), body });
}

export function getRun(project: string, runId: string): Promise<{ run: MlflowRun }> {
  return request("GET", `/api/2.0/mlflow/runs/get?run_id=${encodeURIComponent(runId)}`, { headers: headers(project) });
}

export async function metricHistory(project: string, runId: string, key: string): Promise<MlflowMetric[]> {
  const points: MlflowMetric[] = [];
  let token: string | undefined;
  do {
    const page = await request<{ metrics?: MlflowMetric[]; next_page_token?: string }>(
      "GET",
      `/api/2.0/mlflow/metrics/get-history?run_id=${encodeURIComponent(runId)}&metric_key=${encodeURIComponent(key)}${token ? `&page_token=${encodeURIComponent(token)}` : ""}`,
      { headers: headers(project) },
    );
    points.push(...(page.metrics ?? []));
    token = page.next_page_token;
  } while (token);
  return points;
}

export function metricValue(m: MlflowMetric | undefined): number | null {
  if (!m) return null;
  return typeof m.value === "number"
    ? m.value
    : Number(m.value === "Infinity" ? Infinity : m.value === "-Infinity" ? -Infinity : NaN);
}

export const runName = (r: MlflowRun) => r.info.run_name || r.info.run_id.slice(0, 8);
