// Logistic regression by gradient descent. Writes model.json to --out and metrics.json (training
// accuracy and loss per epoch) to the step's own directory, which Tandem collects into the run.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { data: { type: "string" }, lr: { type: "string" }, epochs: { type: "string" }, out: { type: "string" } },
});
const rows = JSON.parse(readFileSync(join(values.data, "train.json"), "utf8"));
const lr = Number(values.lr);
let w = [0, 0];
let bias = 0;
const metrics = [];
for (let epoch = 1; epoch <= Number(values.epochs); epoch++) {
  let gw = [0, 0];
  let gb = 0;
  let loss = 0;
  for (const r of rows) {
    const p = 1 / (1 + Math.exp(-(bias + w[0] * r.a + w[1] * r.b)));
    const e = p - r.label;
    gw = [gw[0] + e * r.a, gw[1] + e * r.b];
    gb += e;
    loss -= r.label * Math.log(p + 1e-12) + (1 - r.label) * Math.log(1 - p + 1e-12);
  }
  w = [w[0] - (lr * gw[0]) / rows.length, w[1] - (lr * gw[1]) / rows.length];
  bias -= (lr * gb) / rows.length;
  if (epoch % 50 === 0) metrics.push({ name: "loss", value: loss / rows.length, step: epoch });
}
const correct = rows.filter((r) => (bias + w[0] * r.a + w[1] * r.b > 0 ? 1 : 0) === r.label).length;
metrics.push({ name: "accuracy", value: correct / rows.length, step: Number(values.epochs) });
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, "model.json"), JSON.stringify({ weights: w, bias, learning_rate: lr }));
writeFileSync("metrics.json", JSON.stringify(metrics));
console.error(`trained: accuracy ${(correct / rows.length).toFixed(3)}`);
