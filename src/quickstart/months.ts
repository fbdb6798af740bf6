/**
 * The quickstart's data: months of real flights from vega-datasets' flights-3m.parquet (January–June
 * 2001, rows sorted by scheduled departure), sampled without replacement with a fixed seed, so every
 * run replays the same flights. Nothing is altered: what drifts is what the calendar changes.
 */
import { writeFile } from "node:fs/promises";
import { DELAY_THRESHOLD_MINUTES, flightsParquetPath, readFlights } from "../core/training/flights.js";
import { shuffledIndices } from "../core/training/data.js";

/**
 * Row ranges of each month in flights-3m.parquet, measured once by scanning its `date` column
 * (3 000 000 rows; six rows of 2001-07-01 at the end are left out). Reading a range decodes only the
 * row groups it spans, ~2 s a month instead of ~14 s for the whole file.
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

/** `rows` flights of month `index` (0 = January) with a known delay, in random order (seeded). */
export async function sampleMonth(index: number, rows: number, seed = 2001): Promise<Flight[]> {
  const m = MONTHS[index];
  if (!m) throw new Error(`month ${index + 1}: the data covers January to June 2001`);
  const t = await readFlights({ file: flightsParquetPath(), rowStart: m.start, rowEnd: m.end });
  const first = new Date(t.date[0]!).toISOString().slice(0, 7);
  if (first !== m.name) throw new Error(`flights-3m.parquet: row ${m.start} is in ${first}, expected ${m.name}`);
  const order = shuffledIndices(t.rows, seed + index);
  const out: Flight[] = [];
  for (let k = 0; k < order.length && out.length < rows; k++) {
    const i = order[k]!;
    const delay = t.delay[i]!;
    if (Number.isNaN(delay) || t.origin[i]! < 0 || t.destination[i]! < 0) continue;
    const ms = t.date[i]!;
    const day = Math.floor(ms / DAY_MS);
    out.push({
      date: new Date(ms).toISOString().slice(0, 16),
      hour: Math.floor((ms - day * DAY_MS) / 60_000) / 60,
      weekday: (day + 4) % 7,
      distance: t.distance[i]!,
      origin: t.airports[t.origin[i]!]!,
      destination: t.airports[t.destination[i]!]!,
      delay,
      delayed: delay > DELAY_THRESHOLD_MINUTES ? 1 : 0,
    });
  }
  return out;
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
