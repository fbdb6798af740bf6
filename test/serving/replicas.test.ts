/**
 * Several processes on the same stores: a change made by another process (the embedded CLI, another
 * replica) reaches a running server and a standalone `tandem serve` replica through the change
 * counter, without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createServices, type OpenedServices } from "../../src/main.js";
import { startServeProcess } from "../../src/serving/serve-process.js";
import { wireRegistry } from "../../src/wiring/registry.js";
import type { Services } from "../../src/server/services.js";
import { linearClassifierOnnx } from "../helpers/onnx-models.js";
import { predict, registerOnnx, setAlias, startServingServer } from "./helpers.js";

const FEATURES = ["a", "b"];

async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await fn();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
    last = await fn();
  }
  return last;
}

describe("serving replicas", () => {
  let t: Awaited<ReturnType<typeof startServingServer>>;
  let other: OpenedServices;
  let replica: Awaited<ReturnType<typeof startServeProcess>>;

  beforeAll(async () => {
    t = await startServingServer({ background: true });
    // "Another process": its own services over the same database and artifact store.
    const env: Record<string, string> = {
      TANDEM_HOME: t.home,
      TANDEM_DATABASE_URL: `sqlite:${t.services.config.database.kind === "sqlite" ? t.services.config.database.file : ""}`,
    };
    other = await createServices(loadConfig(env));
    if (!(other.services as Partial<Services>).registry)
      await wireRegistry({ config: other.services.config, sql: other.sql, services: other.services });
    await registerOnnx(
      other.services,
      "default",
      "m",
      linearClassifierOnnx({ features: FEATURES, weights: [1, 1], bias: 0 }),
    );
    await registerOnnx(
      other.services,
      "default",
      "m",
      linearClassifierOnnx({ features: FEATURES, weights: [-1, -1], bias: 0 }),
    );
    await setAlias(other.services, "default", "m", 1, "champion");
    await other.services.serving.endpoints.deploy(
      "default",
      "m",
      { model: "m", primary: { kind: "alias", alias: "champion" } },
      "admin",
    );
    replica = await startServeProcess({
      config: loadConfig(env),
      host: "127.0.0.1",
      port: 0,
      project: "default",
      endpoints: ["m"],
      handleSignals: false,
    });
  }, 60_000);
  afterAll(async () => {
    await replica?.stop();
    await other?.close();
    await t?.stop();
  });

  it("a running server and a serve replica pick up a deployment and an alias move made elsewhere", async () => {
    const version = (url: string) => async () => {
      const r = await predict({ ...t, url }, "default", "m", [{ a: 1, b: 1 }]);
      return r.status === 200 ? (r.body.model_version as number) : r.status;
    };
    await waitFor("server serves v1", version(t.url), (v) => v === 1);
    await waitFor("replica serves v1", version(replica.url), (v) => v === 1);
    // The alias moves in the other process; both serving processes follow it.
    await setAlias(other.services, "default", "m", 2, "champion");
    await waitFor("server follows the alias to v2", version(t.url), (v) => v === 2);
    await waitFor("replica follows the alias to v2", version(replica.url), (v) => v === 2);
    const ready = await fetch(`${replica.url}/v2/models/m/ready`);
    expect(ready.status).toBe(200);
    // The replica mounts only serving routes.
    expect((await fetch(`${replica.url}/api/v1/projects/default/endpoints`)).status).toBe(404);
  });
});
