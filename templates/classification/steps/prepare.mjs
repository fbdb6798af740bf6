#!/usr/bin/env node
// The retrain's data: every customer the model was trained on, plus the labelled traffic the
// endpoint logged since (exported by `tandem/export-traffic`). The fresh traffic is split: four in
// five rows join training, the rest are the held-out rows the challenger and the champion are both
// evaluated on, so `beats: champion` compares them on today's customers.
//   node steps/prepare.mjs --base <dir> --fresh <dir> --train <dir> --holdout <dir>
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const COLUMNS = ["tenure_months", "monthly_spend", "support_calls", "plan", "region", "churned"];
const args = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, "")] = argv[i + 1];
for (const k of ["base", "fresh", "train", "holdout"]) if (!args[k]) throw new Error(`missing --${k}`);

function tableFile(path) {
  if (statSync(path).isFile()) return path;
  const files = readdirSync(path).filter((f) => /\.(csv|jsonl)$/.test(f));
  if (files.length !== 1) throw new Error(`${path}: expected one .csv or .jsonl file, found ${files.length}`);
  return join(path, files[0]);
}

function readRows(file) {
  const text = readFileSync(file, "utf8");
  if (file.endsWith(".jsonl"))
    return (
      text
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        // Exported traffic carries the true label as the model's target name, or `target`.
        .map((r) => ({ ...r, churned: r.churned ?? r.target }))
    );
  const [header, ...lines] = text.split("\n").filter(Boolean);
  const names = header.split(",");
  return lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [names[i], v])));
}

const line = (r) => COLUMNS.map((c) => r[c] ?? "").join(",");
const base = readRows(tableFile(args.base)).map(line);
const fresh = readRows(tableFile(args.fresh))
  .filter((r) => r.churned !== null && r.churned !== undefined)
  .map(line);
// By a hash of the row, so the same customer always lands on the same side.
const held = (l) => createHash("sha256").update(l).digest()[0] < 52;
const train = [...base, ...fresh.filter((l) => !held(l))];
const holdout = fresh.filter(held);
mkdirSync(args.train, { recursive: true });
mkdirSync(args.holdout, { recursive: true });
writeFileSync(join(args.train, "customers.csv"), [COLUMNS.join(","), ...train].join("\n") + "\n");
writeFileSync(join(args.holdout, "customers.csv"), [COLUMNS.join(","), ...holdout].join("\n") + "\n");
console.log(
  `training on ${train.length} rows (${base.length} known, ${fresh.length} fresh); ${holdout.length} held out`,
);
