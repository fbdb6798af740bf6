/**
 * Serving test helpers: register ONNX bytes as a model version through the real registry, move
 * aliases, and call the prediction routes of a listening server.
 */
import { wireRegistry } from "../../src/wiring/registry.js";
import type { Services } from "../../src/server/services.js";
import { startTestServer, type TestServer, type TestServerOptions } from "../helpers/server.js";

export async function startServingServer(
  options: TestServerOptions = {},
): Promise<TestServer & { services: Services }> {
  const t = await startTestServer(options);
  const services = t.server.opened.services;
  // The registry wires itself in main.ts; until that line lands, wire it here the same way.
  if (!(services as Partial<Services>).registry) {
    await wireRegistry({ config: services.config, sql: t.server.opened.sql, services });
  }
  return Object.assign(t, { services });
}

export async function registerOnnx(
  services: Services,
  project: string,
  name: string,
  bytes: Uint8Array,
): Promise<number> {
  const blob = await services.artifacts.putBlob(bytes);
  const result = await services.registry.registerVersion({
    actor: "admin",
    project,
    name,
    artifact: { kind: "blob", sha256: blob.sha256, fileName: "model.onnx" },
  });
  return result.version.version;
}

export async function setAlias(
  services: Services,
  project: string,
  name: string,
  version: number,
  alias: string,
): Promise<void> {
  await services.registry.setAlias({ actor: "admin", project, ref: `${name}@${version}`, alias });
}

export async function predict(
  t: TestServer,
  project: string,
  endpoint: string,
  instances: unknown[],
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; slot: string | null }> {
  const res = await fetch(`${t.url}/v1/endpoints/${endpoint}/predict`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${t.adminToken}`,
      "content-type": "application/json",
      "x-tandem-project": project,
      ...headers,
    },
    body: JSON.stringify({ instances }),
  });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown>,
    slot: res.headers.get("x-tandem-slot"),
  };
}

/** Syncs the runtime and runs one controller pass, as the background loops would. */
export async function settle(services: Services): Promise<void> {
  await services.serving.logger.flush();
  await services.serving.controller.tick();
  await services.serving.runtime.sync();
}
