/**
 * The two small examples through the real CLI: a Python step (standard library only) logging into
 * its step's run through the MLflow REST API, and a software service released by test → build →
 * smoke → `tandem deployments record`.
 */
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, exampleCopy } from "../pipelines/cli.js";

interface RunJson {
  status: string;
  steps: Array<{ name: string; status: string; cached: boolean }>;
}

describe("examples/python-mlflow", () => {
  it("logs params, a metric curve and tags into the step's tracking run over plain HTTP", async () => {
    const { dir, env } = exampleCopy("python-mlflow");
    const run = await cli(["run", "fit", "--json"], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as RunJson).status).toBe("succeeded");
    const search = await cli(["runs", "search", "--experiment", "pipeline/fit", "--json"], { cwd: dir, env });
    expect(search.code, search.stderr).toBe(0);
    const runs = JSON.parse(search.stdout) as Array<{
      run_name: string;
      metrics: Record<string, number>;
      params: Record<string, string>;
      tags: Record<string, string>;
    }>;
    const step = runs.find((r) => r.tags["tandem.step"] === "fit");
    expect(step, search.stdout).toBeDefined();
    expect(step!.metrics.slope).toBeCloseTo(3, 1);
    expect(step!.metrics.intercept).toBeCloseTo(-1, 1);
    expect(step!.metrics.mse).toBeLessThan(0.2);
    expect(step!.params).toMatchObject({ epochs: "300", learning_rate: "0.05" });
    expect(step!.tags.framework).toBe("python-stdlib");
  });
});

describe("examples/service", () => {
  it("tests, builds, smoke-tests and records the deployment; a second run caches the build", async () => {
    const { dir, env } = exampleCopy("service");
    const withCli = {
      ...env,
      DEPLOY_CLI: `${process.execPath} ${resolve(import.meta.dirname, "../../bin/tandem.js")}`,
    };
    const first = await cli(["run", "release", "--json"], { cwd: dir, env: withCli });
    expect(first.code, first.stderr).toBe(0);
    const r1 = JSON.parse(first.stdout) as RunJson;
    expect(r1.steps.map((s) => [s.name, s.status])).toEqual([
      ["test", "succeeded"],
      ["build", "succeeded"],
      ["smoke", "succeeded"],
      ["deploy", "succeeded"],
    ]);
    const second = await cli(["run", "release", "--json"], { cwd: dir, env: withCli });
    expect(second.code, second.stderr).toBe(0);
    expect((JSON.parse(second.stdout) as RunJson).steps.map((s) => [s.name, s.cached])).toEqual([
      ["test", true],
      ["build", true],
      ["smoke", true],
      ["deploy", false],
    ]);
    const ls = await cli(["deployments", "ls", "--target", "greeter", "--json"], { cwd: dir, env });
    expect(ls.code, ls.stderr).toBe(0);
    const deployments = JSON.parse(ls.stdout) as Array<{
      kind: string;
      target: string;
      outcome: string;
      commit: string;
    }>;
    expect(deployments).toHaveLength(2);
    expect(deployments[0]).toMatchObject({
      kind: "service",
      target: "greeter",
      outcome: "succeeded",
      commit: "unversioned",
    });
  });
});
