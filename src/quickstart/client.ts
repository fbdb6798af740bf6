/**
 * The quickstart's HTTP side: a client per user (the admin who runs things, the approver who signs
 * off) over the same TandemApi the CLI uses, and the replay of flights through the serving routes.
 */
import { Agent, request } from "node:http";
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

/** Labels go back in requests of this many (the month replay's batch): 1 per prediction doubled the canary's requests. */
const FEEDBACK_BATCH = 20;

/**
 * POST of a JSON body over a kept-alive connection. Not fetch: the replay shares its event loop with
 * the server it calls, and fetch's per-request streams cost more CPU than the server's answer to a
 * one-flight prediction did (undici and web streams 3.4 s of the canary's 12 s at load 9).
 */
function postJson(
  agent: Agent,
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", agent, headers: { ...headers, "content-length": String(Buffer.byteLength(body)) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * Sends the flights to `/v1/endpoints/flights-delay/predict` in batches (a few requests in flight),
 * and their true labels to `/feedback` — as an application would once the planes have landed, 20
 * at a time.
 */
export async function replay(
  url: string,
  token: string,
  flights: Flight[],
  options: { batch?: number; parallel?: number; onProgress?: (done: number) => void } = {},
): Promise<ReplayStats> {
  const batch = options.batch ?? 20;
  const parallel = options.parallel ?? 4;
  const agent = new Agent({ keepAlive: true, maxSockets: parallel });
  const headers = { "content-type": "application/json", authorization: `Bearer ${token}`, "x-tandem-project": PROJECT };
  const stats: ReplayStats = {
    requests: 0,
    rows: 0,
    errors: 0,
    predictedDelayed: 0,
    byVersion: {},
    latencyByVersion: {},
  };
  const sendFeedback = async (items: Array<{ prediction_id: string; label: 0 | 1 }>): Promise<void> => {
    const fb = await postJson(agent, `${url}/v1/endpoints/${ENDPOINT}/feedback`, headers, JSON.stringify(items));
    if (fb.status !== 200) throw new Error(`feedback: HTTP ${fb.status} ${fb.text}`);
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    let labels: Array<{ prediction_id: string; label: 0 | 1 }> = [];
    for (;;) {
      const start = next;
      next += batch;
      if (start >= flights.length) break;
      const part = flights.slice(start, start + batch);
      const instances = part.map((f) => ({
        hour: f.hour,
        weekday: f.weekday,
        distance: f.distance,
        origin: f.origin,
        destination: f.destination,
      }));
      const t0 = performance.now();
      // A fresh routing key per request spreads requests over primary and canary by their split.
      const res = await postJson(
        agent,
        `${url}/v1/endpoints/${ENDPOINT}/predict`,
        { ...headers, "x-tandem-routing-key": `${start}` },
        JSON.stringify({ instances }),
      );
      stats.requests++;
      if (res.status !== 200) {
        stats.errors++;
        continue;
      }
      const body = JSON.parse(res.text) as {
        predictions: Array<{ label: unknown }>;
        prediction_ids: string[];
        model_version: number | string;
      };
      stats.rows += part.length;
      (stats.latencyByVersion[String(body.model_version)] ??= []).push(performance.now() - t0);
      stats.byVersion[String(body.model_version)] = (stats.byVersion[String(body.model_version)] ?? 0) + part.length;
      for (const pr of body.predictions) if (String(pr.label) === "1") stats.predictedDelayed++;
      body.prediction_ids.forEach((id, i) => labels.push({ prediction_id: id, label: part[i]!.delayed }));
      if (labels.length >= FEEDBACK_BATCH) {
        await sendFeedback(labels);
        labels = [];
      }
      options.onProgress?.(Math.min(flights.length, start + batch));
    }
    if (labels.length) await sendFeedback(labels);
  };
  try {
    await Promise.all(Array.from({ length: parallel }, worker));
  } finally {
    agent.destroy();
  }
  return stats;
}

/**
 * Waits until the endpoint's model (or one `version` it serves, e.g. a canary just deployed) is
 * loaded in the serving runtime (Open Inference `ready`), so replayed requests are neither refused
 * while the deployment settles nor all answered by the primary while the canary loads.
 */
export async function waitUntilReady(
  url: string,
  token: string,
  endpoint: string,
  options: { version?: number; timeoutMs?: number } = {},
): Promise<void> {
  const { version, timeoutMs = 30_000 } = options;
  const headers = { authorization: `Bearer ${token}`, "x-tandem-project": PROJECT };
  const path = `/v2/models/${encodeURIComponent(endpoint)}${version === undefined ? "" : `/versions/${version}`}/ready`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await fetch(`${url}${path}`, { headers });
    await res.arrayBuffer();
    if (res.ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `endpoint ${endpoint}${version === undefined ? "" : ` version ${version}`} did not become ready within ${timeoutMs / 1000} s`,
  );
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
 * The endpoint once the judge has counted the whole replay (`requests` answered, errors included):
 * the prediction log writes its per-slot stats within about a second. A breach is returned once the
 * serving controller, which ticks every second, has acted on it (blocked the canary). If the counts
 * never get there (a window shorter than the replay), the endpoint once they stop moving for 1.5 s;
 * at most 10 s either way.
 */
export async function settledJudgement(admin: TandemApi, requests: number): Promise<JudgedEndpoint> {
  const read = () => admin.get<JudgedEndpoint>(p(`/endpoints/${ENDPOINT}`));
  const counted = (e: JudgedEndpoint) =>
    (e.canary_judgement?.canary_requests ?? 0) + (e.canary_judgement?.primary_requests ?? 0);
  const deadline = Date.now() + 10_000;
  let last = await read();
  let stableSince = Date.now();
  while (Date.now() < deadline) {
    const breach = last.canary_judgement?.verdict === "breach" && last.blocked_canary_version === null;
    if (counted(last) >= requests && !breach) return last;
    if (!breach && Date.now() - stableSince >= 1500) return last;
    await new Promise((r) => setTimeout(r, 100));
    const now = await read();
    if (counted(now) !== counted(last) || now.blocked_canary_version !== last.blocked_canary_version)
      stableSince = Date.now();
    last = now;
  }
  return last;
}
