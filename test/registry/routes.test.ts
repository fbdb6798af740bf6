/**
 * Every registry route answers what its schema says (validateResponses on), and bad input gets a
 * clear 4xx naming what is wrong — never a 500.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createServices, type OpenedServices } from "../../src/main.js";
import { buildServer } from "../../src/server/server.js";
import { tinyOnnx } from "../helpers/onnx.js";

const P = "/api/v1/projects/routes";

describe("registry routes", () => {
  let home: string;
  let opened: OpenedServices;
  let app: FastifyInstance;
  let auth: Record<string, string>;

  async function call(method: string, url: string, body?: unknown) {
    const raw = body instanceof Uint8Array;
    const res = await app.inject({
      method: method as "GET",
      url,
      headers: {
        ...auth,
        ...(body === undefined ? {} : { "content-type": raw ? "application/octet-stream" : "application/json" }),
      },
      payload: body === undefined ? undefined : raw ? Buffer.from(body) : JSON.stringify(body),
    });
    return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as Record<string, any>) : {} }; // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), "tandem-registry-routes-"));
    opened = await createServices(loadConfig({ TANDEM_HOME: home }));
    ({ app } = await buildServer({ services: opened.services, validateResponses: true }));
    auth = { authorization: `Bearer ${opened.firstAdminToken}` };
  });
  afterAll(async () => {
    await app?.close();
    await opened?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it("serve every read and write with responses that match their schemas", async () => {
    const up = await call("POST", `${P}/model-blobs`, tinyOnnx({ features: ["a"] }));
    expect(up.status).toBe(201);
    const reg = await call("POST", `${P}/models/m/versions`, {
      artifact: { kind: "blob", sha256: up.body.sha256, file_name: "m.onnx" },
      alias: "staging",
      tags: { k: "v" },
    });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    expect(reg.body.promotion.status).toBe("applied");
    expect(
      (
        await call("PUT", `${P}/policies`, {
          policies: { gate: { accept_manual: true, require: [{ metric: "f1 >= 0.9" }] } },
        })
      ).status,
    ).toBe(200);
    expect((await call("GET", `${P}/policies`)).body.policies.gate).toBeDefined();
    for (const url of [
      `${P}/models`,
      `${P}/models/m`,
      `${P}/models/m/versions/1`,
      `${P}/models/m/versions/staging`,
      `${P}/models/m/versions/latest/lineage`,
      `${P}/models/m/versions/1/artifact`,
      `${P}/models/m/versions/1/evaluations`,
      `${P}/models/m/versions/1/decisions`,
      `${P}/models/m/aliases`,
      `${P}/models/m/aliases/staging/history`,
      `${P}/promotion-requests?status=applied`,
      `${P}/lineage/datasets/x%401/models`,
    ]) {
      const res = await call("GET", url);
      expect(res.status, `${url}: ${JSON.stringify(res.body)}`).toBe(200);
    }
    const ev = await call("POST", `${P}/models/m/versions/1/evaluations`, {
      dataset: "d@1",
      metrics: { f1: 0.5 },
      fairness: { g: { metrics: { selection_rate: 0.3 }, by_group: { a: { accuracy: 0.9 } } } },
    });
    expect(ev.status).toBe(201);
    const refused = await call("PUT", `${P}/models/m/aliases/prod`, { version: 1 });
    expect(refused.status).toBe(409);
    expect(refused.body.error.details.checks[0]).toMatchObject({ check: "f1 >= 0.9", value: 0.5, outcome: "fail" });
    expect((await call("PATCH", `${P}/models/m`, { description: "d" })).status).toBe(200);
    expect((await call("PATCH", `${P}/models/m/versions/1`, { description: "v" })).status).toBe(200);
    expect((await call("PUT", `${P}/models/m/versions/1/tags/t`, { value: "1" })).status).toBe(200);
    expect((await call("PUT", `${P}/models/m/tags/t`, { value: "1" })).status).toBe(200);
    expect((await call("POST", `${P}/models`, { name: "empty" })).status).toBe(201);
    expect((await call("DELETE", `${P}/models/m/aliases/staging`)).status).toBe(200);
    expect((await call("DELETE", `${P}/models/empty`)).status).toBe(200);
    const card = await app.inject({ method: "GET", url: `${P}/models/m/versions/1/card`, headers: auth });
    expect(JSON.parse(card.body)).toMatchObject({
      model: "m",
      version: 1,
      training: { source_run_id: expect.any(String) },
    });
  });

  it("answer bad input with a 4xx that names the problem", async () => {
    const up = await call("POST", `${P}/model-blobs`, tinyOnnx({ features: ["b"] }));
    const missingRun = await call("POST", `${P}/models/m/versions`, {
      artifact: { kind: "blob", sha256: up.body.sha256, file_name: "m.onnx" },
      run_id: "nope",
    });
    expect(missingRun.status).toBe(404);
    expect(missingRun.body.error.message).toBe("run nope does not exist in project routes");
    const cases: Array<[string, string, unknown, number, RegExp]> = [
      ["GET", `${P}/models/nope`, undefined, 404, /model nope does not exist/],
      ["GET", `${P}/models/m/versions/9`, undefined, 404, /m@9 does not exist/],
      ["GET", `${P}/models/m/versions/champion`, undefined, 404, /no alias champion/],
      [
        "POST",
        `${P}/models/m/versions`,
        { artifact: { kind: "blob", sha256: "zz", file_name: "m.onnx" } },
        400,
        /sha256/,
      ],
      [
        "POST",
        `${P}/models/m/versions`,
        { artifact: { kind: "blob", sha256: "a".repeat(64), file_name: "m.onnx" } },
        400,
        /not in the artifact store/,
      ],
      [
        "POST",
        `${P}/models/bad%20name/versions`,
        { artifact: { kind: "blob", sha256: "a".repeat(64), file_name: "m.onnx" } },
        400,
        /model name "bad name" is not valid/,
      ],
      ["PUT", `${P}/models/m/aliases/latest`, { version: 1 }, 400, /"latest" and "v<N>" are reserved/],
      ["POST", `${P}/models/m/aliases/prod/rollback`, {}, 409, /no earlier version/],
      [
        "PUT",
        `${P}/policies`,
        { policies: { p: { require: [{ metric: "f1 is high" }] } } },
        400,
        /policies\.p\.require.*metric.*cannot read "f1 is high"/,
      ],
      ["POST", `${P}/models/m/versions/1/evaluations`, { dataset: "d", metrics: { f1: "x" } }, 400, /metrics/],
    ];
    for (const [method, url, body, status, message] of cases) {
      const res = await call(method, url, body);
      expect(res.status, `${method} ${url}: ${JSON.stringify(res.body)}`).toBe(status);
      const error = res.body.error as { message: string; details?: unknown };
      expect(`${error.message} ${JSON.stringify(error.details ?? null)}`).toMatch(message);
    }
  });
});
