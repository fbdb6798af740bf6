/**
 * HTTP contract of MLflow's tracking API (service.proto) and artifact proxy (mlflow_artifacts.proto),
 * against a real listening server on SQLite and Postgres: shapes, status codes and error codes an
 * MLflow client relies on.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const kind of STORE_KINDS) {
  const run = kind === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`MLflow tracking API [${kind}]`, () => {
    let s: TestServer;
    const api = (method: string, path: string, body?: unknown) => s.api<Json>(method, `/api/2.0/mlflow${path}`, body);
    beforeAll(async () => {
      s = await startTestServer({ store: kind });
    });
    afterAll(async () => {
      await s?.stop();
    });

    it("has the Default experiment with id 0", async () => {
      const r = await api("GET", "/experiments/get?experiment_id=0");
      expect(r.status).toBe(200);
      expect(r.body.experiment).toMatchObject({
        experiment_id: "0",
        name: "Default",
        lifecycle_stage: "active",
        artifact_location: "mlflow-artifacts:/0",
      });
      const byName = await api("GET", "/experiments/get-by-name?experiment_name=Default");
      expect(byName.body.experiment.experiment_id).toBe("0");
    });

    it("runs the call sequence of a typical training script", async () => {
      const missing = await api("GET", "/experiments/get-by-name?experiment_name=flights");
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({ error_code: "RESOURCE_DOES_NOT_EXIST", message: expect.any(String) });
      const created = await api("POST", "/experiments/create", {
        name: "flights",
        tags: [{ key: "team", value: "ml" }],
      });
      expect(created.status).toBe(200);
      const experimentId = created.body.experiment_id as string;
      expect(experimentId).toMatch(/^[1-9]\d*$/);
      const again = await api("POST", "/experiments/create", { name: "flights" });
      expect(again.status).toBe(400);
      expect(again.body.error_code).toBe("RESOURCE_ALREADY_EXISTS");

      const runRes = await api("POST", "/runs/create", {
        experiment_id: experimentId,
        start_time: 1000,
        run_name: "first",
        tags: [{ key: "mlflow.user", value: "ada" }],
      });
      expect(runRes.status).toBe(200);
      const info = runRes.body.run.info;
      expect(info).toMatchObject({
        experiment_id: experimentId,
        run_name: "first",
        status: "RUNNING",
        start_time: 1000,
        lifecycle_stage: "active",
      });
      expect(info.run_id).toMatch(/^[0-9a-f]{32}$/);
      expect(info.run_uuid).toBe(info.run_id);
      expect(info.artifact_uri).toBe(`mlflow-artifacts:/${experimentId}/${info.run_id}/artifacts`);
      const runId = info.run_id as string;

      expect((await api("POST", "/runs/log-parameter", { run_id: runId, key: "lr", value: "0.1" })).status).toBe(200);
      expect((await api("POST", "/runs/log-parameter", { run_uuid: runId, key: "lr", value: "0.1" })).status).toBe(200);
      const changed = await api("POST", "/runs/log-parameter", { run_id: runId, key: "lr", value: "0.2" });
      expect(changed.status).toBe(400);
      expect(changed.body.error_code).toBe("INVALID_PARAMETER_VALUE");
      for (const [step, value] of [
        [0, 0.5],
        [1, 0.7],
        [2, "NaN"],
      ] as const) {
        expect(
          (await api("POST", "/runs/log-metric", { run_id: runId, key: "auc", value, timestamp: 2000 + step, step }))
            .status,
        ).toBe(200);
      }
      expect(
        (
          await api("POST", "/runs/log-metric", {
            run_id: runId,
            key: "loss",
            value: 0.25,
            timestamp: "3000",
            step: "0",
          })
        ).status,
      ).toBe(200);
      expect((await api("POST", "/runs/set-tag", { run_id: runId, key: "stage", value: "dev" })).status).toBe(200);

      const got = await api("GET", `/runs/get?run_id=${runId}`);
      expect(got.status).toBe(200);
      expect(got.body.run.data.params).toEqual([{ key: "lr", value: "0.1" }]);
      expect(got.body.run.data.metrics).toEqual([
        { key: "auc", value: "NaN", timestamp: 2002, step: 2 },
        { key: "loss", value: 0.25, timestamp: 3000, step: 0 },
      ]);
      expect(got.body.run.data.tags).toEqual(
        expect.arrayContaining([
          { key: "stage", value: "dev" },
          { key: "mlflow.runName", value: "first" },
          { key: "mlflow.user", value: "ada" },
        ]),
      );
      expect((await api("GET", `/runs/get?run_uuid=${runId}`)).status).toBe(200);

      const history = await api("GET", `/metrics/get-history?run_id=${runId}&metric_key=auc`);
      expect(history.body.metrics.map((m: Json) => m.value)).toEqual([0.5, 0.7, "NaN"]);
      const paged = await api("GET", `/metrics/get-history?run_id=${runId}&metric_key=auc&max_results=2`);
      expect(paged.body.metrics).toHaveLength(2);
      const rest = await api(
        "GET",
        `/metrics/get-history?run_id=${runId}&metric_key=auc&max_results=2&page_token=${encodeURIComponent(paged.body.next_page_token)}`,
      );
      expect(rest.body.metrics).toHaveLength(1);
      expect(rest.body.next_page_token).toBeUndefined();

      const put = await fetch(
        `${s.url}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/model/MLmodel`,
        {
          method: "PUT",
          headers: { authorization: `Bearer ${s.adminToken}` },
          body: "flavors: {}\n",
        },
      );
      expect(put.status).toBe(200);
      const listed = await api("GET", `/artifacts/list?run_id=${runId}`);
      expect(listed.body).toEqual({ root_uri: info.artifact_uri, files: [{ path: "model", is_dir: true }] });
      const inner = await api("GET", `/artifacts/list?run_id=${runId}&path=model`);
      expect(inner.body.files).toEqual([{ path: "model/MLmodel", is_dir: false, file_size: 12 }]);

      const ended = await api("POST", "/runs/update", { run_id: runId, status: "FINISHED", end_time: 5000 });
      expect(ended.body.run_info).toMatchObject({ status: "FINISHED", end_time: 5000, run_id: runId });

      for (let i = 0; i < 3; i++)
        await api("POST", "/runs/create", { experiment_id: experimentId, start_time: 10 + i });
      const page1 = await api("POST", "/runs/search", {
        experiment_ids: [experimentId],
        max_results: 2,
        order_by: ["attributes.start_time DESC"],
      });
      expect(page1.body.runs).toHaveLength(2);
      expect(page1.body.runs[0].info.run_id).toBe(runId);
      const page2 = await api("POST", "/runs/search", {
        experiment_ids: [experimentId],
        max_results: 2,
        order_by: ["attributes.start_time DESC"],
        page_token: page1.body.next_page_token,
      });
      expect(page2.body.runs).toHaveLength(2);
      expect(page2.body.next_page_token).toBeUndefined();
      const filtered = await api("POST", "/runs/search", {
        experiment_ids: [experimentId],
        filter: "metrics.loss < 0.5 and params.lr = '0.1'",
      });
      expect(filtered.body.runs.map((r: Json) => r.info.run_id)).toEqual([runId]);
    });

    it("creates experiments concurrently without a 5xx", async () => {
      const distinct = await Promise.all(
        Array.from({ length: 6 }, (_, i) => api("POST", "/experiments/create", { name: `par-${i}` })),
      );
      expect(distinct.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      expect(new Set(distinct.map((r) => r.body.experiment_id)).size).toBe(6);
      const same = await Promise.all(
        Array.from({ length: 4 }, () => api("POST", "/experiments/create", { name: "par-same" })),
      );
      expect(same.map((r) => r.status).sort()).toEqual([200, 400, 400, 400]);
      expect(same.filter((r) => r.status === 400).every((r) => r.body.error_code === "RESOURCE_ALREADY_EXISTS")).toBe(
        true,
      );
    });

    it("refuses bad filters with INVALID_PARAMETER_VALUE and a position", async () => {
      const r = await api("POST", "/runs/search", { experiment_ids: ["0"], filter: "metrics.auc >> 1" });
      expect(r.status).toBe(400);
      expect(r.body.error_code).toBe("INVALID_PARAMETER_VALUE");
      expect(r.body.message).toMatch(/column 14/);
      const token = await api("POST", "/runs/search", { experiment_ids: ["0"], page_token: "garbage" });
      expect(token.status).toBe(400);
    });

    it("answers any filter or order_by string with 200 or 400, never a 5xx", async () => {
      const piece = fc.oneof(
        fc.constantFrom(
          "metrics.auc",
          "params.lr",
          "tags.`x y`",
          "status",
          " AND ",
          " > ",
          " = ",
          " LIKE ",
          " IN ",
          "(",
          ")",
          "'a'",
          "1e999",
          "-1",
          '"',
          "`",
          "\\",
        ),
        fc.string({ unit: "binary", maxLength: 8 }),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.array(piece, { maxLength: 8 }).map((p) => p.join("")),
          fc.string({ maxLength: 20 }),
          async (filter, order) => {
            const r = await api("POST", "/runs/search", { experiment_ids: ["0"], filter, order_by: [order] });
            expect([200, 400]).toContain(r.status);
            if (r.status === 400) expect(r.body.error_code).toBe("INVALID_PARAMETER_VALUE");
          },
        ),
        // The first found a 500 in CI: an object-literal lookup matched Object.prototype's names.
        {
          numRuns: 150,
          examples: [
            ["", "toString.."],
            ["__proto__.x = 'a'", "constructor"],
          ],
        },
      );
    });

    it("logs batches within MLflow's limits", async () => {
      const { body } = await api("POST", "/runs/create", { experiment_id: "0" });
      const runId = body.run.info.run_id;
      // 998 metrics + 1 param + 1 tag: MLflow's 1000-entity cap exactly.
      const metrics = Array.from({ length: 998 }, (_, i) => ({ key: `m${i % 10}`, value: i, timestamp: i, step: i }));
      const ok = await api("POST", "/runs/log-batch", {
        run_id: runId,
        metrics,
        params: [{ key: "a", value: "1" }],
        tags: [{ key: "t", value: "x" }],
      });
      expect(ok.status).toBe(200);
      const run = await api("GET", `/runs/get?run_id=${runId}`);
      expect(run.body.run.data.metrics.find((m: Json) => m.key === "m7")).toEqual({
        key: "m7",
        value: 997,
        timestamp: 997,
        step: 997,
      });
      const tooMany = await api("POST", "/runs/log-batch", {
        run_id: runId,
        metrics: [...metrics, metrics[0], metrics[1], metrics[2]],
      });
      expect(tooMany.status).toBe(400);
      expect(tooMany.body.error_code).toBe("INVALID_PARAMETER_VALUE");
      const longParam = await api("POST", "/runs/log-batch", {
        run_id: runId,
        params: [{ key: "p", value: "x".repeat(6001) }],
      });
      // MLflow 2.12's server keeps the first 6000 characters (MLFLOW_TRUNCATE_LONG_VALUES) instead of refusing.
      expect(longParam.status).toBe(200);
      const kept = await api("GET", `/runs/get?run_id=${runId}`);
      expect(kept.body.run.data.params.find((p: Json) => p.key === "p").value).toBe("x".repeat(6000));
      const badKey = await api("POST", "/runs/log-metric", { run_id: runId, key: "../x", value: 1, timestamp: 1 });
      expect(badKey.status).toBe(400);
      const badValue = await api("POST", "/runs/log-metric", { run_id: runId, key: "x", value: "high", timestamp: 1 });
      expect(badValue.status).toBe(400);
    });

    it("manages experiments: search, rename, tags, delete, restore", async () => {
      const { body } = await api("POST", "/experiments/create", { name: "to-delete" });
      const id = body.experiment_id;
      expect((await api("POST", "/experiments/update", { experiment_id: id, new_name: "renamed" })).status).toBe(200);
      expect(
        (await api("POST", "/experiments/set-experiment-tag", { experiment_id: id, key: "k", value: "v" })).status,
      ).toBe(200);
      const found = await api("POST", "/experiments/search", { filter: "name = 'renamed'", max_results: 10 });
      expect(found.body.experiments).toHaveLength(1);
      expect(found.body.experiments[0].tags).toEqual([{ key: "k", value: "v" }]);
      const viaGet = await api("GET", "/experiments/search?filter=tags.k%20%3D%20'v'&max_results=5");
      expect(viaGet.body.experiments.map((e: Json) => e.experiment_id)).toEqual([id]);
      expect((await api("POST", "/experiments/delete-experiment-tag", { experiment_id: id, key: "k" })).status).toBe(
        200,
      );
      const r = await api("POST", "/runs/create", { experiment_id: id });
      expect((await api("POST", "/experiments/delete", { experiment_id: id })).status).toBe(200);
      const deleted = await api("GET", `/experiments/get?experiment_id=${id}`);
      expect(deleted.body.experiment.lifecycle_stage).toBe("deleted");
      const runAfter = await api("GET", `/runs/get?run_id=${r.body.run.info.run_id}`);
      expect(runAfter.body.run.info.lifecycle_stage).toBe("deleted");
      const active = await api("POST", "/experiments/search", { view_type: "ACTIVE_ONLY" });
      expect(active.body.experiments.map((e: Json) => e.experiment_id)).not.toContain(id);
      const onlyDeleted = await api("POST", "/experiments/search", { view_type: "DELETED_ONLY" });
      expect(onlyDeleted.body.experiments.map((e: Json) => e.experiment_id)).toEqual([id]);
      expect((await api("POST", "/runs/create", { experiment_id: id })).status).toBe(400);
      expect((await api("POST", "/experiments/restore", { experiment_id: id })).status).toBe(200);
      expect((await api("GET", `/runs/get?run_id=${r.body.run.info.run_id}`)).body.run.info.lifecycle_stage).toBe(
        "active",
      );
      expect((await api("POST", "/experiments/delete", { experiment_id: "0" })).status).toBe(400);
      expect((await api("GET", "/experiments/get?experiment_id=999")).status).toBe(404);
    });

    it("deletes, restores and tags runs; logs inputs and models", async () => {
      const { body } = await api("POST", "/runs/create", { experiment_id: "0", tags: [{ key: "x", value: "1" }] });
      const runId = body.run.info.run_id;
      expect((await api("POST", "/runs/delete-tag", { run_id: runId, key: "x" })).status).toBe(200);
      expect((await api("POST", "/runs/delete-tag", { run_id: runId, key: "x" })).status).toBe(404);
      const inputs = await api("POST", "/runs/log-inputs", {
        run_id: runId,
        datasets: [
          {
            tags: [{ key: "mlflow.data.context", value: "train" }],
            dataset: { name: "d", digest: "abc", source_type: "local", source: "{}" },
          },
        ],
      });
      expect(inputs.status).toBe(200);
      expect(
        (await api("POST", "/runs/log-model", { run_id: runId, model_json: '{"artifact_path":"model"}' })).status,
      ).toBe(200);
      const got = await api("GET", `/runs/get?run_id=${runId}`);
      expect(got.body.run.inputs.dataset_inputs[0].dataset).toMatchObject({ name: "d", digest: "abc" });
      expect((await api("POST", "/runs/delete", { run_id: runId })).status).toBe(200);
      expect((await api("POST", "/runs/log-metric", { run_id: runId, key: "m", value: 1, timestamp: 1 })).status).toBe(
        400,
      );
      const search = await api("POST", "/runs/search", { experiment_ids: ["0"], run_view_type: "DELETED_ONLY" });
      expect(search.body.runs.map((r: Json) => r.info.run_id)).toContain(runId);
      expect((await api("POST", "/runs/restore", { run_id: runId })).status).toBe(200);
      expect((await api("GET", "/runs/get?run_id=0123456789abcdef0123456789abcdef")).status).toBe(404);
      expect((await api("GET", "/runs/get")).status).toBe(400);
    });

    it("serves the artifact proxy: put, get, list, delete", async () => {
      const base = `${s.url}/api/2.0/mlflow-artifacts/artifacts`;
      const auth = { authorization: `Bearer ${s.adminToken}` };
      const put = await fetch(`${base}/0/abc/artifacts/dir/a.txt`, {
        method: "PUT",
        headers: { ...auth, "content-type": "text/plain" },
        body: "hello",
      });
      expect(put.status).toBe(200);
      const get = await fetch(`${base}/0/abc/artifacts/dir/a.txt`, { headers: auth });
      expect(await get.text()).toBe("hello");
      const list = await fetch(`${base}?path=0/abc/artifacts`, { headers: auth });
      expect(await list.json()).toEqual({ files: [{ path: "dir", is_dir: true }] });
      const ajax = await fetch(`${s.url}/ajax-api/2.0/mlflow-artifacts/artifacts?path=0/abc/artifacts/dir`, {
        headers: auth,
      });
      expect(await ajax.json()).toEqual({ files: [{ path: "a.txt", is_dir: false, file_size: 5 }] });
      expect((await fetch(`${base}/0/abc/artifacts/dir`, { method: "DELETE", headers: auth })).status).toBe(200);
      const gone = await fetch(`${base}/0/abc/artifacts/dir/a.txt`, { headers: auth });
      expect(gone.status).toBe(404);
      expect(await gone.json()).toMatchObject({ error_code: "RESOURCE_DOES_NOT_EXIST" });
      const escape = await fetch(`${base}/0/../../etc/passwd`, { headers: auth });
      expect(escape.status).toBeLessThan(500);
    });

    it("answers auth failures as MLflow does and serves the ajax-api twins", async () => {
      const anon = await s.api<Json>("GET", "/api/2.0/mlflow/experiments/get?experiment_id=0", undefined, null);
      expect(anon.status).toBe(401);
      expect(anon.body.error_code).toBe("UNAUTHENTICATED");
      const basic = await fetch(`${s.url}/api/2.0/mlflow/experiments/get?experiment_id=0`, {
        headers: { authorization: `Basic ${Buffer.from(`admin:${s.adminToken}`).toString("base64")}` },
      });
      expect(basic.status).toBe(200);
      const ajax = await s.api<Json>("GET", "/ajax-api/2.0/mlflow/experiments/get?experiment_id=0");
      expect(ajax.status).toBe(200);
    });
  });
}
