/**
 * Serving inside pipelines and specs: the `tandem/deploy` built-in step, and `endpoints:` of an
 * applied tandem.yaml (deployed on apply, untouched when applied again unchanged).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuiltinContext, BuiltinServices } from "../../src/core/pipelines/builtins/contract.js";
import { deployBuiltin } from "../../src/core/pipelines/builtins/deploy.js";
import { linearClassifierOnnx } from "../helpers/onnx-models.js";
import { registerOnnx, setAlias, startServingServer } from "./helpers.js";
import type { PipelineService } from "../../src/core/pipelines/service.js";

describe("serving in pipelines and specs", () => {
  let t: Awaited<ReturnType<typeof startServingServer>>;
  const P = "pipe-serving";

  beforeAll(async () => {
    t = await startServingServer();
    const bytes = linearClassifierOnnx({ features: ["a"], weights: [1], bias: 0 });
    await registerOnnx(t.services, P, "m", bytes);
    await registerOnnx(t.services, P, "m", linearClassifierOnnx({ features: ["a"], weights: [2], bias: 0 }));
    await setAlias(t.services, P, "m", 1, "champion");
    await setAlias(t.services, P, "m", 2, "challenger");
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  it("tandem/deploy deploys under the policies and reports the versions as metrics", async () => {
    const lines: string[] = [];
    const ctx = {
      project: P,
      actor: "admin",
      with: deployBuiltin.with.parse({ model: "m@champion", endpoint: "from-step", canary: "challenger:25" }),
      log: (line: string) => lines.push(line),
      services: t.services as unknown as BuiltinServices,
    } as unknown as BuiltinContext<ReturnType<typeof deployBuiltin.with.parse>>;
    const result = await deployBuiltin.run(ctx);
    expect(result).toEqual({ metrics: { primary_version: 1, canary_version: 2 } });
    expect(lines.join("\n")).toContain("canary m@2 (25%)");
    expect(() => deployBuiltin.with.parse({ model: "m", endpoint: "x" })).toThrow(/name@alias/);
  });

  it("deploys the endpoints of an applied tandem.yaml, once", async () => {
    const pipelines = (t.services as unknown as { pipelines?: PipelineService }).pipelines;
    expect(pipelines, "the pipelines area is wired").toBeDefined();
    const source = [
      `project: ${P}`,
      "endpoints:",
      "  from-spec:",
      "    model: m@champion",
      "    canary: { alias: challenger, percent: 10 }",
      "    shadow: { alias: challenger, percent: 50 }",
      "",
    ].join("\n");
    await pipelines!.specs.apply("admin", P, { source, role: "admin" });
    const e = await t.services.serving.endpoints.get(P, "from-spec");
    expect(e).toMatchObject({ primaryVersion: 1, canaryVersion: 2, shadowPercent: 50, revision: expect.any(Number) });
    await pipelines!.specs.apply("admin", P, { source: `${source}# unchanged endpoints\n`, role: "admin" });
    expect((await t.services.serving.endpoints.get(P, "from-spec")).revision).toBe(e.revision);
  });
});
