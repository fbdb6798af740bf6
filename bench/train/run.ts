/**
 * bench/train — Tandem's gradient-boosting trainer on the flights task (delayed > 15 min, vega-datasets
 * flights-3m) versus scikit-learn's HistGradientBoostingClassifier (Debian's python3-sklearn) with the
 * same settings, on the very same float32 matrices, in the same run. Prints JSON lines: test ROC AUC of
 * both, and fit wall time of both (ratio = Tandem / scikit-learn; goal ≤ 2).
 *
 * Options: --rows N (labelled rows to sample, default all ≈ 3M), --max-iter N (default 100),
 *          --threads N (both trainers, default 2),
 *          --reference FILE: instead, measure scikit-learn on the CI task (50 000 rows, both algorithms,
 *          classification and regression) and write the figures the CI test compares against.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FlightsSplit, FlightsTask } from "../../src/core/training/flights.js";
import { flightsParquetPath, readFlights, splitFlights } from "../../src/core/training/flights.js";
import { predictGradientBoosting, trainGradientBoosting } from "../../src/core/training/gbdt/gradient-boosting.js";
import { rocAuc } from "../../src/core/training/metrics.js";

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const ROWS = arg("--rows") ? Number(arg("--rows")) : Infinity;
const MAX_ITER = Number(arg("--max-iter") ?? 100);
const REFERENCE = arg("--reference");
/** Threads for both trainers (default 2, the machine's cores); 1 compares single-thread efficiency. */
const THREADS = Number(arg("--threads") ?? 2);

/** The CI task: its rows, seed and the trainers' settings are what test/training/flights-quality.test.ts uses. */
export const CI_TASK = { sampleRows: 50_000, seed: 42, testFraction: 0.2 } as const;

const GBDT = {
  max_iter: MAX_ITER,
  learning_rate: 0.1,
  max_leaf_nodes: 31,
  min_samples_leaf: 20,
  l2_regularization: 0,
  max_bins: 255,
  early_stopping: true,
  validation_fraction: 0.1,
  n_iter_no_change: 10,
  tol: 1e-7,
  seed: 0,
};
const LINEAR = { l2_regularization: 1e-4 };

function findPython(): string {
  for (const candidate of ["python3", "/usr/bin/python3"]) {
    const probe = spawnSync(candidate, ["-c", "import sklearn"], { encoding: "utf8" });
    if (probe.status === 0) return candidate;
  }
  throw new Error("scikit-learn not found: install Debian's python3-sklearn (apt-get install -y python3-sklearn)");
}

interface SklearnResult {
  roc_auc?: number;
  rmse?: number;
  fit_seconds: number;
  n_iter: number;
  sklearn: string;
}

function runSklearn(
  python: string,
  split: FlightsSplit,
  task: FlightsTask,
  algorithm: string,
  params: object,
): SklearnResult {
  const dir = mkdtempSync(join(tmpdir(), "tandem-bench-train-"));
  try {
    const write = (name: string, a: Float32Array | Float64Array): void =>
      writeFileSync(join(dir, name), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    write("x_train.f32", split.train.x.data);
    write("y_train.f64", split.train.y);
    write("x_test.f32", split.test.x.data);
    write("y_test.f64", split.test.y);
    writeFileSync(join(dir, "meta.json"), JSON.stringify({ cols: split.train.x.cols, task, algorithm, params }));
    const out = spawnSync(python, [join(here, "sklearn_train.py"), dir], {
      encoding: "utf8",
      maxBuffer: 1 << 20,
      env: { ...process.env, OMP_NUM_THREADS: String(THREADS) },
    });
    if (out.status !== 0) throw new Error(`sklearn_train.py failed:\n${out.stderr}`);
    return JSON.parse(out.stdout.trim().split("\n").pop()!) as SklearnResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function line(measure: string, tandem: number, baseline: number, unit: string, extra: object = {}): void {
  console.log(JSON.stringify({ bench: "train", measure, tandem, baseline, unit, ratio: tandem / baseline, ...extra }));
}

const python = findPython();
const table = await readFlights({ file: flightsParquetPath() });

if (REFERENCE) {
  const results: Record<string, Record<string, Omit<SklearnResult, "fit_seconds">>> = {};
  for (const algorithm of ["gradient_boosting", "logistic_regression"]) {
    results[algorithm] = {};
    for (const task of ["classification", "regression"] as const) {
      const split = splitFlights({ table, task, ...CI_TASK });
      // Fit time is left out: the fixture holds quality figures only (timings belong to the bench lines).
      const { fit_seconds: _fit, ...quality } = runSklearn(
        python,
        split,
        task,
        algorithm,
        algorithm === "gradient_boosting" ? GBDT : LINEAR,
      );
      results[algorithm][task] = quality;
    }
  }
  const fixture = { task: CI_TASK, gradient_boosting_params: GBDT, linear_params: LINEAR, results };
  writeFileSync(REFERENCE, JSON.stringify(fixture, null, 2) + "\n");
  console.log(JSON.stringify(fixture));
} else {
  const split = splitFlights({ table, task: "classification", ...(Number.isFinite(ROWS) ? { sampleRows: ROWS } : {}) });
  const sk = runSklearn(python, split, "classification", "gradient_boosting", GBDT);
  const t0 = performance.now();
  const model = trainGradientBoosting(split.train, {
    loss: "log_loss",
    maxIter: GBDT.max_iter,
    learningRate: GBDT.learning_rate,
    maxLeafNodes: GBDT.max_leaf_nodes,
    minSamplesLeaf: GBDT.min_samples_leaf,
    l2Regularization: GBDT.l2_regularization,
    maxBins: GBDT.max_bins,
    earlyStopping: GBDT.early_stopping,
    validationFraction: GBDT.validation_fraction,
    nIterNoChange: GBDT.n_iter_no_change,
    tol: GBDT.tol,
    seed: GBDT.seed,
    threads: THREADS,
  });
  const fitSeconds = (performance.now() - t0) / 1000;
  const auc = rocAuc(split.test.y, predictGradientBoosting(model, split.test.x));
  // Both fits share the machine: a high load average (other jobs) slows both, scikit-learn's OpenMP
  // threads usually more, so the ratio is only comparable between runs at similar load.
  const context = {
    threads: THREADS,
    load_average_1m: Number(loadavg()[0]!.toFixed(2)),
    rows_train: split.train.x.rows,
    rows_test: split.test.x.rows,
    iterations: { tandem: model.trees.length, baseline: sk.n_iter },
    sklearn: sk.sklearn,
  };
  line("roc_auc", auc, sk.roc_auc!, "auc", { ...context, auc_gap: sk.roc_auc! - auc, goal: "gap ≤ 0.01" });
  line("fit_wall_time", fitSeconds, sk.fit_seconds, "s", { ...context, goal: "ratio ≤ 2" });
}
