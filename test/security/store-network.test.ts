/**
 * Steps share the host's network (they need it: pip, S3, Tandem's own API for MLflow logging), so a
 * Postgres store that lets the server's user in without a password (`trust`, as here and in CI, or
 * `peer` over its socket) lets a step in the same way: the sandbox hides the home, not the
 * database. Tried on a real `tandem server` on Postgres: a member's step connects with psql and
 * reads the api_tokens table. What Tandem does about it (postgres-exposure.ts): `tandem server` says so
 * at start and `tandem doctor` names it as a thing to fix; a store with a password is quiet.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { probeSandbox } from "../../src/executors/local/sandbox.js";
import { postgresAvailable } from "../helpers/stores.js";
import { BIN } from "../pipelines/cli.js";
import { applySpec, runLogs, runPipeline } from "./pipeline-http.js";
import { memberToken, spawnServer, type SpawnedServer } from "./spawned-server.js";

const psql = spawnSync("psql", ["--version"]).status === 0;
const runnable = probeSandbox().isolated && postgresAvailable() && psql;

describe.runIf(runnable)("a Postgres store that trusts local connections", () => {
  const servers: SpawnedServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  it("is reachable from a sandboxed step, and tandem server and tandem doctor say so", async () => {
    const t = await spawnServer("postgres");
    servers.push(t);
    const url = new URL(t.databaseUrl!);
    url.password = "";
    const token = await memberToken(t, "net", "mallory");
    const workspace = mkdtempSync(join(tmpdir(), "tandem-net-project-"));
    try {
      await applySpec(
        t,
        "net",
        `project: net
pipelines:
  p:
    steps:
      a:
        run: |
          psql "${url.toString()}" -tAc "select 'TOKENS ' || count(*) from api_tokens" || echo "NO STORE"
`,
        workspace,
        token,
      );
      const run = await runPipeline(t, "net", "p", token);
      const logs = await runLogs(t, "net", run.id);
      expect(run.status, logs).toBe("succeeded");
      // The reach this test documents: the sandbox does not stop it.
      expect(logs).toMatch(/^TOKENS [1-9]/m);
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
    expect(t.output()).toMatch(/WARNING: the Postgres store lets this server's user in without a password/);
    const home = mkdtempSync(join(tmpdir(), "tandem-doctor-"));
    try {
      const doctor = spawnSync(process.execPath, [BIN, "doctor", "--json"], {
        env: { ...process.env, TANDEM_HOME: home, TANDEM_DATABASE_URL: t.databaseUrl! },
        encoding: "utf8",
      });
      const checks = JSON.parse(doctor.stdout) as Array<{ check: string; ok: boolean; detail: string }>;
      expect(checks.find((c) => c.check === "store access")).toMatchObject({
        ok: false,
        detail: expect.stringMatching(/without a password.*Give the database role a password/),
      });
      expect(doctor.status).toBe(1);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
