/**
 * A command-served model: a directory with MODEL.json whose command serves HTTP. Tandem starts it,
 * waits for its health check, proxies predictions, logs them, and restarts it when it dies.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { putTree } from "../../src/stores/artifacts/tree.js";
import type { CommandRunner } from "../../src/serving/command-runner.js";
import { predict, startServingServer } from "./helpers.js";

const SERVER = `
import { createServer } from "node:http";
createServer((req, res) => {
  if (req.url === "/health") return res.end("ok");
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    const { instances } = JSON.parse(body);
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ predictions: instances.map((i) => ({ value: i.x * 2, pid: process.pid })) }));
  });
}).listen(Number(process.env.PORT), "127.0.0.1");
`;

describe("command-served models", () => {
  let t: Awaited<ReturnType<typeof startServingServer>>;
  let dir: string;

  beforeAll(async () => {
    t = await startServingServer();
    dir = mkdtempSync(join(tmpdir(), "tandem-cmd-model-"));
    writeFileSync(
      join(dir, "MODEL.json"),
      JSON.stringify({ command: [process.execPath, "server.mjs"], health: "/health", predict: "/predict" }),
    );
    writeFileSync(join(dir, "server.mjs"), SERVER);
    const tree = await putTree(t.services.artifacts, dir);
    await t.services.registry.registerVersion({
      actor: "admin",
      project: "default",
      name: "doubler",
      artifact: { kind: "manifest", sha256: tree.manifest },
    });
    const res = await t.api("PUT", "/api/v1/projects/default/endpoints/doubler", { model: "doubler@1" });
    expect(res.status).toBe(200);
    await t.services.serving.runtime.sync();
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("starts, proxies, logs, and restarts the model's process after a crash", async () => {
    const first = await predict(t, "default", "doubler", [{ x: 21 }]);
    expect(first.status).toBe(200);
    const answer = (first.body.predictions as Array<{ value: number; pid: number }>)[0]!;
    expect(answer.value).toBe(42);
    await t.services.serving.logger.flush();
    const log = await t.services.serving.log.recent("default", "doubler", 5);
    expect(log[0]).toMatchObject({ version: 1, slot: "primary", features: { x: 21 } });

    const runner = t.services.serving.runtime.get("default", "doubler").primary as CommandRunner;
    // The model runs in the steps' sandbox, in a pid namespace of its own: the pid it answers is
    // its own there, and the process Tandem started (bwrap's) leads its group.
    const started = runner.pid!;
    process.kill(-started, "SIGKILL");
    // Health: not ready while it is down; back after the restart.
    const deadline = Date.now() + 15_000;
    let again: Awaited<ReturnType<typeof predict>> | undefined;
    while (Date.now() < deadline) {
      if (runner.ready() && runner.pid !== started) {
        again = await predict(t, "default", "doubler", [{ x: 1 }]);
        if (again.status === 200) break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(again?.status).toBe(200);
    const restarted = (again!.body.predictions as Array<{ value: number; pid: number }>)[0]!;
    expect(restarted.value).toBe(2);
  });
});
