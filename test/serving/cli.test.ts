/**
 * The serving commands as a user runs them, in embedded mode (no server): deploy, predict,
 * endpoints ls/show, deployments record/ls, and their exit codes.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createServices } from "../../src/main.js";
import type { Services } from "../../src/server/services.js";
import { wireRegistry } from "../../src/wiring/registry.js";
import { linearClassifierOnnx } from "../helpers/onnx-models.js";
import { registerOnnx, setAlias } from "./helpers.js";

const BIN = join(process.cwd(), "bin", "tandem.js");

describe("serving CLI", () => {
  const home = mkdtempSync(join(tmpdir(), "tandem-serving-cli-"));
  const env = { TANDEM_HOME: home, TANDEM_URL: "", TANDEM_TOKEN: "", TANDEM_PROJECT: "" };
  const tandem = (args: string[]) => {
    const res = spawnSync(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      encoding: "utf8",
      cwd: home,
    });
    return { code: res.status, stdout: res.stdout, stderr: res.stderr };
  };

  beforeAll(async () => {
    const opened = await createServices(loadConfig(env));
    if (!(opened.services as Partial<Services>).registry)
      await wireRegistry({ config: opened.services.config, sql: opened.sql, services: opened.services });
    await registerOnnx(
      opened.services,
      "default",
      "churn",
      linearClassifierOnnx({ features: ["a", "b"], weights: [1, 1], bias: 0 }),
    );
    await setAlias(opened.services, "default", "churn", 1, "champion");
    await opened.close();
    writeFileSync(join(home, "instances.json"), JSON.stringify({ instances: [{ a: 1, b: 2 }, [0, 0]] }));
  }, 60_000);
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  // Each spawn starts a CLI process; keep their number small (the suite's time budget).
  it("deploys, predicts, lists, and records deployments", () => {
    const deployed = tandem(["deploy", "churn@champion", "--endpoint", "churn", "--json"]);
    expect(deployed.stderr).toBe("");
    expect(deployed.code).toBe(0);
    expect(JSON.parse(deployed.stdout)).toMatchObject({ name: "churn", primary_version: 1 });

    const predicted = tandem(["predict", "churn", "--instances", "instances.json"]);
    expect(predicted.code).toBe(0);
    const body = JSON.parse(predicted.stdout) as {
      predictions: Array<{ label: number }>;
      model_version: number;
      prediction_ids: string[];
    };
    expect(body.model_version).toBe(1);
    expect(body.predictions.map((p) => p.label)).toEqual([1, 0]);

    expect(tandem(["endpoints", "ls"]).stdout).toMatch(/churn\s+churn@champion → 1/);
    expect(tandem(["deployments", "record", "web", "--commit", "abc123", "--environment", "prod"]).code).toBe(0);
  });

  it("uses the exit codes of DESIGN.md", () => {
    expect(tandem(["predict", "nope", "--instances", "instances.json"]).code).toBe(4);
    expect(tandem(["deploy", "churn", "--endpoint", "x"]).code).toBe(2);
    expect(tandem(["endpoints", "rollback", "churn"]).code).toBe(1);
  });
});
