/**
 * bench/drift — what a user runs: `tandem monitors drift --reference ref --current cur --json`, its
 * own process with start-up included, on CSV files and on Parquet files this bench writes (1 000 000
 * rows × 20 numeric + 5 categorical columns each, ~190 MB of CSV), against pandas + SciPy on Debian's
 * /usr/bin/python3 reading the same files (pandas_drift.py; Parquet through pyarrow where Debian has
 * it, else that line has no baseline), in the same run. Both sides' statistics must agree before a
 * timing is printed. Then two in-memory measures: the statistics alone against scipy_drift.py, and
 * folding a 10 000-row window into a month's profile.
 *
 *   npm run build:dist && npm run bench -- drift [--rows 1000000]
 *
 * Each line carries wall seconds, CPU seconds (user + system, start-up included) and the load average,
 * because the build machines are shared. The issue's goal (Tandem ≤ 0.5× pandas's time) is the `goal`
 * field, never the baseline.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { openColumnarEngine, sqlString } from "../../src/core/data/columnar/engine.js";
import { mergeProfiles, profileTable } from "../../src/core/data/profile/builder.js";
import { computeDrift } from "../../src/core/monitoring/drift.js";
import { emitterFor, numberFlag } from "../kit.js";
import { cpuBeside, timedRun, type TimedRun } from "../process-time.js";
import { asColumns, CATEGORICAL_COLUMNS, csvBlocks, makeTable, NUMERIC_COLUMNS, type BenchTable } from "./data.js";

const ROWS = numberFlag("rows", 1_000_000);
const GOAL_RATIO = 0.5;
const PYTHON = "/usr/bin/python3";
const here = dirname(fileURLToPath(import.meta.url));
const tandemBin = join(here, "..", "..", "bin", "tandem.js");
const emit = emitterFor("drift");
const shape = `${ROWS} rows x ${NUMERIC_COLUMNS} numeric + ${CATEGORICAL_COLUMNS} categorical`;

interface Statistic {
  name: string;
  test: string;
  statistic: number;
}

function writeCsv(path: string, table: BenchTable): void {
  const fd = openSync(path, "w");
  try {
    for (const block of csvBlocks(table)) writeSync(fd, block);
  } finally {
    closeSync(fd);
  }
}

/** The CSV's table as Parquet, numbers as DOUBLE (missing as NULL), labels as VARCHAR. */
async function writeParquet(csv: string, parquet: string): Promise<void> {
  const columns = [
    ...Array.from({ length: NUMERIC_COLUMNS }, (_, i) => `'num_${i}': 'DOUBLE'`),
    ...Array.from({ length: CATEGORICAL_COLUMNS }, (_, i) => `'cat_${i}': 'VARCHAR'`),
  ];
  const engine = await openColumnarEngine();
  try {
    await engine.connection.run(
      `COPY (SELECT * FROM read_csv(${sqlString(csv)}, header=true, auto_detect=false, columns={${columns.join(", ")}}))
       TO ${sqlString(parquet)} (FORMAT parquet)`,
    );
  } finally {
    engine.close();
  }
}

/** Fails unless both sides chose the same test for every column and agree on its statistic. */
function expectAgreement(what: string, tandem: Statistic[], baseline: Statistic[]): void {
  if (tandem.length !== baseline.length) throw new Error(`${what}: ${tandem.length} vs ${baseline.length} columns`);
  for (const b of baseline) {
    const t = tandem.find((c) => c.name === b.name);
    if (!t || t.test !== b.test || Math.abs(t.statistic - b.statistic) > 1e-6) {
      throw new Error(`${what}, column ${b.name}: Tandem ${t?.test} ${t?.statistic} vs ${b.test} ${b.statistic}`);
    }
  }
}

function tandemDrift(reference: string, current: string, home: string): { run: TimedRun; columns: Statistic[] } {
  const run = timedRun(
    process.execPath,
    [tandemBin, "monitors", "drift", "--reference", reference, "--current", current, "--json"],
    { env: { ...process.env, TANDEM_HOME: home, TANDEM_URL: "", TANDEM_FROM_SOURCE: "" } },
  );
  // Exit 1 is the verdict "dataset drifted" (this data drifts by design); anything else is a failure.
  if (run.status !== 0 && run.status !== 1) throw new Error(`tandem monitors drift failed: ${run.stderr}`);
  return { run, columns: (JSON.parse(run.stdout) as { columns: Statistic[] }).columns };
}

function pandasDrift(reference: string, current: string): { run: TimedRun; columns: Statistic[] } {
  const run = timedRun(PYTHON, [join(here, "pandas_drift.py"), reference, current], { cwd: here });
  if (run.status !== 0) throw new Error(`pandas_drift.py failed (python3-pandas, -scipy installed?): ${run.stderr}`);
  return { run, columns: (JSON.parse(run.stdout) as { columns: Statistic[] }).columns };
}

function emitCli(format: string, tandem: TimedRun, baseline: TimedRun | null, baselineName: string): void {
  const extra = {
    goal: { ratio: GOAL_RATIO, meaning: "Tandem's wall time at most half the baseline's" },
    ...cpuBeside(tandem, baseline),
  };
  emit(
    `tandem monitors drift --json on ${format}, ${shape}, process start included (s; baseline ${baselineName})`,
    tandem.wall,
    baseline?.wall ?? null,
    "s",
    baseline ? tandem.wall / baseline.wall : null,
    extra,
  );
}

const hasPyarrow = timedRun(PYTHON, ["-c", "import pyarrow"]).status === 0;
const dir = mkdtempSync(join(tmpdir(), "tandem-bench-drift-"));
try {
  const ref = makeTable(ROWS, 1, false);
  const cur = makeTable(ROWS, 2, true);
  const files = {
    refCsv: join(dir, "reference.csv"),
    curCsv: join(dir, "current.csv"),
    refParquet: join(dir, "reference.parquet"),
    curParquet: join(dir, "current.parquet"),
  };
  writeCsv(files.refCsv, ref);
  writeCsv(files.curCsv, cur);
  await writeParquet(files.refCsv, files.refParquet);
  await writeParquet(files.curCsv, files.curParquet);
  const home = join(dir, "home");

  // CSV: the CLI, then pandas, each reading both files from a warm page cache.
  const csvTandem = tandemDrift(files.refCsv, files.curCsv, home);
  const csvPandas = pandasDrift(files.refCsv, files.curCsv);
  expectAgreement("CSV", csvTandem.columns, csvPandas.columns);
  emitCli("CSV", csvTandem.run, csvPandas.run, "pandas read_csv + SciPy");

  // Parquet: Debian 12 has no python3-pyarrow, and pandas reads no Parquet without it.
  const parquetTandem = tandemDrift(files.refParquet, files.curParquet, home);
  expectAgreement("Parquet against CSV", parquetTandem.columns, csvTandem.columns);
  const parquetPandas = hasPyarrow ? pandasDrift(files.refParquet, files.curParquet) : null;
  if (parquetPandas) expectAgreement("Parquet", parquetTandem.columns, parquetPandas.columns);
  emitCli(
    "Parquet",
    parquetTandem.run,
    parquetPandas?.run ?? null,
    hasPyarrow ? "pandas read_parquet (pyarrow) + SciPy" : "none: /usr/bin/python3 has no pyarrow",
  );

  // The statistics alone, in memory, against the same tests in NumPy/SciPy on the same arrays.
  const concat = (cols: ArrayBufferView[]): Buffer =>
    Buffer.concat(cols.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
  writeFileSync(join(dir, "ref_num.f64"), concat(ref.num));
  writeFileSync(join(dir, "cur_num.f64"), concat(cur.num));
  writeFileSync(join(dir, "ref_cat.u8"), concat(ref.cat));
  writeFileSync(join(dir, "cur_cat.u8"), concat(cur.cat));
  const t0 = performance.now();
  const report = computeDrift(asColumns(ref, 0, ROWS), asColumns(cur, 0, ROWS));
  const statsSeconds = (performance.now() - t0) / 1000;
  const scipy = timedRun(PYTHON, [
    join(here, "scipy_drift.py"),
    dir,
    String(ROWS),
    String(NUMERIC_COLUMNS),
    String(CATEGORICAL_COLUMNS),
  ]);
  if (scipy.status !== 0) throw new Error(`scipy_drift.py failed (is python3-scipy installed?): ${scipy.stderr}`);
  const base = JSON.parse(scipy.stdout) as { seconds: number; columns: Statistic[] };
  expectAgreement("in memory", report.columns, base.columns);
  emit(
    `drift statistics only, in memory, ${shape} (s; baseline the same tests in NumPy/SciPy)`,
    statsSeconds,
    base.seconds,
    "s",
    statsSeconds / base.seconds,
    { load_1m: scipy.load },
  );

  // Folding a 10 000-row window into a month's profile: profile the window, then merge it in.
  const month = profileTable(asColumns(cur, 0, Math.min(ROWS, 300_000)));
  const window = asColumns(ref, 0, Math.min(ROWS, 10_000));
  const profileRuns: number[] = [];
  const mergeRuns: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = performance.now();
    const p = profileTable(window);
    const m = performance.now();
    mergeProfiles(month, p);
    profileRuns.push(m - s);
    mergeRuns.push(performance.now() - m);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const total = median(profileRuns.map((p, i) => p + mergeRuns[i]!));
  emit(
    "fold a 10000-row window (25 columns) into a month's profile: profile + merge, median of 5",
    total,
    null,
    "ms",
    null,
    {
      goal: { max: 50, unit: "ms" },
    },
  );
  emit("  of which merging the window's profile into the month's, median of 5", median(mergeRuns), null, "ms", null);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
