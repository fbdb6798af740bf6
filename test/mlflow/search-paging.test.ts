/**
 * runs/search page tokens with the real MLflow 2.12 client, on SQLite and Postgres: MlflowClient
 * pages through an experiment while runs are being created between its pages (at the head of the
 * order in the first two searches, where an offset token shifts every later page: runs repeat). Keyset tokens
 * (run-keyset.ts) give every run that existed at the start exactly once, in the order one search
 * gives. A token shown to a different search is refused with MLflow's INVALID_PARAMETER_VALUE.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mlflowPython, runMlflowClient } from "../helpers/mlflow.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const mlflow = mlflowPython();
if ("reason" in mlflow) console.warn(`[skip] runs/search paging with the real MLflow client: ${mlflow.reason}`);

const RUNS = 23;
const PAGE = 5;

/** Pages through one search, creating two runs (newest, lowest auc) after every page. */
const PAGING_SCRIPT = `
import json, sys, time
from mlflow import MlflowClient
client = MlflowClient()
order_by = json.loads(sys.argv[1])
filter_string = sys.argv[2]
seen, token, pages = [], None, 0
while True:
    page = client.search_runs(["0"], filter_string=filter_string, order_by=order_by, max_results=${PAGE}, page_token=token)
    seen += [r.info.run_id for r in page]
    pages += 1
    for _ in range(2):
        run = client.create_run("0", start_time=int(time.time() * 1000) + 10_000_000)
        client.log_metric(run.info.run_id, "auc", -1.0)
    token = page.token
    if not token:
        break
print(json.dumps({"seen": seen, "pages": pages}))
`;

function runPython(s: TestServer, args: string[]) {
  return runMlflowClient(s.url, s.adminToken, ["-c", PAGING_SCRIPT, ...args]);
}

for (const kind of STORE_KINDS) {
  const run = "reason" in mlflow || (kind === "postgres" && !postgresAvailable()) ? describe.skip : describe;
  run(`runs/search paging with the real MLflow client [${kind}]`, () => {
    let s: TestServer;
    const api = (method: string, path: string, body?: unknown) => s.api<Json>(method, `/api/2.0/mlflow${path}`, body);
    beforeAll(async () => {
      s = await startTestServer({ store: kind });
      for (let i = 0; i < RUNS; i++) {
        // Start times tie in threes, so run_id breaks ties; auc values tie in pairs.
        const r = await api("POST", "/runs/create", {
          experiment_id: "0",
          start_time: 1_700_000_000_000 + Math.floor(i / 3),
        });
        const runId = r.body.run.info.run_id as string;
        await api("POST", "/runs/log-metric", {
          run_id: runId,
          key: "auc",
          value: Math.floor(i / 2) / 100,
          timestamp: 1,
          step: 0,
        });
      }
    }, 120_000);
    afterAll(async () => {
      await s?.stop();
    });

    async function oneSearch(body: Json): Promise<string[]> {
      const r = await api("POST", "/runs/search", { experiment_ids: ["0"], max_results: 1000, ...body });
      expect(r.status).toBe(200);
      return (r.body.runs as Json[]).map((x) => x.info.run_id as string);
    }

    for (const [name, orderBy, filter] of [
      ["newest first", [], ""],
      ["a metric filter ordered by that metric", ["metrics.auc ASC"], "metrics.auc < 1"],
      ["a metric order without a filter (new runs at the tail)", ["metrics.auc DESC"], ""],
    ] as const) {
      it(`pages through ${name} while runs are created: each run once, in order`, async () => {
        const expected = await oneSearch({ order_by: orderBy, filter });
        const out = await runPython(s, [JSON.stringify(orderBy), filter]);
        expect([out.status, out.stderr.split("\n").slice(-5).join("\n")]).toEqual([0, expect.any(String)]);
        const { seen, pages } = JSON.parse(out.stdout.trim().split("\n").pop()!) as { seen: string[]; pages: number };
        expect(pages).toBeGreaterThan(2);
        const original = new Set(expected);
        expect(seen.filter((id) => original.has(id))).toEqual(expected);
        expect(new Set(seen).size).toBe(seen.length);
      }, 180_000);
    }

    it("refuses a page token shown to a different search", async () => {
      const first = await api("POST", "/runs/search", { experiment_ids: ["0"], max_results: 2 });
      const token = first.body.next_page_token as string;
      expect(token).toBeTruthy();
      const other = await api("POST", "/runs/search", {
        experiment_ids: ["0"],
        max_results: 2,
        order_by: ["metrics.auc DESC"],
        page_token: token,
      });
      expect([other.status, other.body.error_code]).toEqual([400, "INVALID_PARAMETER_VALUE"]);
      expect(other.body.message).toMatch(/different search/);
      const garbage = await api("POST", "/runs/search", { experiment_ids: ["0"], page_token: "bm90IGEgdG9rZW4=" });
      expect([garbage.status, garbage.body.error_code]).toEqual([400, "INVALID_PARAMETER_VALUE"]);
    });
  });
}
