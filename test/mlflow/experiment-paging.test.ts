/**
 * experiments/search page tokens with the real MLflow 2.12 client, on SQLite and Postgres: MlflowClient
 * pages through the experiments (newest first) while one is created after every page, at the head of
 * the order, where an offset token shifts every later page and repeats an experiment. Keyset tokens
 * (experiment-keyset.ts) give every experiment that existed at the start exactly once, in the order
 * one search gives. A token shown to a different search is refused with INVALID_PARAMETER_VALUE.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mlflowPython, runMlflowClient } from "../helpers/mlflow.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const mlflow = mlflowPython();
if ("reason" in mlflow) console.warn(`[skip] experiments/search paging with the real MLflow client: ${mlflow.reason}`);

const EXPERIMENTS = 11;

const PAGING_SCRIPT = `
import json
from mlflow import MlflowClient
client = MlflowClient()
seen, token, pages = [], None, 0
while True:
    page = client.search_experiments(max_results=3, page_token=token)
    seen += [e.experiment_id for e in page]
    pages += 1
    client.create_experiment(f"made-while-paging-{pages}")
    token = page.token
    if not token:
        break
print(json.dumps({"seen": seen, "pages": pages}))
`;

for (const kind of STORE_KINDS) {
  const run = "reason" in mlflow || (kind === "postgres" && !postgresAvailable()) ? describe.skip : describe;
  run(`experiments/search paging with the real MLflow client [${kind}]`, () => {
    let s: TestServer;
    const api = (method: string, path: string, body?: unknown) => s.api<Json>(method, `/api/2.0/mlflow${path}`, body);
    beforeAll(async () => {
      s = await startTestServer({ store: kind });
      for (let i = 0; i < EXPERIMENTS; i++) await api("POST", "/experiments/create", { name: `paged-${i}` });
    }, 120_000);
    afterAll(async () => {
      await s?.stop();
    });

    it("pages through newest first while experiments are created: each once, in order", async () => {
      const one = await api("POST", "/experiments/search", { max_results: 1000 });
      const expected = (one.body.experiments as Json[]).map((e) => e.experiment_id as string);
      const out = await runMlflowClient(s.url, s.adminToken, ["-c", PAGING_SCRIPT]);
      expect([out.status, out.stderr.split("\n").slice(-5).join("\n")]).toEqual([0, expect.any(String)]);
      const { seen, pages } = JSON.parse(out.stdout.trim().split("\n").pop()!) as { seen: string[]; pages: number };
      expect(pages).toBeGreaterThan(3);
      const original = new Set(expected);
      expect(seen.filter((id) => original.has(id))).toEqual(expected);
      expect(new Set(seen).size).toBe(seen.length);
    }, 180_000);

    it("refuses a token shown to another search", async () => {
      const first = await api("POST", "/experiments/search", { max_results: 2 });
      const token = first.body.next_page_token as string;
      expect(token).toBeTruthy();
      const other = await api("POST", "/experiments/search", { max_results: 2, order_by: ["name"], page_token: token });
      expect(other.status).toBe(400);
      expect(other.body.error_code).toBe("INVALID_PARAMETER_VALUE");
    });
  });
}
