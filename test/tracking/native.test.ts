/**
 * The native tracking API through the package's TandemClient, the CLI (`experiments ls`,
 * `runs search`, `runs compare`, `runs gc`) and the garbage collector freeing deleted runs' bytes,
 * against a real server on SQLite and Postgres.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TandemClient, TandemClientError } from "../../src/client/index.js";
import { linearClassifierOnnx } from "../helpers/onnx-models.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";

const BIN = join(import.meta.dirname, "..", "..", "bin", "tandem.js");

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

for (const kind of STORE_KINDS) {
  const run = kind === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`native tracking API, client, CLI and GC [${kind}]`, () => {
    let s: TestServer;
    let client: TandemClient;
    beforeAll(async () => {
      s = await startTestServer({ store: kind });
      client = new TandemClient({ url: s.url, token: s.adminToken, project: "native" });
    });
    afterAll(async () => {
      await s?.stop();
    });

    it("creates, logs, searches and finishes runs through TandemClient", async () => {
      const exp = await client.experiments.create("churn", { team: "ml" });
      expect(exp).toMatchObject({ experiment_id: "1", name: "churn", tags: { team: "ml" } });
      const parent = await client.runs.create({ experimentName: "churn", runName: "pipeline" });
      const a = await client.runs.create({ experimentId: exp.experiment_id, runName: "a", parentRunId: parent.run_id });
      const b = await client.runs.create({ experimentId: exp.experiment_id, runName: "b", parentRunId: parent.run_id });
      expect(a.parent_run_id).toBe(parent.run_id);
      expect(a.tags["mlflow.parentRunId"]).toBe(parent.run_id);
      await client.runs.log(a.run_id, {
        metrics: [
          { key: "auc", value: 0.8, step: 0 },
          { key: "auc", value: 0.85, step: 1 },
        ],
        params: { lr: 0.1, model: "gbdt" },
      });
      await client.runs.log(b.run_id, { metrics: [{ key: "auc", value: 0.9 }], params: { lr: 0.2, model: "gbdt" } });
      await client.runs.logMetric(b.run_id, "loss", Number.NaN);
      const got = await client.runs.get(a.run_id);
      expect(got.metrics).toEqual({ auc: 0.85 });
      expect(got.params).toEqual({ lr: "0.1", model: "gbdt" });
      expect((await client.runs.get(b.run_id)).metrics.loss).toBe("NaN");
      expect((await client.runs.history(a.run_id, "auc")).map((p) => p.value)).toEqual([0.8, 0.85]);
      const found = await client.runs.search({
        filter: "params.model = 'gbdt' AND metrics.auc > 0.5",
        orderBy: ["metrics.auc DESC"],
      });
      expect(found.runs.map((r) => r.run_name)).toEqual(["b", "a"]);
      const finished = await client.runs.finish(a.run_id, "FAILED");
      expect(finished.status).toBe("FAILED");
      expect(finished.end_time).toEqual(expect.any(Number));
      expect((await client.experiments.list()).map((e) => e.name)).toEqual(["churn", "Default"]);
      await expect(client.runs.search({ filter: "metrics.auc > " })).rejects.toMatchObject({
        status: 400,
        code: "INVALID_INPUT",
      });
      await expect(client.runs.get("f".repeat(32))).rejects.toBeInstanceOf(TandemClientError);
    });

    // The CLI only talks HTTP, so one store is enough (each spawn costs seconds on two cores).
    (kind === "sqlite" ? it : it.skip)("answers the CLI: experiments ls, runs search, runs compare", async () => {
      const env = { TANDEM_URL: s.url, TANDEM_TOKEN: s.adminToken, TANDEM_PROJECT: "native", TANDEM_HOME: s.home };
      const search = await cli(
        ["runs", "search", "--filter", "metrics.auc > 0.5", "--order-by", "metrics.auc DESC", "--json"],
        env,
      );
      expect(search.stderr).toBe("");
      const runs = JSON.parse(search.stdout) as Array<{ run_id: string; run_name: string }>;
      expect(runs.map((r) => r.run_name)).toEqual(["b", "a"]);
      const compare = await cli(["runs", "compare", runs[1]!.run_id, runs[0]!.run_id, "--json"], env);
      const diff = JSON.parse(compare.stdout) as {
        params: Array<{ key: string; same: boolean }>;
        metrics: Array<{ key: string; delta: number | null }>;
      };
      expect(diff.params).toEqual([
        { key: "lr", a: "0.1", b: "0.2", same: false },
        { key: "model", a: "gbdt", b: "gbdt", same: true },
      ]);
      expect(diff.metrics.find((m) => m.key === "auc")?.delta).toBeCloseTo(0.05);
      const ls = await cli(["experiments", "ls"], env);
      expect(ls.stdout).toMatch(/churn/);
      const bad = await cli(["runs", "search", "--filter", "metrics.auc >> 1"], env);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/column 14/);
    });

    it("garbage-collects deleted runs and frees their artifacts' bytes, keeping shared blobs", async () => {
      const keep = await client.runs.create({ runName: "keep" });
      const drop = await client.runs.create({ runName: "drop" });
      const put = async (runId: string, name: string, text: string) => {
        const res = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/0/${runId}/artifacts/${name}`, {
          method: "PUT",
          headers: { authorization: `Bearer ${s.adminToken}`, "x-tandem-project": "native" },
          body: text,
        });
        expect(res.status).toBe(200);
      };
      await put(drop.run_id, "only-mine.txt", `unique bytes ${drop.run_id}`);
      await put(drop.run_id, "shared.txt", "shared bytes");
      await put(keep.run_id, "shared.txt", "shared bytes");
      await client.runs.delete(drop.run_id);
      const blobPath = (text: string) => {
        const sha = createHash("sha256").update(text).digest("hex");
        return join(s.home, "artifacts", "sha256", sha.slice(0, 2), sha.slice(2));
      };
      expect(existsSync(blobPath(`unique bytes ${drop.run_id}`))).toBe(true);
      const gc = await s.api<{ purged_runs: string[]; deleted_blobs: number; freed_bytes: number }>(
        "POST",
        "/api/v1/projects/native/runs/gc",
        {},
      );
      expect(gc.status).toBe(200);
      expect(gc.body.purged_runs).toEqual([drop.run_id]);
      expect(gc.body.deleted_blobs).toBe(1);
      expect(existsSync(blobPath(`unique bytes ${drop.run_id}`))).toBe(false);
      expect(existsSync(blobPath("shared bytes"))).toBe(true);
      await expect(client.runs.get(drop.run_id)).rejects.toMatchObject({ status: 404 });
      const shared = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/0/${keep.run_id}/artifacts/shared.txt`, {
        headers: { authorization: `Bearer ${s.adminToken}`, "x-tandem-project": "native" },
      });
      expect(await shared.text()).toBe("shared bytes");
    });

    it("keeps blobs a model version still uses when their run is collected", async () => {
      const run = await client.runs.create({ runName: "model-run" });
      const bytes = Buffer.from(linearClassifierOnnx({ features: ["a", "b"], weights: [0.3, 0.7], bias: -0.2 }));
      const sha = createHash("sha256").update(bytes).digest("hex");
      const put = await fetch(`${s.url}/api/2.0/mlflow-artifacts/artifacts/0/${run.run_id}/artifacts/model.onnx`, {
        method: "PUT",
        headers: {
          authorization: `Bearer ${s.adminToken}`,
          "x-tandem-project": "native",
          "content-type": "application/octet-stream",
        },
        body: bytes,
      });
      expect(put.status).toBe(200);
      await s.server.opened.services.registry.registerVersion({
        actor: "admin",
        project: "native",
        name: "gc-model",
        artifact: { kind: "blob", sha256: sha, fileName: "model.onnx" },
      });
      await client.runs.delete(run.run_id);
      const gc = await s.api<{ purged_runs: string[]; deleted_blobs: number }>(
        "POST",
        "/api/v1/projects/native/runs/gc",
        {},
      );
      expect(gc.body.purged_runs).toEqual([run.run_id]);
      expect(gc.body.deleted_blobs).toBe(0);
      expect(existsSync(join(s.home, "artifacts", "sha256", sha.slice(0, 2), sha.slice(2)))).toBe(true);
    });
  });
}
