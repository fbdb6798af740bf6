/**
 * examples/llm through the real CLI against a real server with its loops on, offline: the example's
 * own STAND-IN upstream (standin/server.mjs) answers; the first version is registered and evaluated by
 * bootstrap.yaml's pipeline (the policy lets only a pipeline-evaluated version be the candidate); then
 * `tandem run release` registers, evaluates (30 cases), gives `candidate` under the policy, and the
 * canary step tries it on the endpoint and promotes it. A prompt that answers in one word is refused
 * by the policy and never reaches the endpoint.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { cli, exampleCopy } from "../pipelines/cli.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- wire answers read by field in assertions
type Wire = Record<string, any>;

describe("examples/llm", () => {
  let t: TestServer;
  let standin: ChildProcess;
  let dir: string;
  let env: Record<string, string>;
  const run = (args: string[]) => cli(args, { cwd: dir, env });
  const before = process.env.DEPLOY_CLI;

  beforeAll(async () => {
    ({ dir } = exampleCopy("llm"));
    // Port 0: the stand-in says where it listens, and the copy's tandem.yaml is pointed there.
    standin = spawn(process.execPath, [join(dir, "standin/server.mjs"), "0"], { stdio: ["ignore", "pipe", "inherit"] });
    const url = await new Promise<string>((ok, fail) => {
      standin.stdout!.once("data", (line: Buffer) => ok(/http:\S+/.exec(line.toString())![0]));
      standin.once("exit", (code) => fail(new Error(`the stand-in exited with ${code}`)));
    });
    for (const file of ["tandem.yaml", "bootstrap.yaml"]) {
      const spec = join(dir, file);
      writeFileSync(spec, readFileSync(spec, "utf8").replaceAll("http://127.0.0.1:8799/v1", url));
    }
    // Steps run in the server's process tree: they call this checkout's CLI.
    process.env.DEPLOY_CLI = `${process.execPath} ${resolve(import.meta.dirname, "../../bin/tandem.js")}`;
    t = await startTestServer({ background: true, env: { TANDEM_OUTBOUND_ALLOW: "127.0.0.1" } });
    env = { TANDEM_URL: t.url, TANDEM_TOKEN: t.adminToken };
  }, 60_000);
  afterAll(async () => {
    if (before === undefined) delete process.env.DEPLOY_CLI;
    else process.env.DEPLOY_CLI = before;
    await t?.stop();
    standin?.kill();
  });

  it("evaluates, gates and canaries a new prompt version, and the policy refuses a worse one", async () => {
    // The first version is evaluated by a pipeline before it may be the candidate the endpoint tries.
    const boot = await run(["run", "first", "--file", "bootstrap.yaml", "--json"]);
    expect(boot.code, boot.stderr).toBe(0);
    for (const alias of ["production", "candidate"]) {
      const set = await run(["prompts", "alias", "set", "support@1", alias]);
      expect(set.code, set.stderr).toBe(0);
    }
    const first = await run(["run", "release", "--json"]);
    expect(first.code, first.stderr).toBe(0);

    const file = join(dir, "prompts/support.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace("one short sentence", "one friendly sentence"));
    const second = await run(["run", "release", "--json"]);
    expect(second.code, second.stderr).toBe(0);
    const runId = (JSON.parse(second.stdout) as { id: string }).id;
    const logs = await run(["runs", "logs", runId, "--step", "canary"]);
    expect(logs.stdout).toMatch(/bot serves support@1, canary support@2/);
    expect(logs.stdout).toMatch(/answers per version: \{[^}]*"support@2":[1-9]/);
    expect(logs.stdout).toMatch(/promoted: bot serves support@2/);
    const prompt = (await t.api<Wire>("GET", "/api/v1/projects/support-bot/prompts/support")).body;
    expect(prompt.aliases.find((a: Wire) => a.alias === "production").version).toBe(2);
    const evaluation = prompt.evaluations.find((e: Wire) => e.version === 2);
    expect(evaluation.metrics).toMatchObject({ cases: 30, answer_errors: 0 });
    expect(evaluation.metrics["contains.mean"]).toBeGreaterThanOrEqual(0.8);

    writeFileSync(file, readFileSync(file, "utf8").replace("one friendly sentence", "one word"));
    const third = await run(["run", "release"]);
    expect(third.code).toBe(1);
    expect(third.stderr).toMatch(/policy refused support@3 → candidate: contains\.mean >= 0\.8/);
    const after = (await t.api<Wire>("GET", "/api/v1/projects/support-bot/endpoints/bot")).body;
    expect(after).toMatchObject({ primary_version: 2, canary_version: null });
  }, 240_000);
});
