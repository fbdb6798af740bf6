import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mountWebUi, staticFileFor } from "../../src/server/web-ui.js";

describe("web UI static serving", () => {
  let root: string;
  let app: FastifyInstance;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "tandem-webui-"));
    mkdirSync(join(root, "assets"));
    writeFileSync(join(root, "index.html"), "<!doctype html><title>ui</title>");
    writeFileSync(join(root, "assets", "app-1234.js"), "console.log(1)");
    writeFileSync(join(tmpdir(), "tandem-secret-outside.txt"), "secret");
    app = Fastify();
    await mountWebUi(app, root);
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("names only files inside the root", () => {
    expect(staticFileFor(root, "/assets/app-1234.js")).toBe(join("assets", "app-1234.js"));
    expect(staticFileFor(root, "/../tandem-secret-outside.txt")).toBeNull();
    expect(staticFileFor(root, "/%2e%2e/tandem-secret-outside.txt")).toBeNull();
    expect(staticFileFor(root, "/assets")).toBeNull();
    expect(staticFileFor(root, "/%E0%A4%A")).toBeNull();
    expect(staticFileFor(root, "/a%00b")).toBeNull();
  });

  it("serves hashed assets for a year, and index.html for client routes without caching", async () => {
    const asset = await app.inject({ method: "GET", url: "/assets/app-1234.js" });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers["cache-control"]).toContain("immutable");
    const route = await app.inject({ method: "GET", url: "/p/default/models/churn/2?x=1" });
    expect(route.statusCode).toBe(200);
    expect(route.body).toContain("<title>ui</title>");
    expect(route.headers["cache-control"]).toBe("no-cache");
    expect(route.headers["content-security-policy"]).toContain("script-src 'self'");
  });

  it("keeps unknown API paths JSON 404s", async () => {
    for (const url of ["/api/v1/nope", "/v1/endpoints/x/nope", "/v2/nope"]) {
      const res = await app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code).toBe("NOT_FOUND");
    }
    // MLflow's paths answer in MLflow's error shape.
    const mlflow = await app.inject({ method: "GET", url: "/ajax-api/2.0/mlflow/nope" });
    expect(mlflow.statusCode).toBe(404);
    expect(mlflow.json().error_code).toBe("RESOURCE_DOES_NOT_EXIST");
  });
});
