/**
 * Eight concurrent writers of MLflow log-batch on PostgreSQL, on one run and on eight runs: every
 * point is stored exactly once, the latest value per key is the last step, and the audit chain
 * (chained at commit, migration 0004) verifies with one event per batch.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable } from "../helpers/stores.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- MLflow replies, read field by field
type Reply = Record<string, any>;

const WRITERS = 8;
const BATCHES = 10;
const POINTS = 500;

describe.skipIf(!postgresAvailable())("8 log-batch writers [postgres]", () => {
  let t: TestServer;
  let db: pg.Client;
  beforeAll(async () => {
    t = await startTestServer({ store: "postgres" });
    const config = t.server.opened.services.config.database;
    db = new pg.Client({ connectionString: (config as { url: string }).url });
    await db.connect();
  }, 60_000);
  afterAll(async () => {
    await db?.end();
    await t?.stop();
  });

  const mlflow = async (path: string, body: unknown) => {
    const r = await t.api<Reply>("POST", `/api/2.0/mlflow${path}`, body);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body;
  };

  /** Writer w logs BATCHES batches; its points are keys w{w}_k{0..9} at steps unique to the writer. */
  async function writer(runId: string, w: number): Promise<void> {
    for (let b = 0; b < BATCHES; b++) {
      const metrics = Array.from({ length: POINTS }, (_, i) => {
        const n = b * POINTS + i;
        return { key: `w${w}_k${n % 10}`, value: n, timestamp: 1_700_000_000_000 + n, step: Math.floor(n / 10) };
      });
      await mlflow("/runs/log-batch", { run_id: runId, metrics });
    }
  }

  async function check(runIds: string[]): Promise<void> {
    const rows = await db.query<{ n: number; distinct_points: number }>(
      `select count(*)::int as n, count(distinct (run_id, key, step))::int as distinct_points
         from tracking_metrics where run_id = any($1)`,
      [runIds],
    );
    expect(rows.rows[0]).toEqual({ n: WRITERS * BATCHES * POINTS, distinct_points: WRITERS * BATCHES * POINTS });
    const latest = await db.query<{ key: string; step: string; value: number }>(
      "select key, step, value from tracking_latest_metrics where run_id = any($1)",
      [runIds],
    );
    expect(latest.rows).toHaveLength(WRITERS * 10);
    const lastStep = (BATCHES * POINTS) / 10 - 1;
    for (const r of latest.rows) expect(Number(r.step)).toBe(lastStep);
  }

  async function verifyAudit(): Promise<void> {
    const services = t.server.opened.services;
    await services.tracking.flushAuditHead();
    const verdict = await services.audit.verify();
    expect(verdict).toMatchObject({ ok: true });
  }

  it("on one run: no point lost or duplicated, and the audit chain verifies", async () => {
    const { run } = await mlflow("/runs/create", { experiment_id: "0" });
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(run.info.run_id, w)));
    await check([run.info.run_id]);
    await verifyAudit();
    const events = await db.query<{ n: number }>(
      "select count(*)::int as n from audit_events where action = 'tracking.run.log' and target = $1",
      [`run:${run.info.run_id}`],
    );
    expect(events.rows[0]!.n).toBe(WRITERS * BATCHES);
  }, 300_000);

  it("on eight runs: no point lost or duplicated, and the audit chain verifies", async () => {
    const runIds: string[] = [];
    for (let w = 0; w < WRITERS; w++)
      runIds.push((await mlflow("/runs/create", { experiment_id: "0" })).run.info.run_id);
    await Promise.all(runIds.map((id, w) => writer(id, w)));
    await check(runIds);
    await verifyAudit();
    // Seq order is commit order: the chain has no pending (unchained) event left and no gap in links.
    const pending = await db.query<{ n: number }>("select count(*)::int as n from audit_events where hash = ''");
    expect(pending.rows[0]!.n).toBe(0);
  }, 300_000);
});
