/**
 * bench/profile — dataset profiles as a user gets them: `tandem data add FILE --json` (embedded, its
 * own process, start-up, hashing and the durable copy included) on flights-3m.parquet and on
 * bench/drift's 1 M × 25 CSV, against pandas `read_csv` + `describe(include="all")` on Debian's
 * /usr/bin/python3 reading the same rows, in the same run (flights-3m as a CSV this bench writes with
 * DuckDB: that python3 has no pyarrow, so pandas reads no Parquet). Each add line also carries the
 * same add with `--no-profile`, so the profile's own share shows. Then the profile alone, in process,
 * through DuckDB (profileTabularFile, what `data add` runs) against the row-wise reader (the oracle,
 * `--row-wise`: minutes on the CSV under load), whose profiles must be identical.
 * Last, traffic export: `tandem endpoints export E --all --json` of a prediction log of N rows (20
 * features each, seeded into the embedded SQLite store with sqlite3), against sqlite3 writing the same
 * rows as the same JSON Lines (features, prediction, target, at) itself.
 *
 *   npm run build:dist && npm run bench -- profile [--rows 1000000] [--row-wise] [--export-rows 1000000]
 *     [--only add|in-process|export]
 *
 * Every line carries CPU seconds (user + system) and the load average beside wall time: the build
 * machines are shared, and CPU time moves far less with the load.
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { openColumnarEngine, sqlString } from "../../src/core/data/columnar/engine.js";
import { profileTabularFile } from "../../src/core/data/columnar/profile-file.js";
import { profileFile } from "../../src/core/data/readers/index.js";
import type { TabularFormat } from "../../src/core/data/readers/types.js";
import { csvBlocks, makeTable } from "../drift/data.js";
import { emitterFor, numberFlag } from "../kit.js";
import { cpuBeside, timedRun, type TimedRun } from "../process-time.js";

const ROWS = numberFlag("rows", 1_000_000);
const ROW_WISE = process.argv.includes("--row-wise");
const EXPORT_ROWS = numberFlag("export-rows", 1_000_000);
/** `--only export` (or `add`, `in-process`): one group of measures, the others skipped. */
const ONLY = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;
const runs = (group: "add" | "in-process" | "export") => ONLY === undefined || ONLY === group;
const PYTHON = "/usr/bin/python3";
const here = dirname(fileURLToPath(import.meta.url));
const tandemBin = join(here, "..", "..", "bin", "tandem.js");
const vega = createRequire(import.meta.url).resolve("vega-datasets");
const FLIGHTS = join(
  vega.slice(0, vega.lastIndexOf("vega-datasets") + "vega-datasets".length),
  "data/flights-3m.parquet",
);
const emit = emitterFor("profile");

const dir = mkdtempSync(join(tmpdir(), "tandem-bench-profile-"));
let homes = 0;

/** `tandem data add FILE` in its own process with a fresh home (no profile cached from a run before). */
function dataAdd(file: string, profile: boolean): TimedRun {
  const env = { ...process.env, TANDEM_HOME: join(dir, `home-${homes++}`), TANDEM_URL: "", TANDEM_PROJECT: "bench" };
  const args = [tandemBin, "data", "add", file, "--name", "bench", "--json", ...(profile ? [] : ["--no-profile"])];
  const run = timedRun(process.execPath, args, { env });
  if (run.status !== 0) throw new Error(`tandem data add ${file} failed (exit ${run.status}): ${run.stderr}`);
  return run;
}

function pandasDescribe(csv: string): TimedRun {
  const run = timedRun(PYTHON, [join(here, "pandas_describe.py"), csv]);
  if (run.status !== 0) throw new Error(`pandas_describe.py failed (python3-pandas installed?): ${run.stderr}`);
  return run;
}

/** One measure of the CLI against pandas on the same rows. */
function emitAdd(what: string, file: string, csvForPandas: string): void {
  const tandem = dataAdd(file, true);
  const unprofiled = dataAdd(file, false);
  const pandas = pandasDescribe(csvForPandas);
  emit(
    `tandem data add --json of ${what}, process start included (s; baseline pandas read_csv + describe(include="all") of the same rows)`,
    tandem.wall,
    pandas.wall,
    "s",
    tandem.wall / pandas.wall,
    { ...cpuBeside(tandem, pandas), without_profile_s: unprofiled.wall, without_profile_cpu_s: unprofiled.cpu },
  );
}

/** CPU and wall seconds of `work` in this process. */
async function timed<T>(work: () => Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await work();
  const c = process.cpuUsage(c0);
  return { value, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

/** The profile in process through DuckDB, and (with --row-wise) row by row, which must agree. */
async function emitInProcess(what: string, file: string, format: TabularFormat): Promise<void> {
  const columnar = await timed(() => profileTabularFile(file, { format }));
  const rowWise = ROW_WISE ? await timed(() => profileFile(file, { format })) : null;
  if (rowWise && JSON.stringify(rowWise.value) !== JSON.stringify(columnar.value))
    throw new Error(`${what}: the DuckDB profile differs from the row-wise one`);
  emit(
    `profile of ${what} in process through DuckDB (s; baseline: the row-wise reader${ROW_WISE ? "" : ", not run: --row-wise"})`,
    columnar.wall,
    rowWise?.wall ?? null,
    "s",
    rowWise ? columnar.wall / rowWise.wall : null,
    {
      tandem_cpu_s: columnar.cpu,
      baseline_cpu_s: rowWise?.cpu ?? null,
      cpu_ratio: rowWise ? columnar.cpu / rowWise.cpu : null,
      identical: rowWise ? true : null,
      load_1m: (await import("node:os")).loadavg()[0],
    },
  );
}

/** The seeded prediction ids' first 24 hex characters. */
const ID_HEAD = "0123456789abcdef01234567";

/** A prediction log of `rows` rows in a fresh embedded home, one endpoint, half of it labelled. */
function seedPredictionLog(rows: number, since: number): { env: NodeJS.ProcessEnv; db: string } {
  const home = join(dir, "export-home");
  const env = { ...process.env, TANDEM_HOME: home, TANDEM_URL: "", TANDEM_PROJECT: "bench" };
  const created = timedRun(process.execPath, [tandemBin, "data", "ls", "--json"], { env });
  if (created.status !== 0) throw new Error(`tandem data ls failed: ${created.stderr}`);
  const db = join(home, "tandem.db");
  // Features as Tandem's log writer stores them, JSON.stringify's form (2, not SQLite's 2.0: %.15g
  // writes these values as JavaScript does).
  const features = Array.from(
    { length: 20 },
    (_, i) => `'f${i}', json(printf('%.15g', round(((i * ${i + 7}) % 1000) / 7.0, 3)))`,
  ).join(", ");
  // The log keeps a batch per request (migration 0503): 64-row requests here, their ids one after the
  // other (24 characters and a counter in hex, as fastId makes them), features and outputs as JSON
  // arrays (the layout of a runner that answers records, and of rows moved from the per-row log; an
  // ONNX endpoint's features are float64 columns, which sqlite3 cannot write).
  const sql = `
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${rows}),
    r AS (SELECT i, i / 64 AS b, json_object(${features}) AS f,
                 json_object('label', i % 2, 'probabilities', json_object('0', 0.25, '1', 0.75)) AS o
          FROM n ORDER BY i)
    INSERT INTO prediction_batches (id_head, id_first, rows, project, endpoint, model, version, slot, request_id, at,
                                    latency_ms, error, features, outputs)
    SELECT '${ID_HEAD}', min(i), count(*), 'bench', 'gbdt', 'gbdt', 1, 'primary', printf('r%09d', b), ${since} + b * 64,
           1.5, NULL, '[' || group_concat(f, ',') || ']', '[' || group_concat(o, ',') || ']'
    FROM r GROUP BY b;
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${rows})
    INSERT INTO prediction_feedback (prediction_id, project, endpoint, label, at)
    SELECT printf('${ID_HEAD}%08x', i), 'bench', 'gbdt', json(CAST(i % 2 AS TEXT)), ${since} + i FROM n WHERE i % 4 < 2;`;
  const seeded = spawnSync("sqlite3", [db], { input: sql, encoding: "utf8" });
  if (seeded.status !== 0) throw new Error(`seeding the prediction log failed: ${seeded.stderr}`);
  return { env, db };
}

/** The export through the CLI against sqlite3 writing the same JSON Lines. */
function emitExport(rows: number): void {
  const since = Date.UTC(2026, 0, 1);
  const { env, db } = seedPredictionLog(rows, since);
  const sinceIso = new Date(since).toISOString();
  const untilIso = new Date(since + rows).toISOString();
  const tandem = timedRun(
    process.execPath,
    [
      tandemBin,
      "endpoints",
      "export",
      "gbdt",
      "--since",
      sinceIso,
      "--until",
      untilIso,
      "--as-dataset",
      "traffic",
      "--all",
      "--json",
    ],
    { env },
  );
  if (tandem.status !== 0) throw new Error(`tandem endpoints export failed: ${tandem.stderr}`);
  const exported = (JSON.parse(tandem.stdout) as { rows: number }).rows;
  if (exported !== rows) throw new Error(`tandem exported ${exported} rows of ${rows}`);
  const out = join(dir, "export.jsonl");
  const query = `SELECT json_patch(fe.value, json_object('prediction', json_extract(oe.value, '$.label'),
      'target', json(f.label), 'at', strftime('%Y-%m-%dT%H:%M:%fZ', b.at / 1000.0, 'unixepoch')))
    FROM prediction_batches b, json_each(b.features) fe JOIN json_each(b.outputs) oe ON oe.key = fe.key
      LEFT JOIN prediction_feedback f ON f.prediction_id = printf('%s%08x', b.id_head, b.id_first + fe.key)
    WHERE b.project = 'bench' AND b.endpoint = 'gbdt' AND b.at >= ${since} AND b.at < ${since + rows}
      AND b.slot != 'shadow' AND b.error IS NULL ORDER BY b.at, b.id_head, b.id_first, fe.key`;
  const baseline = timedRun("sh", ["-c", `sqlite3 ${db} "${query.replaceAll("\n", " ")}" > ${out}`]);
  if (baseline.status !== 0) throw new Error(`sqlite3 export failed: ${baseline.stderr}`);
  emit(
    `tandem endpoints export --all --json of ${rows} logged predictions x 20 features to a dataset version (JSON Lines, profiled), process start included (s; baseline sqlite3 writing the same JSON Lines)`,
    tandem.wall,
    baseline.wall,
    "s",
    tandem.wall / baseline.wall,
    cpuBeside(tandem, baseline),
  );
}

try {
  if (runs("add") || runs("in-process")) {
    const flightsCsv = join(dir, "flights-3m.csv");
    const engine = await openColumnarEngine();
    try {
      await engine.connection.run(
        `COPY (SELECT * FROM read_parquet(${sqlString(FLIGHTS)})) TO ${sqlString(flightsCsv)} (HEADER, DELIMITER ',')`,
      );
    } finally {
      engine.close();
    }
    const tableCsv = join(dir, "table.csv");
    const fd = openSync(tableCsv, "w");
    try {
      for (const block of csvBlocks(makeTable(ROWS, 1, false))) writeSync(fd, block);
    } finally {
      closeSync(fd);
    }
    if (runs("add")) {
      emitAdd("flights-3m.parquet (3 M rows x 5)", FLIGHTS, flightsCsv);
      emitAdd(`bench/drift's CSV (${ROWS} rows x 25)`, tableCsv, tableCsv);
    }
    if (runs("in-process")) {
      await emitInProcess("flights-3m.parquet", FLIGHTS, "parquet");
      await emitInProcess(`bench/drift's CSV (${ROWS} rows x 25)`, tableCsv, "csv");
    }
  }
  if (runs("export")) emitExport(EXPORT_ROWS);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
