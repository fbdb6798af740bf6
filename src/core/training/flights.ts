/**
 * The flights task: U.S. flight on-time records (vega-datasets `data/flights-3m.parquet`, January–June
 * 2001: date, delay, distance, origin, destination) turned into features for the built-in trainers.
 *
 * `date` is a Parquet TIMESTAMP(MICROS, isAdjustedToUTC=false): local scheduled time stored as if UTC, so
 * hour and weekday are read with the UTC getters (hyparquet would otherwise give a Date at that instant).
 */

import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { AsyncBuffer } from "hyparquet";
import { asyncBufferFromFile, parquetRead } from "hyparquet";
import { compressors } from "hyparquet-compressors";
import type { LabelledData, Matrix } from "./data.js";
import { matrixFromColumns, shuffledIndices } from "./data.js";

export interface FlightsTable {
  rows: number;
  /** Scheduled departure, ms since epoch in local time written as UTC. */
  date: Float64Array;
  /** Arrival delay in minutes (negative = early). */
  delay: Float64Array;
  /** Miles. */
  distance: Float64Array;
  /** Airport codes as indices into `airports`. */
  origin: Int32Array;
  destination: Int32Array;
  airports: string[];
}

/** Path of `data/flights-3m.parquet` in the installed vega-datasets package (its exports hide data/). */
export function flightsParquetPath(): string {
  const entry = createRequire(import.meta.url).resolve("vega-datasets");
  return join(dirname(entry), "..", "data", "flights-3m.parquet");
}

/** Reads rows [rowStart, rowEnd) of a flights parquet file (a path or a hyparquet AsyncBuffer). */
export async function readFlights(options: {
  file: string | AsyncBuffer;
  rowStart?: number;
  rowEnd?: number;
}): Promise<FlightsTable> {
  const file = typeof options.file === "string" ? await asyncBufferFromFile(options.file) : options.file;
  const rowStart = options.rowStart ?? 0;
  const cols = new Map<string, { start: number; data: ArrayLike<unknown> }[]>();
  let rowEnd = options.rowEnd ?? Infinity;
  let maxSeen = 0;
  await parquetRead({
    file,
    compressors,
    rowStart,
    ...(options.rowEnd !== undefined ? { rowEnd: options.rowEnd } : {}),
    columns: ["date", "delay", "distance", "origin", "destination"],
    parsers: { timestampFromMicroseconds: (micros: bigint) => Number(micros / 1000n) },
    onChunk: (chunk) => {
      let list = cols.get(chunk.columnName);
      if (!list) cols.set(chunk.columnName, (list = []));
      list.push({ start: chunk.rowStart, data: chunk.columnData as ArrayLike<unknown> });
      maxSeen = Math.max(maxSeen, chunk.rowEnd);
    },
  });
  rowEnd = Math.min(rowEnd, maxSeen);
  const rows = Math.max(0, rowEnd - rowStart);
  const numeric = (name: string): Float64Array => {
    const out = new Float64Array(rows).fill(NaN);
    for (const c of cols.get(name) ?? []) {
      for (let k = 0; k < c.data.length; k++) {
        const r = c.start + k - rowStart;
        if (r < 0 || r >= rows) continue;
        const v = c.data[k];
        if (v !== null && v !== undefined) out[r] = Number(v);
      }
    }
    return out;
  };
  const airports: string[] = [];
  const codeOf = new Map<string, number>();
  const coded = (name: string): Int32Array => {
    const out = new Int32Array(rows).fill(-1);
    for (const c of cols.get(name) ?? []) {
      for (let k = 0; k < c.data.length; k++) {
        const r = c.start + k - rowStart;
        if (r < 0 || r >= rows) continue;
        const v = c.data[k];
        if (typeof v !== "string") continue;
        let code = codeOf.get(v);
        if (code === undefined) {
          code = airports.length;
          airports.push(v);
          codeOf.set(v, code);
        }
        out[r] = code;
      }
    }
    return out;
  };
  return {
    rows,
    date: numeric("date"),
    delay: numeric("delay"),
    distance: numeric("distance"),
    origin: coded("origin"),
    destination: coded("destination"),
    airports,
  };
}

export type FlightsTask = "classification" | "regression";

/** Flights delayed by more than this many minutes are "delayed" (the definition). */
export const DELAY_THRESHOLD_MINUTES = 15;

export const FLIGHT_FEATURES = [
  "hour",
  "weekday",
  "distance",
  "origin_frequency",
  "destination_frequency",
  "origin_target",
  "destination_target",
] as const;

/** Airport statistics learnt on training rows only, so encodings never peek at test labels. */
export interface AirportEncoding {
  /** Share of training flights per airport code (origin, destination). */
  originFrequency: Float64Array;
  destinationFrequency: Float64Array;
  /** Smoothed mean target per airport; unseen airports get the prior. */
  originTarget: Float64Array;
  destinationTarget: Float64Array;
  prior: number;
}

/** Rows with a known delay (a few flights were cancelled/diverted: null delay). */
export function labelledRows(table: FlightsTable): Uint32Array {
  const out: number[] = [];
  for (let i = 0; i < table.rows; i++) {
    if (!Number.isNaN(table.delay[i]!) && table.origin[i]! >= 0 && table.destination[i]! >= 0) out.push(i);
  }
  return Uint32Array.from(out);
}

export function flightsTarget(table: FlightsTable, task: FlightsTask, rows: ArrayLike<number>): Float64Array {
  const y = new Float64Array(rows.length);
  for (let k = 0; k < rows.length; k++) {
    const d = table.delay[rows[k]!]!;
    y[k] = task === "classification" ? (d > DELAY_THRESHOLD_MINUTES ? 1 : 0) : d;
  }
  return y;
}

/** Smoothing weight of the target encoding: an airport needs ~20 flights before its own rate dominates. */
const TARGET_SMOOTHING = 20;

export function fitAirportEncoding(
  table: FlightsTable,
  task: FlightsTask,
  trainRows: ArrayLike<number>,
): AirportEncoding {
  const a = table.airports.length;
  const y = flightsTarget(table, task, trainRows);
  const oc = new Float64Array(a);
  const dc = new Float64Array(a);
  const os = new Float64Array(a);
  const ds = new Float64Array(a);
  let prior = 0;
  for (let k = 0; k < trainRows.length; k++) {
    const i = trainRows[k]!;
    const o = table.origin[i]!;
    const d = table.destination[i]!;
    oc[o] = oc[o]! + 1;
    dc[d] = dc[d]! + 1;
    os[o] = os[o]! + y[k]!;
    ds[d] = ds[d]! + y[k]!;
    prior += y[k]!;
  }
  const n = Math.max(1, trainRows.length);
  prior /= n;
  const smooth = (s: Float64Array, c: Float64Array): Float64Array =>
    s.map((sum, j) => (sum + TARGET_SMOOTHING * prior) / (c[j]! + TARGET_SMOOTHING));
  return {
    originFrequency: oc.map((c) => c / n),
    destinationFrequency: dc.map((c) => c / n),
    originTarget: smooth(os, oc),
    destinationTarget: smooth(ds, dc),
    prior,
  };
}

const DAY_MS = 86_400_000;

/** The feature matrix (columns in {@link FLIGHT_FEATURES} order) for the given rows. */
export function flightsFeatures(table: FlightsTable, encoding: AirportEncoding, rows: ArrayLike<number>): Matrix {
  const m = rows.length;
  const cols = FLIGHT_FEATURES.map(() => new Float64Array(m));
  const [hour, weekday, distance, of, df, ot, dt] = cols as [
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  for (let k = 0; k < m; k++) {
    const i = rows[k]!;
    // Arithmetic instead of Date objects: 3M Date allocations cost more than the rest of the loop.
    const ms = table.date[i]!;
    const day = Math.floor(ms / DAY_MS);
    hour[k] = Math.floor((ms - day * DAY_MS) / 60_000) / 60;
    weekday[k] = (day + 4) % 7; // 1970-01-01 was a Thursday (getUTCDay() = 4)
    distance[k] = table.distance[i]!;
    const o = table.origin[i]!;
    const d = table.destination[i]!;
    of[k] = encoding.originFrequency[o] ?? 0;
    df[k] = encoding.destinationFrequency[d] ?? 0;
    ot[k] = encoding.originTarget[o] ?? encoding.prior;
    dt[k] = encoding.destinationTarget[d] ?? encoding.prior;
  }
  return matrixFromColumns(cols);
}

export interface FlightsSplit {
  featureNames: string[];
  train: LabelledData;
  test: LabelledData;
  encoding: AirportEncoding;
}

/**
 * A reproducible train/test split of the labelled rows among `rows` (default all): a seeded shuffle, the
 * first `testFraction` for test; airport encodings are fitted on the training part only.
 */
export function splitFlights(options: {
  table: FlightsTable;
  task: FlightsTask;
  /** Use at most this many labelled rows, sampled at random (default all). */
  sampleRows?: number;
  /** Default 0.2. */
  testFraction?: number;
  /** Default 42. */
  seed?: number;
}): FlightsSplit {
  const all = labelledRows(options.table);
  const order = shuffledIndices(all.length, options.seed ?? 42);
  const m = Math.min(all.length, options.sampleRows ?? all.length);
  const nTest = Math.round(m * (options.testFraction ?? 0.2));
  const pick = (from: number, to: number): Uint32Array => {
    const out = new Uint32Array(to - from);
    for (let k = from; k < to; k++) out[k - from] = all[order[k]!]!;
    return out.sort();
  };
  const testRows = pick(0, nTest);
  const trainRows = pick(nTest, m);
  const encoding = fitAirportEncoding(options.table, options.task, trainRows);
  return {
    featureNames: [...FLIGHT_FEATURES],
    encoding,
    train: {
      x: flightsFeatures(options.table, encoding, trainRows),
      y: flightsTarget(options.table, options.task, trainRows),
    },
    test: {
      x: flightsFeatures(options.table, encoding, testRows),
      y: flightsTarget(options.table, options.task, testRows),
    },
  };
}

/**
 * The raw flights as a table for `trainModel`: hour (fractional, local), weekday (0 = Sunday),
 * distance, origin and destination (strings, so categorical), and the target — `delayed` (1 when the
 * delay exceeds 15 minutes) or `delay` (minutes). Rows without a delay get null targets.
 */
export function flightsColumns(table: FlightsTable, task: FlightsTask): Record<string, (number | string | null)[]> {
  const all = Array.from({ length: table.rows }, (_, i) => i);
  const enc: AirportEncoding = {
    originFrequency: new Float64Array(0),
    destinationFrequency: new Float64Array(0),
    originTarget: new Float64Array(0),
    destinationTarget: new Float64Array(0),
    prior: 0,
  };
  const x = flightsFeatures(table, enc, all);
  const col = (j: number): number[] => all.map((i) => x.data[i * x.cols + j]!);
  const target = all.map((i) => {
    const d = table.delay[i]!;
    if (Number.isNaN(d)) return null;
    return task === "classification" ? (d > DELAY_THRESHOLD_MINUTES ? 1 : 0) : d;
  });
  return {
    hour: col(0),
    weekday: col(1),
    distance: col(2),
    origin: Array.from(table.origin, (c) => (c >= 0 ? table.airports[c]! : null)),
    destination: Array.from(table.destination, (c) => (c >= 0 ? table.airports[c]! : null)),
    [task === "classification" ? "delayed" : "delay"]: target,
  };
}
