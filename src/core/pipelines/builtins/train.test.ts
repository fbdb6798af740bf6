import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BuiltinContext } from "./contract.js";
import { trainBuiltin } from "./train.js";

/** A small table where `y` is 1 exactly when x > 0.5, with a categorical column that does not matter. */
function table(dir: string, rows = 400): string {
  const lines = ["x,city,y"];
  for (let i = 0; i < rows; i++) {
    const x = ((i * 37) % 100) / 100;
    lines.push(`${x},${["ams", "bos", "cdg"][i % 3]},${x > 0.5 ? 1 : 0}`);
  }
  const file = join(dir, "t.csv");
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

function ctx(with_: unknown, outputs: Record<string, string>): BuiltinContext<never> {
  return {
    project: "p",
    pipeline: "pl",
    step: "train",
    runId: "r",
    stepRunId: "s",
    trackingRunId: null,
    actor: "tester",
    with: trainBuiltin.with.parse(with_) as never,
    inputs: {},
    outputs,
    artifacts: {},
    pinned: {},
    workdir: tmpdir(),
    workspace: null,
    log: () => undefined,
    signal: new AbortController().signal,
    services: {} as never,
  };
}

describe("tandem/train", () => {
  it("trains on a CSV (numbers read as numbers, strings as categories) and writes model.onnx", async () => {
    const dir = mkdtempSync(join(tmpdir(), "train-builtin-"));
    const out = join(dir, "model");
    mkdirSync(out);
    const data = table(dir);
    const res = await trainBuiltin.run(
      ctx({ algorithm: "logistic_regression", task: "binary_classification", data, target: "y" }, { model: out }),
    );
    expect(res?.metrics?.roc_auc).toBeGreaterThan(0.95);
    expect(Object.keys(res!.metrics!)).toEqual(expect.arrayContaining(["importance.x", "importance.city"]));
    const onnx = readFileSync(join(out, "model.onnx"));
    expect(onnx.toString("latin1")).toContain("tandem.signature");
    expect(JSON.parse(readFileSync(join(out, "metrics.json"), "utf8")).evaluated_on).toBe("test");
  });

  it("names what is wrong: a missing output, a missing column, an unknown param", async () => {
    const dir = mkdtempSync(join(tmpdir(), "train-builtin-"));
    const data = table(dir, 50);
    const base = { algorithm: "gradient_boosting", task: "binary_classification", data, target: "y" };
    await expect(trainBuiltin.run(ctx(base, {}))).rejects.toThrow(/with.output: the step declares no output "model"/);
    await expect(trainBuiltin.run(ctx({ ...base, features: ["x", "size"] }, { model: dir }))).rejects.toThrow(
      /has no column "size" \(columns: x, city, y\)/,
    );
    await expect(trainBuiltin.run(ctx({ ...base, params: { learning_rat: 0.1 } }, { model: dir }))).rejects.toThrow(
      /unknown param "learning_rat"/,
    );
  });
});
