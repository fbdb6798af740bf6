/**
 * Statements and round trips to PostgreSQL per request, counted on the wire (pg-wire-count.ts) while a
 * `tandem server` answers MLflow REST requests shaped as the MLflow Python client sends them; the same
 * requests to MLflow 2.12's own server on the same PostgreSQL server are the baseline. Counts do not
 * depend on the machine's load, which makes them the measure to compare across runs on a shared box.
 *
 * The server's background loops (schedules, leases) also talk to the database: an idle window of the
 * same length is counted first and its rate subtracted.
 */
import { perRequest, startWireCounter, type WireCounter, type WireCounts } from "../pg-wire-count.js";

export interface PathCounts {
  path: string;
  requests: number;
  statements: number;
  roundTrips: number;
  transactions: number;
  byText: Record<string, number>;
}

type Post = (path: string, body: unknown) => Promise<Record<string, unknown>>;

/** An MLflow-REST poster for `url` (a bearer token for Tandem, none for MLflow's open server). */
export function poster(url: string, token: string | null): Post {
  return async (path, body) => {
    const res = await fetch(`${url}/api/2.0/mlflow${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
}

const createBody = () => ({ experiment_id: "0", user_id: "bench", start_time: Date.now(), tags: [] });

/** The create-log bench's second request: 10 metrics and 5 params. */
const smallBatch = (runId: string, i: number) => ({
  run_id: runId,
  metrics: Array.from({ length: 10 }, (_, k) => ({ key: `m${k}`, value: i + k, timestamp: Date.now(), step: 0 })),
  params: Array.from({ length: 5 }, (_, k) => ({ key: `p${k}`, value: String(i + k) })),
  tags: [],
});

const bigBatch = (runId: string, b: number) => ({
  run_id: runId,
  metrics: Array.from({ length: 1000 }, (_, i) => ({
    key: `m${i % 20}`,
    value: Math.sin(b * 1000 + i),
    timestamp: 1_700_000_000_000 + b * 1000 + i,
    step: b * 50 + Math.floor(i / 20),
  })),
});

async function measured(
  counter: WireCounter,
  idlePerMs: (ms: number) => WireCounts,
  path: string,
  requests: number,
  send: (i: number) => Promise<void>,
): Promise<PathCounts> {
  const before = counter.snapshot();
  const t0 = performance.now();
  for (let i = 0; i < requests; i++) await send(i);
  const after = counter.snapshot();
  const idle = idlePerMs(performance.now() - t0);
  const net: WireCounts = {
    statements: after.statements - idle.statements,
    roundTrips: after.roundTrips - idle.roundTrips,
    transactions: after.transactions - idle.transactions,
    byText: after.byText,
  };
  return { path, requests, ...perRequest(before, net, requests) };
}

/**
 * Counts per request for run create, log-batch (small and 1000 points) and runs/search against a
 * server whose database URL goes through `counter`. `settle` waits out start-up work first.
 */
export async function countTrackingPaths(counter: WireCounter, post: Post, requests = 50): Promise<PathCounts[]> {
  // Warm: connections opened, statements prepared, Default experiment made.
  const warm = (await post("/runs/create", createBody())) as { run: { info: { run_id: string } } };
  await post("/runs/log-batch", smallBatch(warm.run.info.run_id, 0));
  await post("/runs/search", { experiment_ids: ["0"], max_results: 10 });
  await new Promise((r) => setTimeout(r, 1000));
  const i0 = counter.snapshot();
  const idleMs = 2000;
  await new Promise((r) => setTimeout(r, idleMs));
  const i1 = counter.snapshot();
  const idlePerMs = (ms: number): WireCounts => {
    const f = ms / idleMs;
    return {
      statements: Math.round((i1.statements - i0.statements) * f),
      roundTrips: Math.round((i1.roundTrips - i0.roundTrips) * f),
      transactions: Math.round((i1.transactions - i0.transactions) * f),
      byText: {},
    };
  };
  const runIds: string[] = [];
  const out: PathCounts[] = [];
  out.push(
    await measured(counter, idlePerMs, "runs/create", requests, async () => {
      const r = (await post("/runs/create", createBody())) as { run: { info: { run_id: string } } };
      runIds.push(r.run.info.run_id);
    }),
  );
  out.push(
    await measured(counter, idlePerMs, "runs/log-batch, 10 metrics + 5 params", requests, async (i) => {
      await post("/runs/log-batch", smallBatch(runIds[i]!, i));
    }),
  );
  out.push(
    await measured(counter, idlePerMs, "runs/log-batch, 1000 metrics", requests, async (i) => {
      await post("/runs/log-batch", bigBatch(runIds[0]!, i));
    }),
  );
  out.push(
    await measured(counter, idlePerMs, "runs/search, metric filter + order_by", requests, async () => {
      await post("/runs/search", {
        experiment_ids: ["0"],
        filter: "metrics.m1 > 0.5",
        order_by: ["metrics.m1 DESC"],
        max_results: 100,
      });
    }),
  );
  return out;
}

export { startWireCounter };
