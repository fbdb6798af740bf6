/**
 * A run's own token as an attacker would use it, on a real server over HTTP (SQLite and Postgres):
 * a step prints its whole environment (the log is readable by viewers), keeps the token in a file
 * outside its sandbox and tries it on its own project and on another. The log shows no token or
 * secret value; the token works for its project only, and stops working once the run has ended.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { applySpec, runLogs, runPipeline } from "./pipeline-http.js";

const SECRET = "hunter2-not-for-logs";

/** Calls GET `path` with the step's token and prints `<label>: <status>` (node: present wherever steps run). */
const probe = (label: string, path: string, body?: string) =>
  `node -e 'fetch(process.env.TANDEM_URL + "${path}", { ${body ? `method: "POST", body: JSON.stringify(${body}), ` : ""}headers: { "content-type": "application/json", authorization: "Bearer " + process.env.TANDEM_TOKEN } }).then((r) => console.log("${label}: " + r.status))'`;

function leakSpec(keep: string): string {
  return `project: tok
pipelines:
  leak:
    steps:
      show:
        secrets: [API_KEY]
        timeout: 5m
        run: |
          env
          echo "token: $TANDEM_TOKEN"
          echo "mlflow token: $MLFLOW_TRACKING_TOKEN"
          echo "secret: $API_KEY"
          printf %s "$TANDEM_TOKEN" > "${keep}"
          ${probe("own project", "/api/v1/projects/tok/pipeline-runs")}
          ${probe("other project", "/api/v1/projects/other/pipeline-runs")}
`;
}

describe("a run's token: masked, limited to its project, dead once the run ends", () => {
  const servers: TestServer[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const store of STORE_KINDS) {
    const run = store === "postgres" && !postgresAvailable() ? it.skip : it;
    run(`a step that prints env shows no token or secret; the token dies with the run [${store}]`, async () => {
      const t = await startTestServer({ store });
      servers.push(t);
      const workspace = mkdtempSync(join(tmpdir(), "trust-run-token-"));
      dirs.push(workspace);
      const keep = join(workspace, "stolen-token.txt");
      writeFileSync(join(workspace, "README"), "a project\n");
      expect((await t.api("PUT", "/api/v1/projects/tok/secrets/API_KEY", { value: SECRET })).status).toBe(200);
      // A viewer of the project reads the logs: what they see is what anyone in the project sees.
      expect((await t.api("POST", "/api/v1/users", { name: "vic" })).status).toBe(201);
      expect((await t.api("PUT", "/api/v1/projects/tok/members/vic", { role: "viewer" })).status).toBe(200);
      const viewer = (await t.api<{ token: string }>("POST", "/api/v1/tokens", { name: "t", user: "vic" })).body.token;

      await applySpec(t, "tok", leakSpec(keep), workspace);
      const result = await runPipeline(t, "tok", "leak");
      const logs = await runLogs(t, "tok", result.id, viewer);
      expect(result.status, logs).toBe("succeeded");

      const token = readFileSync(keep, "utf8");
      expect(token.length).toBeGreaterThan(20);
      expect(logs).not.toContain(token);
      expect(logs).not.toContain(SECRET);
      expect(logs).toMatch(/^TANDEM_TOKEN=\*\*\*$/m);
      expect(logs).toMatch(/^MLFLOW_TRACKING_TOKEN=\*\*\*$/m);
      expect(logs).toContain("token: ***");
      expect(logs).toContain("secret: ***");
      // While the run lived, the token acted in its project and nowhere else.
      expect(logs).toContain("own project: 200");
      expect(logs).toContain("other project: 403");

      const after = await t.api<{ error: { message: string } }>(
        "GET",
        "/api/v1/projects/tok/pipeline-runs",
        undefined,
        token,
      );
      expect(after.status).toBe(401);
      expect(after.body.error.message).toMatch(/revoked/);

      // Its record: the run's project, member at most, revoked, and expiring within the run's bound.
      const tokens = await t.api<{
        tokens: Array<{ name: string; role: string; project: string; expires_at: number; revoked_at: number | null }>;
      }>("GET", "/api/v1/tokens?user=system");
      const own = tokens.body.tokens.filter((x) => x.name === `pipeline run ${result.id}`);
      expect(own).toHaveLength(1);
      expect(own[0]).toMatchObject({ role: "member", project: "tok" });
      expect(own[0]!.revoked_at).not.toBeNull();
      // timeout 5m + a minute to spare: never the day it lived before.
      expect(own[0]!.expires_at - own[0]!.revoked_at!).toBeLessThanOrEqual(6 * 60_000);
    });
  }

  it("a policy lowers every step's token to tracking only: it logs metrics, and registers or moves nothing", async () => {
    const t = await startTestServer();
    servers.push(t);
    const workspace = mkdtempSync(join(tmpdir(), "trust-run-token-"));
    dirs.push(workspace);
    await applySpec(
      t,
      "tok",
      `project: tok
pipelines:
  try:
    steps:
      log:
        run: |
          ${probe("log metric", "/api/2.0/mlflow/runs/log-metric", '{ run_id: process.env.MLFLOW_RUN_ID, key: "auc", value: 0.9, timestamp: Date.now(), step: 0 }')}
          ${probe("register", "/api/2.0/mlflow/registered-models/create", '{ name: "m" }')}
          ${probe("models", "/api/v1/projects/tok/models", '{ name: "m" }')}
          ${probe("pipelines", "/api/v1/projects/tok/pipelines/try/runs", "{}")}
policies:
  steps:
    description: Pipeline steps log to tracking and nothing else.
    step_token: tracking
`,
      workspace,
    );
    const result = await runPipeline(t, "tok", "try");
    const logs = await runLogs(t, "tok", result.id);
    expect(result.status, logs).toBe("succeeded");
    expect(logs).toContain("log metric: 200");
    expect(logs).toContain("register: 403");
    expect(logs).toContain("models: 403");
    expect(logs).toContain("pipelines: 403");
    const models = await t.api<{ models: unknown[] }>("GET", "/api/v1/projects/tok/models");
    expect(models.body.models).toEqual([]);
  });
});
