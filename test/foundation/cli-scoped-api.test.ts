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
  GATES_READ_API,
  GOVERNANCE_READ_API,
  LLM_READ_API,
  MODEL_LINEAGE_API,
  MODELS_READ_API,
  MONITORING_READ_API,
  PIPELINES_READ_API,
  SERVING_READ_API,
  TRACKING_READ_API,
} from "../../src/cli/api-scopes.js";
import { loadConfig } from "../../src/config.js";
import type { Principal } from "../../src/core/governance/model.js";
import { createServices } from "../../src/main.js";
import type { Services } from "../../src/server/services.js";
import { wireRegistry } from "../../src/wiring/registry.js";

const PROJECT = "scoped";
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
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
  { scope: MODELS_READ_API, name: "models", path: "/models", trackingMay: false },
  { scope: SERVING_READ_API, name: "serving", path: "/endpoints", trackingMay: false },
  { scope: MONITORING_READ_API, name: "alerts", path: "/alerts", trackingMay: false },
  { scope: MONITORING_READ_API, name: "monitors", path: "/monitors", trackingMay: false },
  { scope: DATA_API, name: "data", path: "/datasets", trackingMay: false },
  { scope: GOVERNANCE_READ_API, name: "members", path: "/members", trackingMay: false },
  { scope: GOVERNANCE_READ_API, name: "audit", path: "/audit", trackingMay: false },
  { scope: GATES_READ_API, name: "aliases", path: "/models/churn/aliases", trackingMay: false },
  { scope: GATES_READ_API, name: "policies", path: "/policies", trackingMay: false },
  { scope: LLM_READ_API, name: "prompts", path: "/prompts", trackingMay: false },
  { scope: LLM_READ_API, name: "traces", path: "/traces", trackingMay: false },
];

beforeAll(async () => {
  const config = loadConfig({ TANDEM_HOME: home });
  const opened = await createServices(config);
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
    // A version with lineage (datasets, git commit on the run recorded for it) and an alias, for
    // `models show`, whose scope leaves tracking and pipelines out.
    const services: Services = opened.services;
    if (!(services as Partial<Services>).registry) await wireRegistry({ config, sql: opened.sql, services });
    const blob = await services.artifacts.putBlob(new TextEncoder().encode("not really onnx"));
    await services.registry.registerVersion({
      actor: admin.userName,
      project: PROJECT,
      name: "churn",
      artifact: { kind: "blob", sha256: blob.sha256, fileName: "model.bin" },
      lineage: { datasetVersions: ["flights@2"], gitCommit: "0123456789abcdef0123456789abcdef01234567" },
    });
    await services.registry.setAlias({ actor: admin.userName, project: PROJECT, ref: "churn@1", alias: "champion" });
    // Two versions of a prompt, an alias and a trace, for `prompts show|diff|history` and `traces show`.
    const prompts = services.llm.prompts;
    const content = (text: string) => ({ messages: [{ role: "user" as const, content: text }] });
    await prompts.createVersion(admin.userName, PROJECT, "greet", content("Hello {{name}}"));
    await prompts.createVersion(admin.userName, PROJECT, "greet", content("Hi {{name}}, welcome"));
    await prompts.setAlias(admin.userName, PROJECT, "greet@2", "production");
    await services.llm.traces.ingest(PROJECT, [
      {
        traceId: TRACE_ID,
        spanId: "00f067aa0ba902b7",
        parentSpanId: null,
        name: "chat greet",
        kind: "CLIENT",
        startNs: "1700000000000000000",
        endNs: "1700000000250000000",
        attributes: { "gen_ai.request.model": "stand-in", "gen_ai.usage.input_tokens": 12 },
        events: [],
        status: { code: 0, message: "" },
        resource: {},
      },
    ]);
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

describe("models show through its scope", () => {
  it("answers as the whole app does: the model, a version by number and by alias, with lineage", async () => {
    const config = { ...loadConfig({ TANDEM_HOME: home }), token: tokens.admin };
    const scoped = await TandemApi.connect(config, MODELS_READ_API);
    const whole = await TandemApi.connect(config);
    apis.push(scoped, whole);
    for (const path of ["/models/churn", "/models/churn/versions/1", "/models/churn/versions/champion"]) {
      const url = `/api/v1/projects/${PROJECT}${path}`;
      const answer = await scoped.get<Record<string, unknown>>(url);
      expect(answer).toEqual(await whole.get(url));
    }
    const version = await scoped.get<{ lineage: { dataset_versions: string[]; git_commit: string } }>(
      `/api/v1/projects/${PROJECT}/models/churn/versions/1`,
    );
    expect(version.lineage.dataset_versions).toEqual(["flights@2"]);
    expect(version.lineage.git_commit).toBe("0123456789abcdef0123456789abcdef01234567");
  });
});

/** A response body as two apps would give it alike: each error carries its own request id. */
const comparable = (body: Buffer) => body.toString().replace(/"request_id":"[0-9a-f]+"/, '"request_id":"…"');

/** Every token's answer (status and body) from the scoped app equals the whole app's, for each path. */
async function answersAsWholeApp(scope: ApiScope, paths: string[]): Promise<void> {
  for (const token of Object.values(tokens)) {
    const config = { ...loadConfig({ TANDEM_HOME: home }), token };
    const scoped = await TandemApi.connect(config, scope);
    const whole = await TandemApi.connect(config);
    apis.push(scoped, whole);
    for (const path of paths) {
      const url = `/api/v1/projects/${PROJECT}${path}`;
      const [a, b] = await Promise.all([scoped.raw("GET", url), whole.raw("GET", url)]);
      expect({ path, status: a.status, body: comparable(a.body) }).toEqual({
        path,
        status: b.status,
        body: comparable(b.body),
      });
    }
  }
}

describe("lineage and model card through their scope", () => {
  it("answer as the whole app does, for every token", async () => {
    await answersAsWholeApp(MODEL_LINEAGE_API, [
      "/models/churn/versions/1/lineage",
      "/models/churn/versions/champion/card?format=md",
      "/models/churn/versions/1/card?format=json",
      "/lineage/datasets/flights@2/models",
      "/models/churn/versions/9/lineage",
    ]);
  });
});

describe("aliases, decisions and policies through their scope", () => {
  it("answer as the whole app does, for every token", async () => {
    await answersAsWholeApp(GATES_READ_API, [
      "/models/churn/aliases",
      "/models/churn/aliases/champion/history",
      "/models/churn/versions/1/decisions",
      "/models/nope/aliases",
      "/policies",
    ]);
  });
});

describe("prompts and traces through their scope", () => {
  it("answer as the whole app does, for every token: ls, show by number and alias, diff, history, traces", async () => {
    await answersAsWholeApp(LLM_READ_API, [
      "/prompts",
      "/prompts/greet/versions/latest",
      "/prompts/greet/versions/1",
      "/prompts/greet/versions/production",
      "/prompts/greet/diff?a=1&b=2",
      "/prompts/greet/history",
      "/prompts/nope/versions/1",
      "/traces",
      `/traces/${TRACE_ID}`,
    ]);
    const admin = await TandemApi.connect({ ...loadConfig({ TANDEM_HOME: home }), token: tokens.admin }, LLM_READ_API);
    apis.push(admin);
    const shown = await admin.get<{ version: number; aliases: string[] }>(
      `/api/v1/projects/${PROJECT}/prompts/greet/versions/production`,
    );
    expect(shown.version).toBe(2);
    const trace = await admin.get<{ spans: unknown[] }>(`/api/v1/projects/${PROJECT}/traces/${TRACE_ID}`);
    expect(trace.spans).toHaveLength(1);
  });
});
