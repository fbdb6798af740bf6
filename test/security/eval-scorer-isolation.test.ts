/**
 * `uses: tandem/eval` runs inside the server (built-in steps do), and its `command:` scorer is a
 * shell command from the project's tandem.yaml: code a member wrote. Tried on a real `tandem server`
 * (SQLite and Postgres): mallory, a member, applies an evaluation whose scorer answers, as its score,
 * which of the server's things it reached (a bit each): admin.token, secret.key, the artifacts, the
 * server's settings and credentials in its environment, the environment of the server's process
 * through /proc. Without the sandbox (TANDEM_STEP_SANDBOX=none) the same scorer reaches them, which
 * shows it can tell.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeSandbox } from "../../src/executors/local/sandbox.js";
import { startStandin, type Standin } from "../helpers/llm-standin.js";
import { postgresAvailable, STORE_KINDS, type StoreKind } from "../helpers/stores.js";
import { applySpec, runLogs, runPipeline } from "./pipeline-http.js";
import { memberToken, spawnServer, type SpawnedServer } from "./spawned-server.js";

const sandbox = probeSandbox();
const describeIsolated = sandbox.isolated ? describe : describe.skip;

const SERVER_SECRET = "server-s3-secret-5e21";

/** The bits of the score: what the scorer reached. */
const REACHED = { token: 1, secretKey: 2, artifacts: 4, environment: 8, serverEnviron: 16 };

/** The scorer's shell command: adds a bit for each thing of the server's it reaches, prints the sum. */
function probeCommand(home: string): string {
  return [
    "s=0",
    `head -c 1 ${join(home, "admin.token")} > /dev/null 2>&1 && s=$((s + ${REACHED.token}))`,
    `head -c 1 ${join(home, "secret.key")} > /dev/null 2>&1 && s=$((s + ${REACHED.secretKey}))`,
    `[ -n "$(ls -A ${join(home, "artifacts")} 2> /dev/null)" ] && s=$((s + ${REACHED.artifacts}))`,
    `env | grep -q -e ${SERVER_SECRET} -e '^TANDEM_DATABASE_URL=' -e '^TANDEM_HOME=' && s=$((s + ${REACHED.environment}))`,
    `grep -q -s ${SERVER_SECRET} /proc/[0-9]*/environ && s=$((s + ${REACHED.serverEnviron}))`,
    "echo $s",
  ].join("\n");
}

function evalSpec(upstream: string, command: string): string {
  const indented = command
    .split("\n")
    .map((l) => `                ${l}`)
    .join("\n");
  return `project: evals
pipelines:
  evaluate:
    steps:
      eval:
        uses: tandem/eval
        inputs:
          cases: cases/qa.jsonl
        with:
          cases: \${{ inputs.cases }}
          prompt: qa@latest
          upstream: ${upstream}
          scorers:
            - exact
            - command: |
${indented}
`;
}

/** As mallory (a member): a prompt, the evaluation spec, a run; the scorer's score and the run's logs. */
async function evaluate(t: SpawnedServer, upstream: Standin): Promise<{ score: number | undefined; logs: string }> {
  const token = await memberToken(t, "evals", "mallory");
  const prompt = await t.api(
    "POST",
    "/api/v1/projects/evals/prompts/qa/versions",
    { messages: [{ role: "user", content: "{{ input }}" }], params: { model: "standin-1" } },
    token,
  );
  expect(prompt.status, JSON.stringify(prompt.body)).toBe(201);
  const workspace = mkdtempSync(join(tmpdir(), "tandem-eval-project-"));
  try {
    mkdirSync(join(workspace, "cases"));
    writeFileSync(join(workspace, "cases", "qa.jsonl"), JSON.stringify({ input: "2+2", expected: "4" }) + "\n");
    await applySpec(t, "evals", evalSpec(upstream.url, probeCommand(t.home)), workspace, token);
    const run = await runPipeline(t, "evals", "evaluate", token);
    const logs = await runLogs(t, "evals", run.id);
    expect(run.status, logs).toBe("succeeded");
    const runId = (run.steps[0] as { tracking_run_id?: string }).tracking_run_id;
    const tracked = await t.api<{ metrics?: Record<string, number> }>("GET", `/api/v1/projects/evals/runs/${runId}`);
    const metrics = tracked.body.metrics ?? {};
    expect(metrics["command.errors"], logs).toBe(0);
    return { score: metrics["command.mean"], logs };
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

describeIsolated("a tandem/eval command scorer cannot reach the server's files or credentials", () => {
  const servers: SpawnedServer[] = [];
  let upstream: Standin;
  beforeAll(async () => {
    upstream = await startStandin({ answer: () => "4" });
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    await upstream?.close();
  });

  const start = async (store: StoreKind, env: Record<string, string> = {}) => {
    const t = await spawnServer(store, {
      AWS_SECRET_ACCESS_KEY: SERVER_SECRET,
      TANDEM_OUTBOUND_ALLOW: "127.0.0.1",
      ...env,
    });
    servers.push(t);
    return t;
  };

  for (const store of STORE_KINDS) {
    const run = store === "postgres" && !postgresAvailable() ? it.skip : it;
    run(`a member's scorer command reaches nothing of the server's [${store}]`, async () => {
      const t = await start(store);
      const { score, logs } = await evaluate(t, upstream);
      expect(score, logs).toBe(0);
    });
  }

  it("reaches them without the sandbox (the probe can tell)", async () => {
    const t = await start("sqlite", { TANDEM_STEP_SANDBOX: "none" });
    const { score, logs } = await evaluate(t, upstream);
    // Its environment is scrubbed all the same: the bit for it may be unset.
    const files = REACHED.token + REACHED.secretKey + REACHED.artifacts + REACHED.serverEnviron;
    expect(score! & files, logs).toBe(files);
  });
});
