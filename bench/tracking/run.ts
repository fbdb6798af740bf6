/**
 * Tracking benchmarks, on SQLite (the embedded default) and on PostgreSQL (a fresh database on
 * `--pg-url`'s server, default postgres://postgres@127.0.0.1:5432/postgres), one line per store:
 *
 * 1. log-batch throughput: 1 000 000 metric points sent as 1000 MLflow `runs/log-batch` requests of
 *    1000 points over HTTP to a `tandem server` in its own process (auth, validation, audit event per
 *    batch, latest-metric upsert all on), beside the ceiling: the same rows inserted by better-sqlite3
 *    with one prepared statement in one transaction into a table with the same index.
 * 2. runs/search latency: 100 000 runs with metrics, params and tags; `metrics.auc > 0.5` with
 *    `order_by metrics.auc DESC`, 100 results, median of 30 requests over HTTP. The baseline column is
 *    the 100 ms target (MLflow's own server averages about 1 s per SearchRuns in its k6 benchmark).
 * 3. run create + log: the real MLflow Python client creates a run and logs one batch to it, 300
 *    times (create-log.ts); on PostgreSQL the baseline is MLflow 2.12's own server on the same
 *    PostgreSQL server, measured in the same run.
 *
 * 4. statements and round trips to PostgreSQL per request (statements.ts, PostgreSQL only: they are
 *    counted on the wire), for run create, log-batch and runs/search; the baseline is MLflow 2.12's
 *    server answering the same requests on the same PostgreSQL server.
 *
 *   npm run bench -- tracking [--points 1000000] [--runs 100000] [--concurrency 4] [--create-runs 300]
 *     [--store sqlite|postgres|both] [--only log-batch|search|create-log|statements]
 *
 * On PostgreSQL there is no raw-insert ceiling: the baseline is null and the issue's goal
 * (≥ 100 000 points/s; < 50 ms search at 100 000 runs) is printed in its own field.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import type { DatabaseConfig } from "../../src/config.js";
import { SqlMetadataStore, dbOf } from "../../src/stores/metadata/sql-metadata-store.js";
import "../../src/stores/metadata/tracking-rows.js";
import { emitterFor, numberFlag } from "../kit.js";
import { cpuSeconds, loadNow, measureCreateLog, startMlflowServer, type CreateLogResult } from "./create-log.js";
import { countTrackingPaths, poster, startWireCounter, type PathCounts } from "./statements.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const POINTS = numberFlag("points", 1_000_000);
const RUNS = numberFlag("runs", 100_000);
const CONCURRENCY = numberFlag("concurrency", 4);
const CREATE_RUNS = numberFlag("create-runs", 300);
const BATCH = 1000;
const args0 = process.argv.slice(2);
const STORE = args0.includes("--store") ? args0[args0.indexOf("--store") + 1]! : "both";
const PG_URL = args0.includes("--pg-url")
  ? args0[args0.indexOf("--pg-url") + 1]!
  : "postgres://postgres@127.0.0.1:5432/postgres";

type Store = "sqlite" | "postgres";

/** A database for one measurement: a file in the home (SQLite) or a new database on the server, dropped after. */
async function databaseFor(store: Store, home: string): Promise<{ config: DatabaseConfig; drop: () => Promise<void> }> {
  if (store === "sqlite")
    return { config: { kind: "sqlite", file: join(home, "tandem.db") }, drop: async () => undefined };
  const name = `tandem_bench_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    config: { kind: "postgres", url: url.toString() },
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    },
  };
}

function databaseEnv(config: DatabaseConfig): Record<string, string> {
  return { TANDEM_DATABASE_URL: config.kind === "postgres" ? config.url : `sqlite:${config.file}` };
}

const emit = emitterFor("tracking");

function startServer(home: string, database: DatabaseConfig): Promise<{ child: ChildProcess; url: string }> {
  const nodeArgs = process.env.TRACKING_BENCH_PROFILE
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.TRACKING_BENCH_PROFILE}`]
    : [];
  const child = spawn(process.execPath, [...nodeArgs, join(root, "bin", "tandem.js"), "server", "--port", "0"], {
    cwd: root,
    env: { ...process.env, TANDEM_HOME: home, TANDEM_URL: "", ...databaseEnv(database) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err.slice(-500)}`)), 120_000);
    child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    });
    child.on("exit", (code) => reject(new Error(`server exited with ${code}: ${err.slice(-500)}`)));
  });
}

async function post(url: string, token: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/api/2.0/mlflow${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

function batchBody(runId: string, b: number): string {
  const t0 = 1_700_000_000_000;
  const metrics = Array.from({ length: BATCH }, (_, i) => {
    const n = b * BATCH + i;
    return { key: `m${n % 20}`, value: Math.sin(n), timestamp: t0 + n, step: Math.floor(n / 20) };
  });
  return JSON.stringify({ run_id: runId, metrics });
}

async function benchLogBatch(store: Store): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), "tandem-bench-tracking-"));
  const database = await databaseFor(store, home);
  const { child, url } = await startServer(home, database.config);
  try {
    const token = readFileSync(join(home, "admin.token"), "utf8").trim();
    const created = (await post(url, token, "/runs/create", { experiment_id: "0" })) as {
      run: { info: { run_id: string } };
    };
    const runId = created.run.info.run_id;
    const batches = Math.ceil(POINTS / BATCH);
    // Bodies are built before the clock starts: the client's JSON work is not the server's.
    const bodies = Array.from({ length: batches }, (_, b) => batchBody(runId, b));
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < batches) await post(url, token, "/runs/log-batch", bodies[next++]!);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const tandemRate = (batches * BATCH) / seconds;
    if (store === "postgres") {
      emit("log-batch points/s over HTTP (PostgreSQL)", Math.round(tandemRate), null, "points/s", null, {
        goal: 100_000,
        points: batches * BATCH,
        seconds: Number(seconds.toFixed(2)),
        concurrency: CONCURRENCY,
      });
      return;
    }
    const ceiling = rawSqliteRate(batches * BATCH);
    const perBatchTx = rawSqliteRate(batches * BATCH, true);
    emit(
      "log-batch points/s over HTTP (SQLite)",
      Math.round(tandemRate),
      Math.round(ceiling),
      "points/s",
      tandemRate / ceiling,
      {
        baseline_is: "better-sqlite3, one prepared INSERT in one transaction (ceiling)",
        raw_one_tx_per_batch: Math.round(perBatchTx),
        ratio_to_one_tx_per_batch: Number((tandemRate / perBatchTx).toFixed(3)),
        points: batches * BATCH,
        seconds: Number(seconds.toFixed(2)),
        concurrency: CONCURRENCY,
      },
    );
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    rmSync(home, { recursive: true, force: true });
    await database.drop();
  }
}

/**
 * The raw insert rate into the same table and index: all rows in one transaction (the ceiling the
 * issue names) or one transaction per 1000-row batch (what any server that commits each request pays:
 * WAL commits and checkpoints).
 */
function rawSqliteRate(points: number, perBatch = false): number {
  const dir = mkdtempSync(join(tmpdir(), "tandem-bench-raw-"));
  try {
    const db = new BetterSqlite3(join(dir, "raw.db"));
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.exec(
      "create table tracking_metrics (run_id text not null, key text not null, value double precision, is_nan integer not null, step bigint not null, timestamp bigint not null)",
    );
    db.exec("create index tracking_metrics_history on tracking_metrics (run_id, key, step)");
    const insert = db.prepare("insert into tracking_metrics values (?, ?, ?, ?, ?, ?)");
    const runId = "0".repeat(32);
    const t0 = 1_700_000_000_000;
    const started = performance.now();
    const rows = (from: number, to: number) => {
      for (let n = from; n < to; n++) insert.run(runId, `m${n % 20}`, Math.sin(n), 0, Math.floor(n / 20), t0 + n);
    };
    if (perBatch) for (let b = 0; b < points; b += BATCH) db.transaction(rows)(b, Math.min(points, b + BATCH));
    else db.transaction(rows)(0, points);
    const rate = points / ((performance.now() - started) / 1000);
    db.close();
    return rate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 100 000 runs written straight into the store's tables (setup only; not what is measured). */
async function seedRuns(database: DatabaseConfig): Promise<void> {
  const store = await SqlMetadataStore.create({ database });
  const db = dbOf(store);
  const t0 = 1_700_000_000_000;
  let seed = 7;
  const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
  for (let start = 0; start < RUNS; start += 1000) {
    await store.transaction(async (tx) => {
      const d = dbOf(store, tx);
      const ids = Array.from({ length: Math.min(1000, RUNS - start) }, (_, i) =>
        (start + i).toString(16).padStart(32, "0"),
      );
      await d
        .insertInto("tracking_runs")
        .values(
          ids.map((runId, i) => ({
            run_id: runId,
            project: "default",
            experiment_id: "0",
            run_name: `run-${start + i}`,
            user_id: "bench",
            status: "FINISHED",
            start_time: t0 + start + i,
            end_time: t0 + start + i + 1000,
            lifecycle_stage: "active",
            artifact_uri: `mlflow-artifacts:/0/${runId}/artifacts`,
            parent_run_id: null,
            deleted_time: null,
          })),
        )
        .execute();
      for (const key of ["auc", "loss"]) {
        const rows = ids.map((runId) => ({ run_id: runId, key, value: rand(), is_nan: 0, step: 0, timestamp: t0 }));
        await d.insertInto("tracking_latest_metrics").values(rows).execute();
        await d.insertInto("tracking_metrics").values(rows).execute();
      }
      await d
        .insertInto("tracking_params")
        .values(ids.map((runId, i) => ({ run_id: runId, key: "lr", value: String((i % 10) / 100) })))
        .execute();
      await d
        .insertInto("tracking_tags")
        .values(ids.map((runId, i) => ({ run_id: runId, key: "mlflow.runName", value: `run-${start + i}` })))
        .execute();
    });
  }
  void db;
  await store.close();
}

async function benchSearch(store: Store): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), "tandem-bench-search-"));
  const database = await databaseFor(store, home);
  // Migrate and bootstrap through the server once, then seed while it is down.
  let server = await startServer(home, database.config);
  server.child.kill("SIGTERM");
  await new Promise((r) => server.child.once("exit", r));
  await seedRuns(database.config);
  server = await startServer(home, database.config);
  try {
    const token = readFileSync(join(home, "admin.token"), "utf8").trim();
    const body = {
      experiment_ids: ["0"],
      filter: "metrics.auc > 0.5",
      order_by: ["metrics.auc DESC"],
      max_results: 100,
    };
    const times: number[] = [];
    let returned = 0;
    for (let i = 0; i < 33; i++) {
      const started = performance.now();
      const res = (await post(server.url, token, "/runs/search", body)) as { runs: unknown[] };
      const ms = performance.now() - started;
      if (i >= 3) times.push(ms); // the first requests warm caches and the statement cache
      returned = res.runs.length;
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    emit(
      `runs/search median latency, metric filter + order_by, ${RUNS} runs (${store === "sqlite" ? "SQLite" : "PostgreSQL"})`,
      Number(median.toFixed(1)),
      100,
      "ms",
      median / 100,
      {
        baseline_is: "the 100 ms target",
        ...(store === "postgres" ? { goal: RUNS >= 100_000 ? 50 : 10 } : {}),
        runs: RUNS,
        returned,
        p90_ms: Number(times[Math.floor(times.length * 0.9)]!.toFixed(1)),
      },
    );
  } finally {
    server.child.kill("SIGTERM");
    await new Promise((r) => server.child.once("exit", r));
    rmSync(home, { recursive: true, force: true });
    await database.drop();
  }
}

/**
 * Run create + log with the real MLflow client (create-log.ts). On PostgreSQL, MLflow 2.12's server
 * on a fresh database of the same PostgreSQL server is measured in the same run, right after.
 */
async function benchCreateLog(store: Store): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), "tandem-bench-create-"));
  const database = await databaseFor(store, home);
  const server = await startServer(home, database.config);
  let tandem: CreateLogResult;
  let tandemServerCpu: number | null;
  let baselineServerCpu: number | null = null;
  const load = loadNow();
  try {
    const token = readFileSync(join(home, "admin.token"), "utf8").trim();
    const cpu0 = cpuSeconds(server.child.pid!);
    tandem = await measureCreateLog(server.url, token, CREATE_RUNS);
    const cpu1 = cpuSeconds(server.child.pid!);
    tandemServerCpu = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
  } finally {
    server.child.kill("SIGTERM");
    await new Promise((r) => server.child.once("exit", r));
    rmSync(home, { recursive: true, force: true });
    await database.drop();
  }
  let baseline: CreateLogResult | null = null;
  if (store === "postgres") {
    const mlflowDb = await databaseFor("postgres", tmpdir());
    const mlflow = await startMlflowServer((mlflowDb.config as { url: string }).url);
    try {
      const cpu0 = cpuSeconds(mlflow.pid, true);
      baseline = await measureCreateLog(mlflow.url, null, CREATE_RUNS);
      const cpu1 = cpuSeconds(mlflow.pid, true);
      baselineServerCpu = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
    } finally {
      await mlflow.stop();
      await mlflowDb.drop();
    }
  }
  emit(
    `run create + log, MLflow Python client, 2 requests per run (${store === "sqlite" ? "SQLite" : "PostgreSQL"})`,
    Number(tandem.runsPerSecond.toFixed(1)),
    baseline ? Number(baseline.runsPerSecond.toFixed(1)) : null,
    "runs/s",
    baseline ? Number((tandem.runsPerSecond / baseline.runsPerSecond).toFixed(3)) : null,
    {
      ...(baseline
        ? { baseline_is: "MLflow 2.12 server (gunicorn, 2 workers) on the same PostgreSQL server, same client" }
        : {}),
      ...(store === "postgres" ? { goal: 120 } : {}),
      runs: CREATE_RUNS,
      client_cpu_s: Number(tandem.clientCpuSeconds.toFixed(2)),
      // The server process's own CPU per run (Postgres's backends not included), less load-bound than runs/s.
      ...(tandemServerCpu !== null
        ? { server_cpu_ms_per_run: Number(((tandemServerCpu * 1000) / CREATE_RUNS).toFixed(2)) }
        : {}),
      ...(baselineServerCpu !== null
        ? { baseline_server_cpu_ms_per_run: Number(((baselineServerCpu * 1000) / CREATE_RUNS).toFixed(2)) }
        : {}),
      ...(baseline ? { baseline_client_cpu_s: Number(baseline.clientCpuSeconds.toFixed(2)) } : {}),
      load1: load,
    },
  );
}

/** Statements per request on the wire (statements.ts): Tandem, then MLflow 2.12 on the same server. */
async function benchStatements(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), "tandem-bench-statements-"));
  const database = await databaseFor("postgres", home);
  const counter = await startWireCounter((database.config as { url: string }).url);
  const server = await startServer(home, { kind: "postgres", url: counter.url });
  let tandem: PathCounts[];
  try {
    const token = readFileSync(join(home, "admin.token"), "utf8").trim();
    tandem = await countTrackingPaths(counter, poster(server.url, token));
  } finally {
    server.child.kill("SIGTERM");
    await new Promise((r) => server.child.once("exit", r));
    await counter.stop();
    rmSync(home, { recursive: true, force: true });
    await database.drop();
  }
  let baseline: PathCounts[] | null = null;
  if (!args0.includes("--no-mlflow")) {
    const mlflowDb = await databaseFor("postgres", tmpdir());
    const mlflowCounter = await startWireCounter((mlflowDb.config as { url: string }).url);
    const mlflow = await startMlflowServer(mlflowCounter.url);
    try {
      baseline = await countTrackingPaths(mlflowCounter, poster(mlflow.url, null));
    } finally {
      await mlflow.stop();
      await mlflowCounter.stop();
      await mlflowDb.drop();
    }
  }
  for (const [i, t] of tandem.entries()) {
    const b = baseline?.[i];
    emit(
      `statements per request, ${t.path} (PostgreSQL)`,
      t.statements,
      b?.statements ?? null,
      "statements",
      b ? Number((t.statements / b.statements).toFixed(3)) : null,
      {
        ...(b ? { baseline_is: "MLflow 2.12 server on the same PostgreSQL server, same requests" } : {}),
        round_trips: t.roundTrips,
        transactions: t.transactions,
        ...(b ? { baseline_round_trips: b.roundTrips, baseline_transactions: b.transactions } : {}),
        requests: t.requests,
        by_text: t.byText,
      },
    );
  }
}

const args = process.argv.slice(2);
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
const stores: Store[] = STORE === "both" ? ["sqlite", "postgres"] : [STORE as Store];
if (only === "statements") await benchStatements();
for (const store of only === "statements" ? [] : stores) {
  if (!only || only === "log-batch") await benchLogBatch(store);
  if (!only || only === "search") await benchSearch(store);
  if (!only || only === "create-log") await benchCreateLog(store);
}
