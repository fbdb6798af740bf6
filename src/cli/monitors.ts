/**
 * `tandem monitors …`. `drift` is the one-shot check between two tables, like an Evidently report
 * without the notebook. Local files are read and compared in this process: a drift check changes no
 * state, and shipping two large tables to a server only to compare them would cost more than the check.
 */
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { DRIFT_TESTS, driftReportToWire, type ColumnDriftOptions, type DriftTest } from "../core/monitoring/drift.js";
import { renderDriftHtml } from "../core/monitoring/report-html.js";
import { EXIT, resolveProject, UsageError, VerdictError } from "./context.js";
import { info, printJson, printTable } from "./output.js";

interface DriftFlags {
  reference: string;
  current: string;
  json?: boolean;
  html?: string;
  columns?: string;
  test?: string;
  threshold?: string[];
  columnTest?: string[];
  driftShare?: string;
  project?: string;
}

function parseTest(value: string, flag: string): DriftTest {
  if (!(DRIFT_TESTS as readonly string[]).includes(value)) {
    throw new UsageError(`${flag}: unknown test "${value}" (expected one of ${DRIFT_TESTS.join(", ")})`);
  }
  return value as DriftTest;
}

/** "COLUMN=VALUE" pairs from repeatable flags. */
function pairs(list: string[] | undefined, flag: string): Array<[string, string]> {
  return (list ?? []).map((item) => {
    const at = item.lastIndexOf("=");
    if (at <= 0) throw new UsageError(`${flag} expects COLUMN=VALUE, got "${item}"`);
    return [item.slice(0, at), item.slice(at + 1)];
  });
}

async function drift(flags: DriftFlags): Promise<void> {
  // Keyed by the user's column names: in `{}`, `--threshold __proto__=0.99` set Object.prototype's
  // `threshold`, which every column then read as its own.
  const perColumn = Object.create(null) as Record<string, ColumnDriftOptions>;
  for (const [col, v] of pairs(flags.threshold, "--threshold")) {
    const t = Number(v);
    if (!Number.isFinite(t) || t < 0) throw new UsageError(`--threshold ${col}=${v}: expected a non-negative number`);
    (perColumn[col] ??= {}).threshold = t;
  }
  for (const [col, v] of pairs(flags.columnTest, "--column-test"))
    (perColumn[col] ??= {}).test = parseTest(v, "--column-test");
  const driftShare = flags.driftShare === undefined ? undefined : Number(flags.driftShare);
  if (driftShare !== undefined && !(driftShare > 0 && driftShare <= 1)) {
    throw new UsageError(`--drift-share: expected a number in (0, 1], got "${flags.driftShare}"`);
  }
  const project = resolveProject(flags.project);
  // The file readers (CSV, Parquet, DuckDB) load only for a drift check, not for `--help`.
  const { loadDriftInput } = await import("./drift-inputs.js");
  // Both sides load at once, DuckDB on one thread each: the two scans keep both cores busy, and one
  // thread per scan cost less CPU than two per scan one after the other (A/B on bench/drift's
  // 300 000-row CSVs, 4 rounds, load 14–17: CPU 9.2 → 8.5 s, wall 25 → 23 s).
  const [loadedReference, loadedCurrent] = await Promise.allSettled([
    loadDriftInput(flags.reference, "--reference", project, { threads: 1 }),
    loadDriftInput(flags.current, "--current", project, { threads: 1 }),
  ]);
  // The reference's error first, as when the two loaded one after the other.
  if (loadedReference.status === "rejected") throw loadedReference.reason;
  if (loadedCurrent.status === "rejected") throw loadedCurrent.reason;
  const reference = loadedReference.value;
  const current = loadedCurrent.value;
  const columns = flags.columns
    ?.split(",")
    .map((c) => c.trim())
    .filter(Boolean);
  for (const c of columns ?? []) {
    if (!Object.hasOwn(reference.table, c)) throw new UsageError(`--columns: ${flags.reference} has no column "${c}"`);
    if (!Object.hasOwn(current.table, c)) throw new UsageError(`--columns: ${flags.current} has no column "${c}"`);
  }
  // Column kinds come from the reference, as Evidently infers them from its reference data.
  for (const [name, type] of Object.entries(reference.types)) (perColumn[name] ??= {}).type ??= type;
  // The statistics on both cores (drift-parallel.ts); the columns it hands to its worker are moved
  // there, and nothing below reads the tables again.
  const { computeDriftParallel } = await import("../core/monitoring/drift-parallel.js");
  const report = await computeDriftParallel(reference.table, current.table, {
    columns,
    perColumn,
    test: flags.test === undefined ? undefined : parseTest(flags.test, "--test"),
    driftShare,
    histograms: flags.html !== undefined,
  });
  if (flags.html) {
    writeFileSync(
      flags.html,
      renderDriftHtml(report, { referenceLabel: flags.reference, currentLabel: flags.current }),
    );
    info(`wrote ${flags.html}`);
  }
  if (flags.json) printJson(driftReportToWire(report));
  else {
    printTable(
      report.columns.map((c) => ({ ...c, p_value: c.pValue, drift: c.drift ? "DRIFT" : "ok" })),
      ["name", "type", "test", "statistic", "p_value", "threshold", "drift"],
    );
    for (const s of report.skipped) info(`skipped ${s.name}: ${s.reason}`);
  }
  const drifted = report.columns.filter((c) => c.drift).length;
  // With --json the verdict is in the JSON (dataset_drift) and the exit code: nothing on stderr.
  if (report.datasetDrift && flags.json) {
    process.exitCode = EXIT.negative;
    return;
  }
  if (report.datasetDrift) {
    throw new VerdictError(
      `dataset drift: ${drifted} of ${report.columns.length} columns drifted (share ${report.shareDrifted.toFixed(3)} ≥ ${report.driftShare})`,
    );
  }
  if (!flags.json) info(`no dataset drift: ${drifted} of ${report.columns.length} columns drifted`);
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerMonitorCommands(program: Command): void {
  // Other files add subcommands to the same group (monitor-runs.ts): find it or create it.
  const monitors =
    program.commands.find((c) => c.name() === "monitors") ??
    program.command("monitors").description("Monitors: drift, performance and fairness checks");
  monitors
    .command("drift")
    .description(
      "Compare two tables column by column with Evidently's default drift tests; exit 1 when the dataset drifted.\n" +
        "Inputs: CSV, TSV, JSON Lines or Parquet files, or dataset versions (dataset://NAME@VERSION).",
    )
    .requiredOption("--reference <table>", "the reference data: a file or dataset://NAME@VERSION")
    .requiredOption("--current <table>", "the data to check: a file or dataset://NAME@VERSION")
    .option("--json", "print {dataset_drift, share_drifted, columns:[…]} on stdout")
    .option("--html <file>", "write a self-contained HTML report")
    .option("--columns <list>", "comma-separated columns to check (default: all common columns)")
    .option("--test <name>", `one test for every column (${DRIFT_TESTS.join(", ")}), e.g. psi`)
    .option("--column-test <col=test>", "test for one column (repeatable)", collect)
    .option("--threshold <col=value>", "threshold for one column (repeatable)", collect)
    .option("--drift-share <fraction>", "share of drifted columns at which the dataset drifts (default 0.5)")
    .option("--project <name>", "project of dataset:// inputs (default: $TANDEM_PROJECT, tandem.yaml, default)")
    .action(async (flags: DriftFlags) => drift(flags));
}
