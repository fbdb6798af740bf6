/**
 * The examples/pipelines project through the real CLI: a full run, a fully cached second run, and
 * `-p` on one param rerunning exactly the steps that depend on it. Then the matrix sweep, and spec
 * errors from `tandem validate` with file:line:column.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, exampleCopy } from "./cli.js";

interface RunJson {
  status: string;
  steps: Array<{ name: string; status: string; cached: boolean; metrics: Record<string, number> }>;
}

const parse = (stdout: string) => JSON.parse(stdout) as RunJson;
const cachedOf = (r: RunJson) => Object.fromEntries(r.steps.map((s) => [s.name, s.cached]));

describe("examples/pipelines through the CLI", () => {
  const { dir, env } = exampleCopy("pipelines");

  it("runs, then serves every step from cache, then reruns only what a param change reaches", async () => {
    const first = await cli(["run", "ship", "--json"], { cwd: dir, env });
    expect(first.code, first.stderr).toBe(0);
    const r1 = parse(first.stdout);
    expect(r1.status).toBe("succeeded");
    expect(r1.steps.map((s) => [s.name, s.status, s.cached])).toEqual([
      ["lint", "succeeded", false],
      ["test", "succeeded", false],
      ["prepare", "succeeded", false],
      ["train", "succeeded", false],
      ["evaluate", "succeeded", false],
      ["package", "succeeded", false],
    ]);
    expect(first.stderr).toMatch(/✓ train/);
    const lock = readFileSync(join(dir, "tandem.lock"), "utf8");
    expect(lock).toContain("ship:");

    const second = await cli(["run", "ship", "--json"], { cwd: dir, env });
    expect(second.code, second.stderr).toBe(0);
    expect(Object.values(cachedOf(parse(second.stdout)))).toEqual([true, true, true, true, true, true]);

    const third = await cli(["run", "ship", "-p", "learning_rate=0.1", "--json"], { cwd: dir, env });
    expect(third.code, third.stderr).toBe(0);
    expect(cachedOf(parse(third.stdout))).toEqual({
      lint: true,
      test: true,
      prepare: true,
      train: false,
      evaluate: false,
      package: false,
    });

    const bad = await cli(["run", "ship", "-p", "epochs=many"], { cwd: dir, env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("param epochs: expected an integer");
  });

  it("sweeps a matrix and picks the best model", async () => {
    const res = await cli(["run", "sweep", "--json"], { cwd: dir, env });
    expect(res.code, res.stderr).toBe(0);
    const run = parse(res.stdout);
    const trains = run.steps.filter((s) => s.name.startsWith("train["));
    expect(trains.map((s) => s.name)).toEqual([
      "train[learning_rate=0.01]",
      "train[learning_rate=0.1]",
      "train[learning_rate=1]",
    ]);
    const best = trains.reduce((a, b) => (b.metrics.accuracy! > a.metrics.accuracy! ? b : a));
    const logs = await cli(["runs", "logs", (JSON.parse(res.stdout) as { id: string }).id, "--step", "pick"], {
      cwd: dir,
      env,
    });
    expect(logs.stdout).toContain(`best learning rate: ${/=(.*)\]/.exec(best.name)![1]}`);
  });

  it("validates the example without warnings, and warns about a script path that is not an input", async () => {
    const clean = await cli(["validate"], { cwd: dir, env });
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stderr).toBe("");
    // The lint step keyed on the files it names (cache: { files }, not the whole project folder),
    // and the script it runs among neither them nor its inputs.
    const spec = readFileSync(join(dir, "tandem.yaml"), "utf8");
    const unkeyed = spec.replace(
      /\n {10}code: steps\/lint\.js[^\n]*/,
      "\n        cache:\n          files: [README.md]",
    );
    expect(unkeyed).not.toBe(spec);
    writeFileSync(join(dir, "unkeyed.yaml"), unkeyed);
    const res = await cli(["validate", "unkeyed.yaml"], { cwd: dir, env });
    expect(res.code, res.stderr).toBe(0);
    const line = unkeyed.split("\n").findIndex((l) => l.includes("node steps/lint.js")) + 1;
    expect(res.stderr.trim()).toBe(
      `unkeyed.yaml:${line}:16: warning: pipelines.ship.steps.lint.run: steps.lint.run reads steps/lint.js, which neither its inputs: nor its cache: { files } cover: editing it will not rerun the step (add it to one of them)`,
    );
  });

  it("reports spec errors with file:line:column and exits 2", async () => {
    const spec = readFileSync(join(dir, "tandem.yaml"), "utf8").replace("needs: [lint]", "needs: [lnt]");
    writeFileSync(join(dir, "broken.yaml"), spec);
    const res = await cli(["validate", "broken.yaml"], { cwd: dir, env });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /broken\.yaml:\d+:\d+: pipelines\.ship\.steps\.test\.needs\[0\]: needs "lnt", which names no step/,
    );
  });
});
