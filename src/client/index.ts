/**
 * A small typed client for Tandem's tracking API, for step scripts and tools written for Node:
 *
 *   import { TandemClient } from "tandem";
 *   const tandem = TandemClient.fromEnv();              // TANDEM_URL, TANDEM_TOKEN, TANDEM_PROJECT
 *   const run = await tandem.runs.get(process.env.TANDEM_RUN_ID!);
 *   await tandem.runs.log(run.run_id, { metrics: [{ key: "auc", value: 0.91 }], params: { lr: "0.1" } });
 *
 * It uses the global fetch (Node ≥ 18) and has no dependencies, so importing it costs nothing.
 */

export interface ExperimentWire {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: "active" | "deleted";
  creation_time: number;
  last_update_time: number;
  tags: Record<string, string>;
}

export type RunStatus = "RUNNING" | "SCHEDULED" | "FINISHED" | "FAILED" | "KILLED";

export interface RunWire {
  run_id: string;
  experiment_id: string;
  run_name: string;
  user_id: string;
  status: RunStatus;
  start_time: number;
  end_time: number | null;
  lifecycle_stage: "active" | "deleted";
  artifact_uri: string;
  parent_run_id: string | null;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** Latest value per metric ("NaN", "Infinity" and "-Infinity" come as strings). */
  metrics: Record<string, number | string>;
}

export interface MetricInput {
  key: string;
  value: number;
  /** ms since the epoch (default: now, set by the server). */
  timestamp?: number;
  /** (default 0) */
  step?: number;
}

export interface SearchRunsOptions {
  /** Experiments to search (default: all of the project's). */
  experimentIds?: string[];
  /** MLflow filter, e.g. `metrics.auc > 0.8 AND params.model = 'gbdt'`. */
  filter?: string;
  /** e.g. `["metrics.auc DESC"]`. */
  orderBy?: string[];
  /** (default 100) */
  maxResults?: number;
  pageToken?: string;
  viewType?: "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL";
}

export class TandemClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "TandemClientError";
  }
}

export interface TandemClientOptions {
  /** Server URL, e.g. http://127.0.0.1:7300. */
  url: string;
  token?: string;
  /** (default "default") */
  project?: string;
}

export class TandemClient {
  readonly url: string;
  readonly project: string;
  private readonly token: string | undefined;

  constructor(options: TandemClientOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.token = options.token;
    this.project = options.project ?? "default";
  }

  /** From TANDEM_URL, TANDEM_TOKEN and TANDEM_PROJECT (what every pipeline step receives). */
  static fromEnv(env: Record<string, string | undefined> = process.env): TandemClient {
    if (!env.TANDEM_URL) throw new Error("TANDEM_URL is not set");
    return new TandemClient({ url: env.TANDEM_URL, token: env.TANDEM_TOKEN, project: env.TANDEM_PROJECT });
  }

  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
    query?: Record<string, string | number | string[] | undefined>,
  ): Promise<T> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) qs.append(k, String(one));
    }
    const url = `${this.url}/api/v1/projects/${encodeURIComponent(this.project)}${path}${qs.size ? `?${qs}` : ""}`;
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const err = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new TandemClientError(res.status, err?.code ?? "HTTP_ERROR", err?.message ?? `HTTP ${res.status}`);
    }
    return parsed as T;
  }

  readonly experiments = {
    list: async (): Promise<ExperimentWire[]> =>
      (await this.call<{ experiments: ExperimentWire[] }>("GET", "/experiments")).experiments,
    create: (name: string, tags?: Record<string, string>): Promise<ExperimentWire> =>
      this.call("POST", "/experiments", { name, tags }),
    /** By id ("0", "3") or by name. */
    get: (idOrName: string): Promise<ExperimentWire> =>
      this.call("GET", `/experiments/${encodeURIComponent(idOrName)}`),
  };

  readonly runs = {
    create: (
      input: {
        experimentId?: string;
        experimentName?: string;
        runName?: string;
        parentRunId?: string;
        tags?: Record<string, string>;
      } = {},
    ): Promise<RunWire> =>
      this.call("POST", "/runs", {
        experiment_id: input.experimentId,
        experiment_name: input.experimentName,
        run_name: input.runName,
        parent_run_id: input.parentRunId,
        tags: input.tags,
      }),
    get: (runId: string): Promise<RunWire> => this.call("GET", `/runs/${encodeURIComponent(runId)}`),
    search: (o: SearchRunsOptions = {}): Promise<{ runs: RunWire[]; next_page_token: string | null }> =>
      this.call("GET", "/runs", undefined, {
        experiment_id: o.experimentIds,
        filter: o.filter,
        order_by: o.orderBy,
        max_results: o.maxResults,
        page_token: o.pageToken,
        view_type: o.viewType,
      }),
    /** Metrics, params and tags in one transaction: at most 1000 metrics, 100 params, 100 tags. */
    log: async (
      runId: string,
      batch: {
        metrics?: MetricInput[];
        params?: Record<string, string | number | boolean>;
        tags?: Record<string, string>;
      },
    ): Promise<void> => {
      const params = batch.params
        ? Object.fromEntries(Object.entries(batch.params).map(([k, v]) => [k, String(v)]))
        : undefined;
      // JSON has no NaN or Infinity; the server reads them as strings, as protobuf's JSON mapping writes them.
      const metrics = batch.metrics?.map((m) => ({
        ...m,
        value: Number.isFinite(m.value) ? m.value : String(m.value),
      }));
      await this.call("POST", `/runs/${encodeURIComponent(runId)}/log`, { metrics, params, tags: batch.tags });
    },
    logMetric: (runId: string, key: string, value: number, step = 0): Promise<void> =>
      this.runs.log(runId, { metrics: [{ key, value, step }] }),
    history: async (
      runId: string,
      key: string,
    ): Promise<Array<{ value: number | string; step: number; timestamp: number }>> =>
      (
        await this.call<{ points: Array<{ value: number | string; step: number; timestamp: number }> }>(
          "GET",
          `/runs/${encodeURIComponent(runId)}/metrics/${encodeURIComponent(key)}`,
        )
      ).points,
    finish: (runId: string, status: Exclude<RunStatus, "RUNNING" | "SCHEDULED"> = "FINISHED"): Promise<RunWire> =>
      this.call("PATCH", `/runs/${encodeURIComponent(runId)}`, { status }),
    delete: async (runId: string): Promise<void> => {
      await this.call("DELETE", `/runs/${encodeURIComponent(runId)}`);
    },
    restore: async (runId: string): Promise<void> => {
      await this.call("POST", `/runs/${encodeURIComponent(runId)}/restore`);
    },
  };
}
