/**
 * The quickstart's data: months of real flights from vega-datasets' flights-3m.parquet (January–June
 * 2001, rows sorted by scheduled departure), sampled without replacement with a fixed seed, so every
 * run replays the same flights. Nothing is altered: what drifts is what the calendar changes.
 *
 * DuckDB reads the file (on its own threads, so a month can load while the server starts): the sample
 * is drawn here, in the order a seeded shuffle of the month's rows gives, and DuckDB returns those
 * rows alone. Decoding whole months in JavaScript (hyparquet) took 1.6 s of CPU for January and
 * 0.9 s for each 2 000-flight month on the event loop the server shares; this takes 0.5 and 0.1 s,
 * for the same flights.
 */
import { writeFile } from "node:fs/promises";
import { openColumnarEngine, sqlString, type ColumnarEngine } from "../core/data/columnar/engine.js";
import { DELAY_THRESHOLD_MINUTES, flightsParquetPath } from "../core/training/flights.js";
import { shuffledIndices } from "../core/training/data.js";

/**
 * Row ranges of each month in flights-3m.parquet, measured once by scanning its `date` column
 * (3 000 000 rows; six rows of 2001-07-01 at the end are left out).
 */
export const MONTHS = [
  { name: "2001-01", start: 0, end: 508_239 },
  { name: "2001-02", start: 508_239, end: 966_409 },
  { name: "2001-03", start: 966_409, end: 1_477_911 },
  { name: "2001-04", start: 1_477_911, end: 1_978_941 },
  { name: "2001-05", start: 1_978_941, end: 2_497_772 },
  { name: "2001-06", start: 2_497_772, end: 2_999_994 },
] as const;

export interface Flight {
  /** Scheduled departure, local time, ISO-8601 without a zone. */
  date: string;
  hour: number;
  weekday: number;
  distance: number;
  origin: string;
  destination: string;
  /** Arrival delay in minutes. */
  delay: number;
  /** 1 when delay > 15 minutes. */
  delayed: 0 | 1;
}

const DAY_MS = 86_400_000;

/**
 * Months of flights, read through one DuckDB engine. `sample` answers are kept, and a smaller sample
 * of a month is the head of a larger one (the same shuffled order), so `prefetch` can start reading a
 * month before the loop needs it.
 */
export class FlightMonths {
  private engine: Promise<ColumnarEngine> | null = null;
  /** DuckDB runs one statement at a time per connection: reads wait their turn here. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly samples = new Map<number, { rows: number; flights: Promise<Flight[]> }>();

  constructor(
    private readonly file = flightsParquetPath(),
    private readonly seed = 2001,
  ) {}

  /** `rows` flights of month `index` (0 = January) with a known delay, in random order (seeded). */
  sample(index: number, rows: number): Promise<Flight[]> {
    const held = this.samples.get(index);
    if (held && held.rows >= rows) return held.flights.then((f) => f.slice(0, rows));
    const flights = this.read(index, rows);
    // A failed read is not kept: the next call tries again (and the caller sees this one's error).
    flights.catch(() => this.samples.delete(index));
    this.samples.set(index, { rows, flights });
    return flights;
  }

  /** Starts reading a month now; its errors surface when `sample` asks for it. */
  prefetch(index: number, rows: number): void {
    if (MONTHS[index]) this.sample(index, rows).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    if (this.engine) (await this.engine).close();
    this.engine = null;
  }

  private read(index: number, rows: number): Promise<Flight[]> {
    const m = MONTHS[index];
    if (!m) return Promise.reject(new Error(`month ${index + 1}: the data covers January to June 2001`));
    const run = this.queue.then(() => this.readMonth(m, index, rows));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async readMonth(m: (typeof MONTHS)[number], index: number, rows: number): Promise<Flight[]> {
    const con = (await (this.engine ??= openColumnarEngine())).connection;
    const n = m.end - m.start;
    const from = `read_parquet(${sqlString(this.file)}, file_row_number = true) WHERE file_row_number >= ${m.start} AND file_row_number < ${m.end}`;
    // Flights without a delay or an airport are not sampled (flights-3m has none, but a sample must
    // not depend on that).
    const unknown = new Uint8Array(n);
    const missing = await con.runAndReadAll(
      `SELECT file_row_number - ${m.start} FROM ${from} AND (delay IS NULL OR origin IS NULL OR destination IS NULL)`,
    );
    for (const [r] of missing.getRows()) unknown[Number(r)] = 1;
    const order = shuffledIndices(n, this.seed + index);
    const picked: number[] = [];
    for (let k = 0; k < n && picked.length < rows; k++) if (!unknown[order[k]!]) picked.push(order[k]!);
    const result = await con.runAndReadAll(
      `SELECT (file_row_number - ${m.start})::INTEGER, epoch_ms(date)::DOUBLE, delay::DOUBLE, distance::DOUBLE, origin, destination
       FROM ${from} AND file_row_number - ${m.start} IN (SELECT unnest(string_split($1, ',')::BIGINT[]))`,
      [picked.join(",")],
    );
    const [row, date, delay, distance, origin, destination] = result.getColumns() as [
      number[],
      number[],
      number[],
      number[],
      string[],
      string[],
    ];
    if (result.currentRowCount !== picked.length)
      throw new Error(
        `flights-3m.parquet: ${result.currentRowCount} of ${picked.length} sampled rows of ${m.name} read`,
      );
    const at = new Int32Array(n);
    for (let j = 0; j < row.length; j++) at[row[j]!] = j;
    const out: Flight[] = [];
    for (const i of picked) {
      const j = at[i]!;
      const ms = date[j]!;
      if (out.length === 0 && new Date(ms).toISOString().slice(0, 7) !== m.name)
        throw new Error(`flights-3m.parquet: row ${m.start + i} is not in ${m.name}`);
      const day = Math.floor(ms / DAY_MS);
      out.push({
        date: new Date(ms).toISOString().slice(0, 16),
        hour: Math.floor((ms - day * DAY_MS) / 60_000) / 60,
        weekday: (day + 4) % 7,
        distance: distance[j]!,
        origin: origin[j]!,
        destination: destination[j]!,
        delay: delay[j]!,
        delayed: delay[j]! > DELAY_THRESHOLD_MINUTES ? 1 : 0,
      });
    }
    return out;
  }
}

export const CSV_COLUMNS = [
  "date",
  "hour",
  "weekday",
  "distance",
  "origin",
  "destination",
  "delay",
  "delayed",
] as const;

export async function writeMonthCsv(file: string, flights: Flight[]): Promise<void> {
  const lines = [CSV_COLUMNS.join(",")];
  for (const f of flights) lines.push(CSV_COLUMNS.map((c) => f[c]).join(","));
  await writeFile(file, `${lines.join("\n")}\n`);
}

export function delayedShare(flights: Flight[]): number {
  return flights.length ? flights.reduce((s, f) => s + f.delayed, 0) / flights.length : 0;
}
