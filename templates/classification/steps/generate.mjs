#!/usr/bin/env node
// Makes this template's data, so `tandem run train` works before you have any: customers of a
// subscription service and whether they churned. Replace this step with one that exports your
// own table (same columns, or change `features:` and expectations/customers.yaml to match).
//   node steps/generate.mjs --rows 600 --seed 7 --train <dir> --holdout <dir>
// Seeded: the same arguments give byte-identical files, so the step, the dataset version and
// training are served from cache on a second run.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const args = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, "")] = argv[i + 1];
for (const k of ["train", "holdout"]) if (!args[k]) throw new Error(`missing --${k}`);
const rows = Number(args.rows ?? 600);
let state = Number(args.seed ?? 7) >>> 0 || 1;
// xorshift32: a tiny deterministic generator (Math.random cannot be seeded).
const random = () => {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state / 4294967296;
};
const pick = (items) => items[Math.floor(random() * items.length)];

const header = "tenure_months,monthly_spend,support_calls,plan,region,churned";
const lines = [];
for (let i = 0; i < rows; i++) {
  const tenure = 1 + Math.floor(random() * 72);
  const spend = Math.round((10 + random() * 140) * 100) / 100;
  const calls = Math.floor(-Math.log(1 - random()) * 2);
  const plan = pick(["basic", "plus", "pro"]);
  const region = pick(["north", "south", "east", "west"]);
  const logit = 1.0 - 0.06 * tenure + 0.012 * spend + 0.5 * calls + { basic: 0.5, plus: 0, pro: -0.7 }[plan];
  const churned = random() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
  lines.push(`${tenure},${spend},${calls},${plan},${region},${churned}`);
}
// Four rows in five for training, the rest held out for evaluation (and for `beats: champion`).
const cut = Math.floor(rows * 0.8);
mkdirSync(args.train, { recursive: true });
mkdirSync(args.holdout, { recursive: true });
writeFileSync(join(args.train, "customers.csv"), [header, ...lines.slice(0, cut)].join("\n") + "\n");
writeFileSync(join(args.holdout, "customers.csv"), [header, ...lines.slice(cut)].join("\n") + "\n");
console.log(`generated ${cut} training and ${rows - cut} held-out customers`);
