// The prediction log's writer, run in a worker thread (see prediction-log-thread.ts for why). Plain
// JavaScript so the same file runs from src/ (tests, tsx) and dist/ (copied as an asset) without a
// TypeScript loader inside the worker. It owns one connection to the database:
// - SQLite: its own connection to the file; WAL mode lets it write beside the main thread's
//   connection, and the busy timeout makes either wait for the other's lock instead of failing.
// - PostgreSQL: its own client; a batch's rows go in with one COPY FROM STDIN (pg-copy-streams),
//   its aggregates with one insert, in one transaction (a batch without aggregates is its COPY alone).
// Batches are written one after the other, in the order they came.
import { parentPort, workerData } from "node:worker_threads";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { BATCH_COLUMNS, batchesOf, copyChunks, rowCount, valuesBlob } from "./prediction-log-rows.mjs";
import { unpackRequests } from "./prediction-log-wire.mjs";

const FEATURE_VALUES = BATCH_COLUMNS.indexOf("feature_values");

// Aggregates arrive as flat arrays, 8 values per row (latency_hist is JSON text already).
const STATS_COLUMNS = 8;
const STATS_INSERT = `insert into prediction_stats
  (project, endpoint, slot, version, at, requests, errors, latency_hist)`;

// The in-process write lock shared with the main thread's connection (sqlite-write-lock.ts):
// 0 free, 1 held here, 2 held by the main thread. This thread may block on it; the main thread never does.
const writeLock = workerData.writeLock ? new Int32Array(workerData.writeLock) : null;

function withWriteLock(write) {
  if (!writeLock) return write();
  for (;;) {
    const seen = Atomics.compareExchange(writeLock, 0, 0, 1);
    if (seen === 0) break;
    Atomics.wait(writeLock, 0, seen, 50);
  }
  try {
    return write();
  } finally {
    Atomics.store(writeLock, 0, 0);
    Atomics.notify(writeLock, 0);
  }
}

/** Batches per insert statement (17 columns each: 544 parameters at most). */
const BATCHES_PER_INSERT = 32;

function sqliteWriter({ file, busyTimeoutMs }) {
  return import("better-sqlite3").then(({ default: Database }) => {
    const db = new Database(file, { timeout: busyTimeoutMs });
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    // Prepared on first use, inside a batch's try: a database without the tables fails that batch
    // with SQLite's reason instead of killing the worker. One statement per batch count, cached.
    const statements = new Map();
    const statement = (sql) => {
      let prepared = statements.get(sql);
      if (!prepared) statements.set(sql, (prepared = db.prepare(sql)));
      return prepared;
    };
    const placeholders = (n) => `(${new Array(n).fill("?").join(", ")})`;
    const columns = BATCH_COLUMNS.length;
    const batchesInsert = (count) =>
      statement(
        `insert into prediction_batches (${BATCH_COLUMNS.join(", ")}) values ${new Array(count).fill(placeholders(columns)).join(", ")}`,
      );
    const statsSql = `${STATS_INSERT} values ${placeholders(STATS_COLUMNS)}`;
    // BEGIN IMMEDIATE, like the main connection: take the write lock up front (waiting on the busy
    // timeout) rather than failing when a read transaction tries to upgrade.
    const append = db.transaction((params, count, stats) => {
      for (let first = 0; first < count; first += BATCHES_PER_INSERT) {
        const n = Math.min(BATCHES_PER_INSERT, count - first);
        batchesInsert(n).run(n === count ? params : params.slice(first * columns, (first + n) * columns));
      }
      if (stats) {
        const insert = statement(statsSql);
        for (let i = 0; i < stats.length; i += STATS_COLUMNS) insert.run(stats.slice(i, i + STATS_COLUMNS));
      }
    }).immediate;
    const write = async (requests, stats) => {
      // Parameters are made before the lock is taken: the main thread's writes wait only for the inserts.
      const params = [];
      let count = 0;
      for (const request of requests ?? []) {
        if (rowCount(request) === 0) continue;
        for (const batch of batchesOf(request)) {
          const values = batch[FEATURE_VALUES];
          if (values) batch[FEATURE_VALUES] = valuesBlob(values);
          for (let c = 0; c < columns; c++) params.push(batch[c]);
          count++;
        }
      }
      withWriteLock(() => append(params, count, stats));
    };
    return { write, close: async () => db.close() };
  });
}

async function postgresWriter({ url }) {
  const [{ default: pg }, { from: copyFrom }] = await Promise.all([import("pg"), import("pg-copy-streams")]);
  let client = null;
  const connect = async () => {
    const c = new pg.Client({ connectionString: url });
    // A broken connection fails the batch in flight (the logger keeps it); the next batch reconnects.
    c.on("error", () => {
      if (client === c) client = null;
    });
    await c.connect();
    return c;
  };
  const copy = (c, requests) =>
    pipeline(
      // Made chunk by chunk as the stream drains: PostgreSQL parses one while this thread makes the next.
      Readable.from(copyChunks(requests)),
      c.query(copyFrom(`copy prediction_batches (${BATCH_COLUMNS.join(", ")}) from stdin`)),
    );
  const write = async (requests, stats) => {
    client ??= await connect();
    const c = client;
    const rows = requests?.some((r) => rowCount(r) > 0) ? requests : null;
    // A COPY alone is one statement, atomic by itself: no begin and commit round trips around it.
    const alone = rows && !stats;
    try {
      if (alone) {
        await copy(c, rows);
        return;
      }
      await c.query("begin");
      if (rows) await copy(c, rows);
      if (stats) {
        const values = [];
        const params = [];
        for (let i = 0; i < stats.length; i += STATS_COLUMNS) {
          const n = params.length;
          values.push(`($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5}, $${n + 6}, $${n + 7}, $${n + 8})`);
          params.push(...stats.slice(i, i + STATS_COLUMNS));
        }
        await c.query(`${STATS_INSERT} values ${values.join(", ")}`, params);
      }
      await c.query("commit");
    } catch (error) {
      if (!alone)
        await c.query("rollback").catch(() => {
          if (client === c) client = null;
        });
      throw error;
    }
  };
  return { write, close: async () => client?.end() };
}

// Opened on the first batch; a failure to open fails that batch and is tried again with the next.
let writer = null;
const open = () =>
  (writer ??= (workerData.kind === "postgres" ? postgresWriter(workerData) : sqliteWriter(workerData)).catch(
    (error) => {
      writer = null;
      throw error;
    },
  ));
let queue = Promise.resolve();

parentPort.on("message", ({ id, packet, stats }) => {
  queue = queue.then(async () => {
    try {
      await (await open()).write(packet ? unpackRequests(packet) : null, stats);
      parentPort.postMessage({ id });
    } catch (error) {
      parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
    }
  });
});
