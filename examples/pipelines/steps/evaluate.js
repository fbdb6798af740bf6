// Accuracy of the model on the held-out rows, as a metric of this step.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { model: { type: "string" }, data: { type: "string" } } });
const model = JSON.parse(readFileSync(join(values.model, "model.json"), "utf8"));
const rows = JSON.parse(readFileSync(join(values.data, "test.json"), "utf8"));
const predict = (r) => (model.bias + model.weights[0] * r.a + model.weights[1] * r.b > 0 ? 1 : 0);
const accuracy = rows.filter((r) => predict(r) === r.label).length / rows.length;
writeFileSync("metrics.json", JSON.stringify({ accuracy }));
console.error(`held-out accuracy ${accuracy.toFixed(3)}`);
