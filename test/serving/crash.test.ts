/**
 * A real `kill -9` of a `tandem serve` process while it answers, on SQLite and on PostgreSQL: the
 * store stays intact, every answer older than the log's flush window is in the prediction log
 * exactly once, nothing is logged that was not answered, and a new process serves the endpoint and
 * takes feedback for the logged ids.
 */
import BetterSqlite3 from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { StoredBatch, type StoredBatchRow } from "../../src/stores/metadata/prediction-log-rows.mjs";
import { linearClassifierOnnx } from "../helpers/onnx-models.js";
import { prepareServingHome } from "../helpers/serving-home.js";
import { startCli } from "../pipelines/cli.js";
import { freshPostgresDatabase, postgresAvailable, STORE_KINDS, type StoreKind } from "../helpers/stores.js";

const FEATURES = ["a", "b"];

function startServe(home: string, env: Record<string, string>) {
  const started = startCli(["serve", "m", "--port", "0"], { cwd: home, env: { TANDEM_HOME: home, ...env } });
  const url = new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /listening on (http:\/\/\S+)/.exec(started.output().stdout);
      if (m) {
        clearInterval(timer);
        resolve(m[1]!);
      }
    }, 50);
    void started.done.then((r) => {
      clearInterval(timer);
      reject(new Error(`tandem serve exited (${r.code}): ${r.stderr.slice(-500)}`));
    });
  });
  return { ...started, url };
}

async function predict(url: string, token: string, i: number): Promise<string> {
  const res = await fetch(`${url}/v1/endpoints/m/predict`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ instances: [{ a: i / 100, b: 0.5 }] }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { prediction_ids: string[] }).prediction_ids[0]!;
}

type LoggedRow = { id: string; features: string; output: string | null };

/**
 * The logged rows, read straight from the database the killed process wrote (and an integrity check
 * on SQLite): each stored batch's rows, as the store's readers see them.
 */
async function loggedRows(kind: StoreKind, home: string, env: Record<string, string>): Promise<LoggedRow[]> {
  const query = "select * from prediction_batches where endpoint = 'm'";
  let batches: StoredBatchRow[];
  if (kind === "postgres") {
    const client = new pg.Client({ connectionString: env.TANDEM_DATABASE_URL });
    await client.connect();
    try {
      batches = (await client.query<StoredBatchRow>(query)).rows;
    } finally {
      await client.end();
    }
  } else {
    const db = new BetterSqlite3(join(home, "tandem.db"));
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    batches = db.prepare(query).all() as StoredBatchRow[];
    db.close();
  }
  return batches.flatMap((row) => {
    const batch = new StoredBatch(row);
    return Array.from({ length: batch.rows }, (_, i) => ({
      id: batch.id(i),
      features: batch.featureText(i),
      output: batch.outputText(i),
    }));
  });
}

for (const kind of STORE_KINDS) {
  describe.skipIf(kind === "postgres" && !postgresAvailable())(`kill -9 of a serving process [${kind}]`, () => {
    const root = mkdtempSync(join(tmpdir(), "tandem-serve-crash-"));
    const home = join(root, "home");
    let token: string;
    let env: Record<string, string> = {};
    let dropDatabase: () => Promise<void> = async () => undefined;
    beforeAll(async () => {
      if (kind === "postgres") {
        const fresh = await freshPostgresDatabase();
        env = { TANDEM_DATABASE_URL: (fresh.database as { url: string }).url };
        dropDatabase = fresh.cleanup;
      }
      token = await prepareServingHome(
        home,
        "m",
        linearClassifierOnnx({ features: FEATURES, weights: [1, -1], bias: 0 }),
        env,
      );
    }, 60_000);
    afterAll(async () => {
      rmSync(root, { recursive: true, force: true });
      await dropDatabase();
    });

    it("keeps the store intact and every answer older than the flush window, and serves again", async () => {
      const first = startServe(home, env);
      const url = await first.url;
      // stdout's "listening on" and stderr's notes arrive through two pipes, in either order.
      await vi.waitFor(() => expect(first.output().stderr).toMatch(/prediction log: written every 25 ms/), {
        timeout: 10_000,
      });

      // Answers well before the kill: 8 clients, 25 requests each.
      const settled = (
        await Promise.all(
          Array.from({ length: 8 }, async (_, c) => {
            const ids: string[] = [];
            for (let k = 0; k < 25; k++) ids.push(await predict(url, token, c * 25 + k));
            return ids;
          }),
        )
      ).flat();
      // Several flush windows pass: those answers must be on disk now, whatever happens next.
      await new Promise((r) => setTimeout(r, 500));
      // Answers still in the last window when the process dies: they may or may not have been written.
      const inFlight = await Promise.all(Array.from({ length: 20 }, (_, i) => predict(url, token, 1000 + i)));
      const exited = new Promise((r) => first.child.once("exit", r));
      process.kill(first.child.pid!, "SIGKILL");
      await exited;

      const rows = await loggedRows(kind, home, env);
      const logged = new Set(rows.map((r) => r.id));
      expect(logged.size).toBe(rows.length);
      for (const id of settled) expect(logged.has(id)).toBe(true);
      const answered = new Set([...settled, ...inFlight]);
      for (const id of logged) expect(answered.has(id)).toBe(true);
      expect(JSON.parse(rows[0]!.features)).toEqual({ a: expect.any(Number), b: 0.5 });
      expect(JSON.parse(rows[0]!.output!)).toMatchObject({ label: expect.anything() });

      // A new process on the same home serves again, and the logged answers take feedback.
      const second = startServe(home, env);
      const url2 = await second.url;
      await predict(url2, token, 7);
      const res = await fetch(`${url2}/v1/endpoints/m/feedback`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(settled.slice(0, 3).map((id) => ({ prediction_id: id, label: 1 }))),
      });
      expect(await res.json()).toEqual({ accepted: 3, unknown_prediction_ids: [] });
      second.child.kill("SIGTERM");
      expect((await second.done).code).toBe(0);
    }, 120_000);
  });
}
