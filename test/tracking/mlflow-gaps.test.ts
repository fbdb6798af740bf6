/**
 * MLflow API gaps a 2.x client meets, over HTTP on SQLite and Postgres: the UI charts'
 * metrics/get-history-bulk-interval, and the clear 501 for endpoints newer than 2.12 (MLflow 3's
 * logged models and traces among them) instead of a 404.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MLFLOW_LATER_ENDPOINTS } from "../../src/server/routes/mlflow-later.js";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

for (const kind of STORE_KINDS) {
  describe.skipIf(kind === "postgres" && !postgresAvailable())(`MLflow API gaps [${kind}]`, () => {
    let s: TestServer;
    const api = (method: string, path: string, body?: unknown) => s.api<Json>(method, `/api/2.0/mlflow${path}`, body);
    beforeAll(async () => {
      s = await startTestServer({ store: kind });
    });
    afterAll(async () => s?.stop());

    async function runWith(steps: number[]): Promise<string> {
      const run = await api("POST", "/runs/create", { experiment_id: "0" });
      const runId = run.body.run.info.run_id as string;
      const metrics = steps.map((step) => ({
        key: "loss",
        value: 1 / (step + 1),
        timestamp: 1_700_000_000_000 + step,
        step,
      }));
      const logged = await api("POST", "/runs/log-batch", { run_id: runId, metrics });
      expect(logged.status).toBe(200);
      return runId;
    }

    it("answers metrics/get-history-bulk-interval with MLflow's sampling", async () => {
      const a = await runWith(Array.from({ length: 100 }, (_, i) => i));
      const b = await runWith([5, 150]);
      const r = await api(
        "GET",
        `/metrics/get-history-bulk-interval?run_ids=${a}&run_ids=${b}&metric_key=loss&max_results=10`,
      );
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const metrics = r.body.metrics as Json[];
      expect(metrics[0]).toEqual({ key: "loss", value: 1, timestamp: 1_700_000_000_000, step: 0, run_id: a });
      // Steps 0..99 and 150 (101 steps) sampled to 10 at interval 10.1, plus the last (150) and each
      // run's first and last (0, 99, 5, 150).
      const ofA = metrics.filter((m) => m.run_id === a).map((m) => m.step as number);
      expect(ofA).toEqual([0, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99]);
      expect(metrics.filter((m) => m.run_id === b).map((m) => m.step)).toEqual([5, 150]);
      expect(metrics.findIndex((m) => m.run_id === b)).toBe(ofA.length);

      const ranged = await api(
        "GET",
        `/metrics/get-history-bulk-interval?run_ids=${a}&metric_key=loss&start_step=10&end_step=12`,
      );
      expect((ranged.body.metrics as Json[]).map((m) => m.step)).toEqual([10, 11, 12]);
    });

    it("refuses bad bulk-interval queries the way MLflow does", async () => {
      const a = await runWith([0]);
      const cases = [
        `metric_key=loss`,
        `run_ids=${a}`,
        `run_ids=${a}&metric_key=loss&max_results=0`,
        `run_ids=${a}&metric_key=loss&start_step=3`,
        `run_ids=${a}&metric_key=loss&start_step=3&end_step=1`,
      ];
      for (const q of cases) {
        const r = await api("GET", `/metrics/get-history-bulk-interval?${q}`);
        expect([q, r.status, r.body.error_code]).toEqual([q, 400, "INVALID_PARAMETER_VALUE"]);
      }
      const unknown = await api("GET", `/metrics/get-history-bulk-interval?run_ids=${"0".repeat(32)}&metric_key=loss`);
      expect([unknown.status, unknown.body.error_code]).toEqual([404, "RESOURCE_DOES_NOT_EXIST"]);
    });

    it("answers every endpoint newer than 2.12 with a 501 naming it, in MLflow's error shape", async () => {
      for (const [method, path, rpc] of MLFLOW_LATER_ENDPOINTS) {
        const url = path.replace(/\{[\w.]+\}/g, "x1");
        const r = await s.api<Json>(method, url, method === "GET" || method === "DELETE" ? undefined : {});
        expect([method, url, r.status, r.body.error_code]).toEqual([method, url, 501, "NOT_IMPLEMENTED"]);
        expect(r.body.message).toContain(`${method} ${path} (MLflow's ${rpc}`);
      }
      const ajax = await s.api<Json>("POST", "/ajax-api/2.0/mlflow/logged-models/search", {});
      expect(ajax.status).toBe(501);
      const anonymous = await s.api<Json>("POST", "/api/3.0/mlflow/traces", {}, null);
      expect(anonymous.status).toBe(401);
      // A path no MLflow version has still answers in MLflow's JSON shape, never an HTML page.
      const nowhere = await s.api<Json>("GET", "/api/3.0/mlflow/no-such-thing");
      expect([nowhere.status, nowhere.body.error_code]).toEqual([404, "RESOURCE_DOES_NOT_EXIST"]);
    });
  });
}
