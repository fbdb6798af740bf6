/**
 * A model whose features are named like Object.prototype's members (`constructor`, `toString`):
 * a request without them is 422 naming the missing feature, as for any other name. Before, the
 * lookup found Object.prototype's function and answered "… is numeric: expected a number, got …".
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { linearClassifierOnnx } from "../helpers/onnx-models.js";
import { predict, registerOnnx, setAlias, startServingServer } from "./helpers.js";

describe("features named like prototype members", () => {
  let t: Awaited<ReturnType<typeof startServingServer>>;
  beforeAll(async () => {
    t = await startServingServer();
    const bytes = linearClassifierOnnx({ features: ["constructor", "toString", "x"], weights: [1, 1, 1], bias: 0 });
    await setAlias(
      t.services,
      "default",
      "protos",
      await registerOnnx(t.services, "default", "protos", bytes),
      "champion",
    );
    expect((await t.api("PUT", "/api/v1/projects/default/endpoints/protos", { model: "protos@champion" })).status).toBe(
      200,
    );
    await t.services.serving.runtime.sync();
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  it("answers with them given, and 422 naming the first one missing", async () => {
    expect((await predict(t, "default", "protos", [{ constructor: 1, toString: 2, x: 3 }])).status).toBe(200);
    for (const [instance, missing] of [
      [{ toString: 2, x: 3 }, "constructor"],
      [{ constructor: 1, x: 3 }, "toString"],
    ] as const) {
      const r = await predict(t, "default", "protos", [instance]);
      expect(r.status, missing).toBe(422);
      expect(JSON.stringify(r.body)).toContain(`instances[0]: missing feature \\"${missing}\\"`);
    }
  });
});
