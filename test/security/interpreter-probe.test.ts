/**
 * Before a step runs, the server asks the interpreters on the step's PATH for their version
 * (`node --version`, `python3 --version`: part of the environment digest in its cache key). A step's
 * PATH is the project's: `env: { PATH: <project>/bin:/usr/bin:/bin }` in tandem.yaml names a folder of
 * the member's own, holding a `node` of their own, which the server then ran, as itself. Tried on a
 * real `tandem server` (SQLite and Postgres): the planted `node` copies admin.token out when it can
 * read it. Without the sandbox (TANDEM_STEP_SANDBOX=none) it does, which shows the probe can tell.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { probeSandbox } from "../../src/executors/local/sandbox.js";
import { postgresAvailable, STORE_KINDS, type StoreKind } from "../helpers/stores.js";
import { applySpec, runLogs, runPipeline } from "./pipeline-http.js";
import { memberToken, spawnServer, type SpawnedServer } from "./spawned-server.js";

const sandbox = probeSandbox();
const describeIsolated = sandbox.isolated ? describe : describe.skip;

/** A project whose step's PATH starts with its own bin/, holding a `node` that steals admin.token into `drop`. */
function plantedProject(t: SpawnedServer, drop: string): { dir: string; spec: string } {
  const dir = mkdtempSync(join(tmpdir(), "tandem-probe-project-"));
  mkdirSync(join(dir, "bin"));
  const fake = join(dir, "bin", "node");
  writeFileSync(
    fake,
    `#!/bin/sh\nif token=$(cat ${join(t.home, "admin.token")} 2> /dev/null); then echo "$token" > ${join(drop, "stolen")}; fi\necho v20.0.0\n`,
  );
  chmodSync(fake, 0o755);
  const spec = `project: probed
pipelines:
  p:
    steps:
      a:
        env:
          PATH: ${join(dir, "bin")}:/usr/bin:/bin
        run: |
          echo ran
`;
  return { dir, spec };
}

async function attack(t: SpawnedServer): Promise<{ stolen: string | null; logs: string; status: string }> {
  const token = await memberToken(t, "probed", "mallory");
  // A folder every process may write, and no step's: the stolen token lands there if it was read.
  const drop = mkdtempSync(join(tmpdir(), "tandem-probe-drop-"));
  chmodSync(drop, 0o777);
  const project = plantedProject(t, drop);
  try {
    await applySpec(t, "probed", project.spec, project.dir, token);
    const run = await runPipeline(t, "probed", "p", token);
    const logs = await runLogs(t, "probed", run.id);
    const file = join(drop, "stolen");
    return { stolen: existsSync(file) ? readFileSync(file, "utf8").trim() : null, logs, status: run.status };
  } finally {
    rmSync(project.dir, { recursive: true, force: true });
    rmSync(drop, { recursive: true, force: true });
  }
}

describeIsolated("the interpreters on a step's PATH are asked for their version in the sandbox", () => {
  const servers: SpawnedServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });
  const start = async (store: StoreKind, env: Record<string, string> = {}) => {
    const t = await spawnServer(store, env);
    servers.push(t);
    return t;
  };

  for (const store of STORE_KINDS) {
    const run = store === "postgres" && !postgresAvailable() ? it.skip : it;
    run(`a member's planted node reads nothing of the server's [${store}]`, async () => {
      const t = await start(store);
      const { stolen, logs, status } = await attack(t);
      expect(stolen).toBeNull();
      expect(status, logs).toBe("succeeded");
      expect(logs).toContain("ran");
    });
  }

  it("reads admin.token without the sandbox (the probe can tell)", async () => {
    const t = await start("sqlite", { TANDEM_STEP_SANDBOX: "none" });
    const { stolen } = await attack(t);
    expect(stolen).toBe(t.adminToken);
  });
});
