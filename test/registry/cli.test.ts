/**
 * `tandem models …` against a running server, as two users: the refusal's decision record printed as
 * a table with exit 1, approval by a second user, register from a file and from a directory,
 * rollback in one command, pull verified, lineage and card printed.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyOnnx } from "../helpers/onnx.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

const BIN = join(process.cwd(), "bin", "tandem.js");

describe("tandem models (CLI)", () => {
  let srv: TestServer;
  let dir: string;
  const tokens: Record<string, string> = {};

  /** Async: the server runs in this process, so a blocking spawnSync would deadlock it. */
  function tandem(user: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [BIN, ...args],
        {
          cwd: dir,
          env: {
            ...process.env,
            TANDEM_URL: srv.url,
            TANDEM_TOKEN: tokens[user]!,
            TANDEM_PROJECT: "flights",
            TANDEM_HOME: join(dir, "home"),
          },
        },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  beforeAll(async () => {
    srv = await startTestServer();
    dir = mkdtempSync(join(tmpdir(), "tandem-models-cli-"));
    tokens.admin = srv.adminToken;
    for (const [user, role] of [
      ["alice", "member"],
      ["bob", "approver"],
    ] as const) {
      await srv.api("POST", "/api/v1/users", { name: user });
      await srv.api("PUT", `/api/v1/projects/flights/members/${user}`, { role });
      tokens[user] = (await srv.api<{ token: string }>("POST", "/api/v1/tokens", { name: "cli", user })).body.token;
    }
    const applied = await srv.api("PUT", "/api/v1/projects/flights/policies", {
      policies: {
        release: {
          accept_manual: true,
          require: [{ metric: "roc_auc >= 0.7" }, { approvals: { role: "approver", count: 1 } }],
        },
      },
    });
    expect(applied.status).toBe(200);
    writeFileSync(join(dir, "v1.onnx"), tinyOnnx({ features: ["distance", "hour"] }));
    mkdirSync(join(dir, "v2"));
    writeFileSync(join(dir, "v2", "model.onnx"), tinyOnnx({ features: ["distance", "hour"], weights: [2, 2] }));
    writeFileSync(join(dir, "v2", "notes.txt"), "trained on flights@3\n");
  });

  afterAll(async () => {
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("registers from a file, recording a run for lineage", async () => {
    const res = await tandem("alice", [
      "models",
      "register",
      "flights-delay",
      "--file",
      "v1.onnx",
      "--description",
      "first",
      "--json",
    ]);
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout) as {
      version: { version: number; source_run_id: string; signature: { source: string } };
    };
    expect(out.version.version).toBe(1);
    expect(out.version.source_run_id).toMatch(/^[0-9a-f]{32}$/);
    expect(out.version.signature.source).toBe("metadata");
    const evaluated = await srv.api(
      "POST",
      "/api/v1/projects/flights/models/flights-delay/versions/1/evaluations",
      { dataset: "flights@3", metrics: { roc_auc: 0.81 } },
      tokens.alice,
    );
    expect(evaluated.status).toBe(201);
  });

  it("prints the decision record as a table and exits 7 (held, not refused) while an approval is missing", async () => {
    const res = await tandem("alice", ["models", "alias", "set", "flights-delay@1", "champion"]);
    expect(res.code).toBe(7);
    expect(res.stderr).not.toContain("error:");
    expect(res.stdout).toMatch(/POLICY\s+CHECK\s+VALUE\s+THRESHOLD\s+OUTCOME\s+DETAIL/);
    expect(res.stdout).toMatch(/release\s+roc_auc >= 0.7\s+0.81\s+0.7\s+PASS/);
    expect(res.stdout).toMatch(/approvals by approver \(author excluded\)\s+0\s+1\s+PENDING/);
    expect(res.stderr).toContain("awaiting approval");
  });

  it("refuses the author's own approval and accepts a second user's, which moves the alias", async () => {
    const self = await tandem("alice", ["models", "approve", "flights-delay@1"]);
    expect(self.code).toBe(3);
    const ok = await tandem("bob", ["models", "approve", "flights-delay@1", "--comment", "looks good"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("alias champion: applied (champion → flights-delay@1)");
  });

  it("registers a directory, and rolls back with one command", async () => {
    const reg = await tandem("alice", ["models", "register", "flights-delay", "--file", "v2", "--json"]);
    expect(reg.code, reg.stderr).toBe(0);
    expect(JSON.parse(reg.stdout).version.artifact.file_name).toBe("model.onnx");
    const m = "/api/v1/projects/flights/models/flights-delay";
    await srv.api(
      "POST",
      `${m}/versions/2/evaluations`,
      { dataset: "flights@3", metrics: { roc_auc: 0.85 } },
      tokens.alice,
    );
    expect((await srv.api("PUT", `${m}/aliases/champion`, { version: 2 }, tokens.alice)).status).toBe(409);
    expect((await srv.api("POST", `${m}/versions/2/approve`, {}, tokens.bob)).status).toBe(200);
    expect((await srv.api<{ version: number }>("GET", `${m}/versions/champion`)).body.version).toBe(2);
    const back = await tandem("alice", [
      "models",
      "alias",
      "rollback",
      "flights-delay",
      "champion",
      "--reason",
      "p95 latency",
    ]);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain("flights-delay@champion → flights-delay@1 (rolled back)");
    const history = await srv.api<{ events: Array<{ action: string }> }>("GET", `${m}/aliases/champion/history`);
    expect(history.body.events.map((e) => e.action)).toEqual(["set", "move", "rollback"]);
  });

  it("warns, and still registers, when --dataset names a dataset version that does not exist", async () => {
    const res = await tandem("alice", ["models", "register", "other", "--file", "v1.onnx", "--dataset", "flights@1"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^registered other@1 /);
    expect(res.stderr.trim()).toMatch(
      /^warning: --dataset flights@1: no dataset flights in project flights; the lineage records the reference as given$/,
    );
  });

  it("pulls a version verified, and prints lineage and the model card", async () => {
    const pull = await tandem("bob", ["models", "pull", "flights-delay@2", join(dir, "out")]);
    expect(pull.code, pull.stderr).toBe(0);
    expect(readFileSync(join(dir, "out", "model.onnx")).equals(readFileSync(join(dir, "v2", "model.onnx")))).toBe(true);
    const lineage = await tandem("bob", ["models", "lineage", "flights-delay@1"]);
    expect(lineage.stdout).toMatch(/source run:\s+[0-9a-f]{32} \(register flights-delay, FINISHED\)/);
    const card = await tandem("bob", ["models", "card", "flights-delay@1"]);
    expect(card.stdout).toContain("# Model card: flights-delay version 1");
    expect(card.stdout).toContain("| bob | approve | looks good |");
  });
});
