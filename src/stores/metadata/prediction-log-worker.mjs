// The prediction log's SQLite writer, run in a worker thread (see prediction-log-thread.ts for why).
// Plain JavaScript so the same file runs from src/ (tests, tsx) and dist/ (copied as an asset) without
// a TypeScript loader inside the worker. It owns one connection to the database file; WAL mode lets it
// write beside the main thread's connection, and the busy timeout makes either wait for the other's
// lock instead of failing.
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

const { file, busyTimeoutMs } = workerData;
const db = new Database(file, { timeout: busyTimeoutMs });
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");

// A batch arrives as flat arrays of values in column order (see serving-store.ts): 12 per prediction,
// 8 per aggregate row; features, output and latency_hist are JSON text already.
const PREDICTION_COLUMNS = 12;
const STATS_COLUMNS = 8;
const PREDICTIONS_SQL = `insert into predictions
  (id, project, endpoint, model, version, slot, request_id, at, latency_ms, features, output, error)
  values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const STATS_SQL = `insert into prediction_stats
  (project, endpoint, slot, version, at, requests, errors, latency_hist)
  values (?, ?, ?, ?, ?, ?, ?, ?)`;

// Prepared on first use, inside a batch's try: a database without the tables fails that batch with
// SQLite's reason instead of killing the worker.
const statements = new Map();
function statement(sql) {
  let prepared = statements.get(sql);
  if (!prepared) statements.set(sql, (prepared = db.prepare(sql)));
  return prepared;
}

function insertRows(sql, values, width) {
  const insert = statement(sql);
  for (let i = 0; i < values.length; i += width) insert.run(values.slice(i, i + width));
}

// BEGIN IMMEDIATE, like the main connection: take the write lock up front (waiting on the busy
// timeout) rather than failing when a read transaction tries to upgrade.
const append = db.transaction((predictions, stats) => {
  if (predictions) insertRows(PREDICTIONS_SQL, predictions, PREDICTION_COLUMNS);
  if (stats) insertRows(STATS_SQL, stats, STATS_COLUMNS);
}).immediate;

parentPort.on("message", ({ id, predictions, stats }) => {
  try {
    append(predictions, stats);
    parentPort.postMessage({ id });
  } catch (error) {
    parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
