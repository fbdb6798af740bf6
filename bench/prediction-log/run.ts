/**
 * The prediction log writer's ceiling: rows per second its worker thread writes, and that thread's
 * CPU per row, on SQLite and on PostgreSQL. It is fed as the serving process feeds it when the
 * database falls behind: one batch in flight, the next waiting, each batch 64-row requests (20
 * numeric features in columns, a classifier's outputs as one JSON text), made as the JSON route
 * makes them. The rows are counted in the store after each round.
 *
 *   npm run bench -- prediction-log [--store sqlite|postgres|both] [--rows 64] [--batch 5000]
 *                                   [--total 200000] [--rounds 3] [--pg-url postgres://…]
 *
 * Rows per second moves with the machine's load; CPU µs per row of the writer's thread barely does,
 * and 1e6 / that is the rows a second the writer keeps up with on one whole core. The goal field is
 * the rows a second the 64-row serving load asks for (bench/serving at issue 18's goal, 0.7 × the
 * bare server's 4 198 requests/s × 64 rows, measured on a quiet machine): there is no baseline.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { buildCodec } from "../../src/core/serving/codec.js";
import { fastId } from "../../src/core/serving/fast-id.js";
import type { LoggedRequest } from "../../src/core/serving/model.js";
import { buildSignature } from "../../src/core/training/signature.js";
import { SqlPredictionLogStore } from "../../src/stores/metadata/prediction-log-store.js";
import { SqlMetadataStore } from "../../src/stores/metadata/sql-metadata-store.js";
import { seededRandom } from "../../test/helpers/onnx-models.js";
import { emitterFor, numberFlag } from "../kit.js";

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) =>
  args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1]! : fallback;
const STORE = flag("store", "both");
const ROWS = numberFlag("rows", 64);
const BATCH_ROWS = numberFlag("batch", 5_000);
const TOTAL = numberFlag("total", 200_000);
const ROUNDS = numberFlag("rounds", 3);
const PG_URL = flag("pg-url", "postgres://postgres@127.0.0.1:5432/postgres");
const FEATURES = 20;
/** Rows a second the 64-row serving load asks for at issue 18's goal: 0.7 × 4 198 requests/s × 64. */
const GOAL_ROWS_PER_S = Math.round(0.7 * 4198 * 64);

type Store = "sqlite" | "postgres";
const emit = emitterFor("prediction-log");

if (!["sqlite", "postgres", "both"].includes(STORE)) {
  process.stderr.write(`--store: expected sqlite, postgres or both, got ${JSON.stringify(STORE)}\n`);
  process.exit(2);
}

const codec = buildCodec(
  buildSignature({
    task: "regression",
    algorithm: "gbdt",
    features: Array.from({ length: FEATURES }, (_, i) => ({ name: `f${i}`, type: "numeric" as const })),
  }),
);
const random = seededRandom(64);

/** A request as the runtime hands it to the log: features in columns, outputs as one JSON text. */
function request(): LoggedRequest {
  const instances = Array.from({ length: ROWS }, () =>
    Object.fromEntries(
      Array.from({ length: FEATURES }, (_, i) => [`f${i}`, Math.round((random() * 2 - 1) * 1000) / 1000]),
    ),
  );
  const outputs = instances.map(() => {
    const p = random();
    return { label: p > 0.5 ? 1 : 0, probabilities: { "0": 1 - p, "1": p } };
  });
  return {
    project: "default",
    endpoint: "gbdt",
    model: "gbdt",
    version: 1,
    slot: "primary",
    requestId: fastId(),
    at: Date.now(),
    latencyMs: 1.25,
    ids: instances.map(() => fastId()),
    features: codec.encode(instances).logged,
    outputs: JSON.stringify(outputs),
    error: null,
  };
}

/** CPU seconds of each of this process's threads (Linux: /proc/self/task). */
function threadCpu(): Map<string, number> {
  const seconds = new Map<string, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ");
      seconds.set(tid, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return seconds;
}

interface Round {
  rowsPerS: number;
  writerUsPerRow: number;
  mainUsPerRow: number;
  logged: number;
  written: number;
}

async function openStore(store: Store, dir: string): Promise<{ sql: SqlMetadataStore; drop: () => Promise<void> }> {
  if (store === "sqlite") {
    const sql = await SqlMetadataStore.create({ database: { kind: "sqlite", file: join(dir, "tandem.db") } });
    return { sql, drop: () => Promise.resolve() };
  }
  const name = `tandem_bench_predlog_${randomBytes(5).toString("hex")}`;
  const admin = async (text: string) => {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };
  await admin(`create database "${name}"`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  const sql = await SqlMetadataStore.create({ database: { kind: "postgres", url: url.toString() } });
  return { sql, drop: () => admin(`drop database if exists "${name}" with (force)`) };
}

async function round(store: Store, pool: LoggedRequest[]): Promise<Round> {
  const dir = mkdtempSync(join(tmpdir(), "tandem-bench-predlog-"));
  const { sql, drop } = await openStore(store, dir);
  try {
    const log = new SqlPredictionLogStore(sql);
    await log.append([pool[0]!], []); // starts the worker and opens its connection
    const perBatch = Math.max(1, Math.round(BATCH_ROWS / ROWS));
    const fresh = (k: number): LoggedRequest => {
      const r = pool[k % pool.length]!;
      return { ...r, ids: r.ids.map(() => fastId()), requestId: fastId(), at: Date.now() };
    };
    const before = threadCpu();
    const start = performance.now();
    let written = 0;
    let k = 0;
    // One batch in flight and the next made meanwhile, as the logger does when the store is behind.
    let inFlight: Promise<void> = Promise.resolve();
    while (written < TOTAL) {
      const batch = Array.from({ length: perBatch }, () => fresh(k++));
      await inFlight;
      inFlight = log.append(batch, []);
      written += perBatch * ROWS;
    }
    await inFlight;
    const seconds = (performance.now() - start) / 1000;
    const after = threadCpu();
    const main = String(process.pid);
    let writer = 0;
    for (const [tid, cpu] of after) if (tid !== main) writer = Math.max(writer, cpu - (before.get(tid) ?? 0));
    const mainCpu = after.get(main)! - before.get(main)!;
    await log.close();
    // The log keeps a batch per request (migration 0503): its predictions are the batches' rows.
    const counted = await sql.db
      .selectFrom("prediction_batches")
      .select((eb) => eb.fn.sum<number | string | null>("rows").as("n"))
      .executeTakeFirstOrThrow();
    return {
      rowsPerS: written / seconds,
      writerUsPerRow: (writer / written) * 1e6,
      mainUsPerRow: (mainCpu / written) * 1e6,
      logged: Number(counted.n) - pool[0]!.ids.length,
      written,
    };
  } finally {
    await sql.close();
    await drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round3 = (n: number) => Math.round(n * 1000) / 1000;

async function main(): Promise<void> {
  const pool = Array.from({ length: 64 }, request);
  const stores: Store[] = STORE === "both" ? ["sqlite", "postgres"] : [STORE as Store];
  for (const store of stores) {
    const rounds: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const result = await round(store, pool);
      rounds.push(result);
      process.stderr.write(
        `${store}, round ${r + 1}/${ROUNDS}: ${Math.round(result.rowsPerS)} rows/s, writer ${result.writerUsPerRow.toFixed(2)} µs CPU per row, ${result.logged}/${result.written} rows logged, load ${loadavg()[0]!.toFixed(1)}\n`,
      );
    }
    const rowsPerS = Math.round(median(rounds.map((r) => r.rowsPerS)));
    const usPerRow = round3(median(rounds.map((r) => r.writerUsPerRow)));
    const common = {
      store,
      rows_per_request: ROWS,
      batch_rows: Math.round(BATCH_ROWS / ROWS) * ROWS,
      rounds: rounds.map((r) => Math.round(r.rowsPerS)),
      logged_rows: rounds.map((r) => r.logged),
      written_rows: rounds.map((r) => r.written),
      load_average: Number(loadavg()[0]!.toFixed(2)),
    };
    emit(`writer_rows_per_s_${store}`, rowsPerS, null, "rows/s", null, { goal: GOAL_ROWS_PER_S, ...common });
    emit(`writer_cpu_per_row_${store}`, usPerRow, null, "µs", null, {
      // On one whole core the writer keeps up with this many rows a second.
      ceiling_rows_per_s_one_core: Math.round(1e6 / usPerRow),
      main_thread_us_per_row: round3(median(rounds.map((r) => r.mainUsPerRow))),
      goal_rows_per_s: GOAL_ROWS_PER_S,
      ...common,
    });
  }
}

await main();
