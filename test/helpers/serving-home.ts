/**
 * A Tandem home ready to serve, for anything that then starts `tandem serve` or `tandem server` as
 * its own process (the serving crash test, bench/serving): `bytes` registered as NAME@1, aliased
 * champion, deployed as endpoint NAME following the alias, and a viewer token — what an application
 * calling a model would hold. The services are closed again before it returns. No vitest here: the
 * bench imports it too.
 */
import { loadConfig } from "../../src/config.js";
import { createServices } from "../../src/main.js";
import type { Services } from "../../src/server/services.js";
import { wireRegistry } from "../../src/wiring/registry.js";

/** `env` adds configuration, e.g. TANDEM_DATABASE_URL for a home whose metadata lives in Postgres. */
export async function prepareServingHome(
  home: string,
  name: string,
  bytes: Uint8Array,
  env: Record<string, string> = {},
): Promise<string> {
  const config = loadConfig({ TANDEM_HOME: home, ...env });
  const opened = await createServices(config);
  try {
    const services: Services = opened.services;
    if (!(services as Partial<Services>).registry) await wireRegistry({ config, sql: opened.sql, services });
    const blob = await services.artifacts.putBlob(bytes);
    await services.registry.registerVersion({
      actor: "admin",
      project: "default",
      name,
      artifact: { kind: "blob", sha256: blob.sha256, fileName: "model.onnx" },
    });
    await services.registry.setAlias({ actor: "admin", project: "default", ref: `${name}@1`, alias: "champion" });
    await services.serving.endpoints.deploy(
      "default",
      name,
      { model: name, primary: { kind: "alias", alias: "champion" } },
      "admin",
    );
    const made = await services.access.createToken(
      { userName: "admin", isAdmin: true, tokenId: null, tokenRole: null, tokenProject: null },
      { userName: "admin", name: "app", role: "viewer", project: "default", expiresAt: null },
    );
    return made.token;
  } finally {
    await opened.close();
  }
}
