#!/usr/bin/env node
// Prepare features for the flights model: one row per flight with a known outcome.
//   node steps/prepare.mjs --in <table or dir> [--in <more> …] --train <dir> --test <dir> [--test-share 0.2]
// With several --in, the earlier tables all go to training and only the last one is split: a retrain
// learns from the old months plus the fresh traffic, and is tested on fresh flights only.
// Input: a month written by `tandem quickstart` (CSV: date, hour, weekday, distance, origin,
// destination, delay, delayed) or an endpoint's exported traffic (JSON Lines: the request's
// features, prediction, target, at). Output: train.csv and test.csv with
//   hour, weekday, distance, origin, destination  — the model's inputs (airports stay codes: the
//                                                   trainer encodes them as categories)
//   origin_size   — small / medium / large by the origin's share of the flights here, for the
//                   fairness step (do small-airport flights get much worse recall?)
//   delayed       — 1 when the flight arrived more than 15 minutes late
// The split is by a hash of the row's content, so the same flight always lands on the same side.
import crypto from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const args = { in: [] };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, "");
  if (key === "in") args.in.push(argv[i + 1]);
  else args[key] = argv[i + 1];
}
for (const k of ["train", "test"]) if (!args[k]) throw new Error(`missing --${k}`);
if (args.in.length === 0) throw new Error("missing --in");
const testShare = Number(args["test-share"] ?? 0.2);

function tableFile(path) {
  if (statSync(path).isFile()) return path;
  const files = readdirSync(path).filter((f) => /\.(csv|jsonl)$/.test(f));
  if (files.length !== 1) throw new Error(`${path}: expected one .csv or .jsonl file, found ${files.length}`);
  return join(path, files[0]);
}

function readRows(file) {
  const text = readFileSync(file, "utf8");
  if (file.endsWith(".jsonl"))
    return text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  const [header, ...lines] = text.split("\n").filter(Boolean);
  const names = header.split(",");
  return lines.map((l) => {
    const values = l.split(",");
    const row = {};
    for (let i = 0; i < names.length; i++) row[names[i]] = values[i];
    return row;
  });
}

const num = (v) => (v === null || v === undefined || v === "" ? NaN : Number(v));
const flights = [];
let rowCount = 0;
for (const [k, input] of args.in.entries()) {
  const fresh = k === args.in.length - 1;
  const rows = readRows(tableFile(input));
  rowCount += rows.length;
  for (const r of rows) {
    // Traffic exports call the true label `target`; months carry `delayed` (and the raw delay).
    let delayed = num(r.delayed ?? r.target);
    if (Number.isNaN(delayed) && r.delay !== undefined) delayed = num(r.delay) > 15 ? 1 : num(r.delay) <= 15 ? 0 : NaN;
    let hour = num(r.hour);
    let weekday = num(r.weekday);
    if ((Number.isNaN(hour) || Number.isNaN(weekday)) && r.date) {
      // Scheduled local time written without a zone: read it as UTC so no zone shifts it.
      const d = new Date(`${String(r.date).replace(" ", "T").replace(/Z$/, "")}Z`);
      hour = d.getUTCHours() + d.getUTCMinutes() / 60;
      weekday = d.getUTCDay();
    }
    const distance = num(r.distance);
    if (Number.isNaN(delayed) || Number.isNaN(hour) || Number.isNaN(distance) || !r.origin || !r.destination) continue;
    flights.push({ hour, weekday, distance, origin: r.origin, destination: r.destination, delayed, fresh });
  }
}
if (flights.length === 0) throw new Error(`${args.in.join(", ")}: no labelled flights`);

// Airport size by share of departures in this table: the busiest airports that together carry half
// the flights are "large", the long tail carrying the last 10% is "small".
const counts = new Map();
for (const f of flights) counts.set(f.origin, (counts.get(f.origin) ?? 0) + 1);
const bySize = [...counts.entries()].sort((a, b) => b[1] - a[1]);
const size = new Map();
let cumulative = 0;
for (const [airport, n] of bySize) {
  size.set(
    airport,
    cumulative < 0.5 * flights.length ? "large" : cumulative < 0.9 * flights.length ? "medium" : "small",
  );
  cumulative += n;
}

// crypto.hash (Node 20.12+) hashes a short string without a Hash object per row (a third of the CPU).
const sha256 = crypto.hash
  ? (text) => crypto.hash("sha256", text, "buffer")
  : (text) => crypto.createHash("sha256").update(text).digest();
const columns = ["hour", "weekday", "distance", "origin", "destination", "origin_size", "delayed"];
const out = { train: [columns.join(",")], test: [columns.join(",")] };
const tally = { train: 0, test: 0, small: 0 };
for (const f of flights) {
  const line = [f.hour, f.weekday, f.distance, f.origin, f.destination, size.get(f.origin), f.delayed].join(",");
  const h = sha256(line).readUInt32BE(0) / 2 ** 32;
  const side = f.fresh && h < testShare ? "test" : "train";
  out[side].push(line);
  tally[side]++;
  if (size.get(f.origin) === "small") tally.small++;
}
for (const side of ["train", "test"]) {
  mkdirSync(args[side], { recursive: true });
  writeFileSync(join(args[side], `${side}.csv`), `${out[side].join("\n")}\n`);
}
const delayedShare = flights.reduce((s, f) => s + f.delayed, 0) / flights.length;
console.log(
  `${flights.length} labelled flights of ${rowCount} rows: ${tally.train} train, ${tally.test} test; ` +
    `${counts.size} origin airports (${tally.small} flights from small ones); delayed share ${delayedShare.toFixed(3)}`,
);
