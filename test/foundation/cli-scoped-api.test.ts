/**
 * An embedded command's scoped app (src/cli/api-scopes.ts: some areas, their routes) keeps the whole
 * app's guard: an unknown token is refused (401), a token of another project or one limited to tracking is
 * refused (403), a stranger to the project is refused (403), and the admin's token reads. Each scope
 * is asked for one of its reads, in-process as the CLI asks.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, TandemApi, type ApiScope } from "../../src/cli/api.js";
import {
  DATA_API,
  MODELS_LIST_API,
  MONITORING_READ_API,
  PIPELINES_READ_API,
  SERVING_READ_API,
  TRACKING_READ_API,
} from "../../src/cli/api-scopes.js";
import { loadConfig } from "../../src/config.js";
import type { Principal } from "../../src/core/governance/model.js";
import { createServices } from "../../src/main.js";

const PROJECT = "scoped";
const home = mkdtempSync(join(tmpdir(), "tandem-scoped-api-"));
const tokens: Record<"admin" | "tracking" | "otherProject" | "stranger", string> = {
  admin: "",
  tracking: "",
  otherProject: "",
  stranger: "",
};

/** A read of each scope, and whether a token limited to tracking may make it. */
const READS: Array<{ scope: ApiScope; name: string; path: string; trackingMay: boolean }> = [
  { scope: PIPELINES_READ_API, name: "pipelines", path: "/pipeline-runs", trackingMay: false },
  { scope: TRACKING_READ_API, name: "tracking", path: "/experiments", trackingMay: true },
  { scope: MODELS_LIST_API, name: "models", path: "/models", trackingMay: false },
  { scope: SERVING_READ_API, name: "serving", path: "/endpoints", trackingMay: false },
  { scope: MONITORING_READ_API, name: "alerts", path: "/alerts", trackingMay: false },
  { scope: MONITORING_READ_API, name: "monitors", path: "/monitors", trackingMay: false },
  { scope: DATA_API, name: "data", path: "/datasets", trackingMay: false },
];

beforeAll(async () => {
  const opened = await createServices(loadConfig({ TANDEM_HOME: home }));
  try {
    const access = opened.services.access;
    tokens.admin = opened.firstAdminToken!;
    const admin: Principal = await access.authenticate(tokens.admin);
    await access.ensureProject(PROJECT, admin.userName);
    await access.ensureProject("elsewhere", admin.userName);
    const made = (options: Parameters<typeof access.createToken>[1]) =>
      access.createToken(admin, options).then((t) => t.token);
    tokens.tracking = await made({ userName: admin.userName, name: "tracking only", scope: "tracking" });
    tokens.otherProject = await made({ userName: admin.userName, name: "elsewhere only", project: "elsewhere" });
    await access.addUser(admin.userName, { name: "stranger" });
    tokens.stranger = await made({ userName: "stranger", name: "stranger's" });
  } finally {
    await opened.close();
  }
});

const apis: TandemApi[] = [];
afterAll(async () => {
  for (const api of apis) await api.close();
});

async function statusOf(scope: ApiScope, token: string, path: string): Promise<number> {
  const config = { ...loadConfig({ TANDEM_HOME: home }), token };
  const api = await TandemApi.connect(config, scope);
  apis.push(api);
  return (await api.raw("GET", `/api/v1/projects/${PROJECT}${path}`)).status;
}

describe("a scoped embedded app keeps the guard", () => {
  for (const read of READS) {
    it(`${read.name}: refuses an unknown token, another project's, tracking-only and a stranger's; reads with the admin's`, async () => {
      expect(await statusOf(read.scope, tokens.admin, read.path)).toBe(200);
      expect(await statusOf(read.scope, "tdm_not_a_token", read.path)).toBe(401);
      expect(await statusOf(read.scope, tokens.otherProject, read.path)).toBe(403);
      expect(await statusOf(read.scope, tokens.stranger, read.path)).toBe(403);
      expect(await statusOf(read.scope, tokens.tracking, read.path)).toBe(read.trackingMay ? 200 : 403);
    });
  }

  it("an error from the scoped app is the API's error, as from the whole app", async () => {
    const config = { ...loadConfig({ TANDEM_HOME: home }), token: tokens.tracking };
    const api = await TandemApi.connect(config, PIPELINES_READ_API);
    apis.push(api);
    const error = await api.get(`/api/v1/projects/${PROJECT}/pipeline-runs`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(403);
    expect((error as ApiError).message).toMatch(/tracking/);
  });
});
