/**
 * The quickstart's HTTP side: a client per user (the admin who runs things, the approver who signs
 * off) over the same TandemApi the CLI uses, and the replay of flights through the serving routes.
 */
import { TandemApi } from "../cli/api.js";
import type { Config } from "../config.js";
import type { Flight } from "./months.js";

export const PROJECT = "flights";
export const ENDPOINT = "flights-delay";
export const MODEL = "flights-delay";
export const MONITOR = "flights-drift";

export const p = (rest: string): string => `/api/v1/projects/${PROJECT}${rest}`;

export function clientAs(config: Config, url: string, token?: string): Promise<TandemApi> {
  return TandemApi.connect({ ...config, serverUrl: url, ...(token ? { token } : {}) });
}

export interface ReplayStats {
  requests: number;
  rows: number;
  errors: number;
  predictedDelayed: number;
  byVersion: Record<string, number>;
  /** Client-side latency per request, by the version that answered (ms). */
  latencyByVersion: Record<string, number[]>;
}

/** The 95th percentile of some latencies (nearest rank), or null for none. */
export function p95(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]!;
}

/**
 * Sends the flights to `/v1/endpoints/flights-delay/predict` in batches (a few requests in flight),
 * then their true labels to `/feedback` — as an application would once the planes have landed.
 */
export async function replay(
  url: string,
  token: string,
  flights: Flight[],
  options: { batch?: number; parallel?: number; onProgress?: (done: number) => void } = {},
): Promise<ReplayStats> {
  const batch = options.batch ?? 20;
  const parallel = options.parallel ?? 4;
  const headers = { "content-type": "application/json", authorization: `Bearer ${token}`, "x-tandem-project": PROJECT };
  const stats: ReplayStats = {
    requests: 0,
    rows: 0,
    errors: 0,
    predictedDelayed: 0,
    byVersion: {},
    latencyByVersion: {},
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const start = next;
      next += batch;
      if (start >= flights.length) return;
      const part = flights.slice(start, start + batch);
      const instances = part.map((f) => ({
        hour: f.hour,
        weekday: f.weekday,
        distance: f.distance,
        origin: f.origin,
        destination: f.destination,
      }));
      const t0 = performance.now();
      const res = await fetch(`${url}/v1/endpoints/${ENDPOINT}/predict`, {
        method: "POST",
        // A fresh routing key per request spreads requests over primary and canary by their split.
        headers: { ...headers, "x-tandem-routing-key": `${start}` },
        body: JSON.stringify({ instances }),
      });
      stats.requests++;
      if (!res.ok) {
        stats.errors++;
        continue;
      }
      const body = (await res.json()) as {
        predictions: Array<{ label: unknown }>;
        prediction_ids: string[];
        model_version: number | string;
      };
      stats.rows += part.length;
      (stats.latencyByVersion[String(body.model_version)] ??= []).push(performance.now() - t0);
      stats.byVersion[String(body.model_version)] = (stats.byVersion[String(body.model_version)] ?? 0) + part.length;
      for (const pr of body.predictions) if (String(pr.label) === "1") stats.predictedDelayed++;
      const feedback = body.prediction_ids.map((id, i) => ({ prediction_id: id, label: part[i]!.delayed }));
      const fb = await fetch(`${url}/v1/endpoints/${ENDPOINT}/feedback`, {
        method: "POST",
        headers,
        body: JSON.stringify(feedback),
      });
      if (!fb.ok) throw new Error(`feedback: HTTP ${fb.status} ${await fb.text()}`);
      options.onProgress?.(Math.min(flights.length, start + batch));
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return stats;
}

/**
 * Waits until the endpoint's model is loaded in the serving runtime (Open Inference `ready`), so the
 * first replayed requests are not refused while the deployment settles.
 */
export async function waitUntilReady(url: string, token: string, endpoint: string, timeoutMs = 30_000): Promise<void> {
  const headers = { authorization: `Bearer ${token}`, "x-tandem-project": PROJECT };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await fetch(`${url}/v2/models/${encodeURIComponent(endpoint)}/ready`, { headers });
    await res.arrayBuffer();
    if (res.ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`endpoint ${endpoint} did not become ready within ${timeoutMs / 1000} s`);
}

/** Flights replayed one per request in the canary phase, at least (10% of them reach the canary). */
export const CANARY_REQUESTS = 1500;

export interface JudgedEndpoint {
  canary_version: number | null;
  blocked_canary_version: number | null;
  events: Array<{ kind: string; message: string }>;
  canary_judgement: {
    verdict: string;
    reason: string;
    canary_requests: number;
    primary_requests: number;
    slos: Array<{ passed: boolean; summary: string }>;
  } | null;
}

/**
 * The endpoint once the judge has seen the whole replay: the prediction log writes its stats about
 * once a second and the controller ticks every second, so read until the counted requests stop
 * moving across 1.5 s (at most 10 s).
 */
export async function settledJudgement(admin: TandemApi): Promise<JudgedEndpoint> {
  const read = () => admin.get<JudgedEndpoint>(p(`/endpoints/${ENDPOINT}`));
  const counted = (e: JudgedEndpoint) =>
    `${e.canary_judgement?.canary_requests ?? "-"}/${e.canary_judgement?.primary_requests ?? "-"}/${e.blocked_canary_version}`;
  let last = await read();
  for (let waited = 0; waited < 10_000; waited += 1500) {
    await new Promise((r) => setTimeout(r, 1500));
    const now = await read();
    if (counted(now) === counted(last)) return now;
    last = now;
  }
  return last;
}
