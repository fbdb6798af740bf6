/**
 * computeDrift on both cores: the statistics of bench/drift's 1 M-row files (sorting 40 columns of
 * 1 M doubles for Wasserstein, counting 10 M labels) took ~3.5 s on the main thread while the other
 * core idled (quiet machine). Here a worker thread (drift-worker.ts) takes about half of the work —
 * numeric columns held as Float64Arrays, whose buffers move to it without a copy — and this thread
 * does the rest at the same time. Each column's result is computeDrift's own; the report is put
 * together in the columns' order, so it is the one computeDrift gives, errors included.
 */
import { InvalidInputError } from "../errors.js";
import { moduleWorker } from "../module-worker.js";
import type { Table } from "./columns.js";
import {
  computeDrift,
  driftReportOf,
  rowCount,
  type ColumnDrift,
  type DriftOptions,
  type DriftReport,
  type SkippedColumn,
} from "./drift.js";

/** Below this many values (both sides) the worker's start (~50 ms) costs more than it saves. */
const WORKER_MIN_VALUES = 1_000_000;
/** A label costs about half what a number does (a Map count against a radix sort and a walk). */
const LABEL_WEIGHT = 0.5;

/** One column's part of a report, or the error computeDrift throws at it. */
export interface ColumnOutcome {
  name: string;
  column?: ColumnDrift;
  skipped?: SkippedColumn;
  error?: { name: string; message: string };
}

/** computeDrift column by column over `names`, stopping at the first error (as computeDrift does). */
export function driftEach(
  reference: Table,
  current: Table,
  options: DriftOptions,
  names: readonly string[],
): ColumnOutcome[] {
  const out: ColumnOutcome[] = [];
  for (const name of names) {
    try {
      const report = computeDrift(reference, current, { ...options, columns: [name] });
      out.push({ name, column: report.columns[0], skipped: report.skipped[0] });
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      out.push({ name, error: { name: e.name, message: e.message } });
      break;
    }
  }
  return out;
}

const isDoubles = (v: ArrayLike<unknown> | undefined): v is Float64Array => v instanceof Float64Array;

/**
 * computeDrift(reference, current, options), with about half the numeric columns computed on a
 * worker thread. The buffers of the columns handed over are transferred: those columns of
 * `reference` and `current` are empty afterwards (the CLI has no further use for them).
 */
export async function computeDriftParallel(
  reference: Table,
  current: Table,
  options: DriftOptions = {},
): Promise<DriftReport> {
  const names = options.columns ?? Object.keys(reference).filter((c) => Object.hasOwn(current, c));
  // Unknown columns: computeDrift's own error.
  if (names.some((n) => reference[n] === undefined || current[n] === undefined))
    return computeDrift(reference, current, options);
  const cost = (n: string): number =>
    (reference[n]!.length + current[n]!.length) * (isDoubles(reference[n]) ? 1 : LABEL_WEIGHT);
  const total = names.reduce((sum, n) => sum + cost(n), 0);
  const offloaded = new Set<string>();
  let share = 0;
  for (const n of names) {
    if (!isDoubles(reference[n]) || !isDoubles(current[n]) || share + cost(n) / 2 > total / 2) continue;
    offloaded.add(n);
    share += cost(n);
  }
  if (share < WORKER_MIN_VALUES) return computeDrift(reference, current, options);
  const referenceRows = rowCount(reference);
  const currentRows = rowCount(current);
  const pick = (t: Table, keep: (n: string) => boolean): Table =>
    Object.fromEntries(names.filter(keep).map((n) => [n, t[n]!]));
  const mine = names.filter((n) => !offloaded.has(n));
  const theirs = names.filter((n) => offloaded.has(n));
  // A buffer that a column staying here also views is copied, not moved.
  const staying = new Set(mine.flatMap((n) => [reference[n], current[n]]).map(bufferOf));
  const moved = new Set(theirs.flatMap((n) => [reference[n], current[n]]).map(bufferOf));
  const transferList = [...moved].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer && !staying.has(b));
  const worker = moduleWorker(import.meta.url, "./drift-worker", {
    workerData: {
      reference: pick(reference, (n) => offloaded.has(n)),
      current: pick(current, (n) => offloaded.has(n)),
      options: { ...options, columns: theirs },
    },
    transferList,
  });
  const fromWorker = new Promise<ColumnOutcome[]>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`drift worker exited with code ${code}`)));
  });
  // Never left unobserved while this thread computes its own columns.
  fromWorker.catch(() => undefined);
  const here = driftEach(reference, current, options, mine);
  const there = await fromWorker.finally(() => void worker.terminate());
  const byName = new Map([...here, ...there].map((o) => [o.name, o]));
  const columns: ColumnDrift[] = [];
  const skipped: SkippedColumn[] = [];
  for (const name of names) {
    const o = byName.get(name);
    if (!o) break; // after an error (thrown below, in column order)
    if (o.error) {
      throw o.error.name === "InvalidInputError" ? new InvalidInputError(o.error.message) : new Error(o.error.message);
    }
    if (o.column) columns.push(o.column);
    if (o.skipped) skipped.push(o.skipped);
  }
  return driftReportOf(columns, skipped, options.driftShare ?? 0.5, referenceRows, currentRows);
}

function bufferOf(v: ArrayLike<unknown> | undefined): ArrayBufferLike | undefined {
  return ArrayBuffer.isView(v) ? v.buffer : undefined;
}
