/**
 * Statements per request on PostgreSQL: every query the pg driver sends is counted (pg.Client's
 * query wrapped) while one HTTP request runs against an in-process server. The bounds are what the
 * bulk-write paths promise (issue 22); a regression that goes back to one statement per row fails here.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable } from "../helpers/stores.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- MLflow replies, read field by field
type Reply = Record<string, any>;

const run = postgresAvailable() ? describe : describe.skip;

run("round trips per request [postgres]", () => {
  let t: TestServer;
  const seen: string[] = [];
  let counting = false;
  const original = pg.Client.prototype.query;
  beforeAll(async () => {
    t = await startTestServer({ store: "postgres" });
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      if (counting) {
        const first = args[0] as string | { text?: string; name?: string };
        seen.push(typeof first === "string" ? first : (first.text ?? first.name ?? "?"));
      }
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
  }, 60_000);
  afterAll(async () => {
    pg.Client.prototype.query = original;
    await t?.stop();
  });

  async function counted(fn: () => Promise<unknown>): Promise<string[]> {
    seen.length = 0;
    counting = true;
    try {
      await fn();
      // The audit head and other after-reply work settle within the request's tail.
      await t.server.opened.services.tracking.flushAuditHead();
    } finally {
      counting = false;
    }
    // Authentication's lookups (token, user, project; cached for seconds, so present or not by timing)
    // are the same for every route: the bounds are on the route's own work.
    return seen.filter((q) => !/from "(api_tokens|users|projects|project_members)"/.test(q));
  }

  it("log-batch, run create and runs/search stay a few statements each", async () => {
    const mlflow = (path: string, body: unknown) => t.api<Reply>("POST", `/api/2.0/mlflow${path}`, body);
    await mlflow("/runs/create", { experiment_id: "0" }); // creates Default: not what is counted
    let runId = "";
    const create = await counted(async () => {
      const r = await mlflow("/runs/create", { experiment_id: "0", tags: [{ key: "a", value: "b" }] });
      expect(r.status).toBe(200);
      runId = r.body.run.info.run_id;
    });
    const metrics = Array.from({ length: 999 }, (_, i) => ({ key: `m${i % 20}`, value: i, timestamp: 1, step: i }));
    const batch = await counted(async () => {
      const r = await mlflow("/runs/log-batch", { run_id: runId, metrics, params: [{ key: "p", value: "1" }] });
      expect(r.status).toBe(200);
    });
    const search = await counted(async () => {
      const r = await mlflow("/runs/search", {
        experiment_ids: ["0"],
        filter: "metrics.m1 > 0",
        order_by: ["metrics.m1 DESC"],
      });
      expect(r.status).toBe(200);
      expect(r.body.runs).toHaveLength(1);
    });
    // Before issue 22 (without authentication's lookups): create 15, log-batch 10 (one 6 000-parameter INSERT per 1000 points, the audit
    // lock taken mid-transaction and held over three round trips), search 6.
    // Session 5: create 14, log-batch 8, search 6 (the search, then five reads of the page's runs).
    // Session 6: create 7 (begin, the experiment with its tags, run, tags, audit event, commit; the
    // audit head's read after the reply), log-batch 7 (params inserted without reading them first).
    // Now (session 7): create 1 and log-batch 1, each one statement with its audit event
    // (tracking-writes-pg.ts), plus the audit head's read of the sealed event after the reply; the
    // project check is remembered. Search 1 (the page's runs read inside the search statement) plus
    // the statistics check of every 30 s.
    expect(create.length, create.join("\n")).toBeLessThanOrEqual(2);
    expect(batch.length, batch.join("\n")).toBeLessThanOrEqual(2);
    expect([...create, ...batch].filter((q) => /^\s*(begin|commit)/i.test(q))).toHaveLength(0);
    expect(search.length, search.join("\n")).toBeLessThanOrEqual(2);
    expect(search.filter((q) => /tracking_/.test(q))).toHaveLength(1);
    // All 999 points and their latest values travel in one statement of array parameters.
    expect(batch.filter((q) => /tracking_metrics/.test(q))).toHaveLength(1);
    expect(batch.some((q) => /\$7[0-9]/.test(q))).toBe(false);
    // No client round trip happens under the audit lock: events are chained at commit.
    expect([...create, ...batch].some((q) => /pg_advisory/.test(q))).toBe(false);
  });

  it("the one-statement writes refuse what the general path refuses, write nothing then, and keep the chain", async () => {
    const mlflow = (path: string, body: unknown) => t.api<Reply>("POST", `/api/2.0/mlflow${path}`, body);
    const exp = await mlflow("/experiments/create", { name: `one-statement-${Date.now()}` });
    const experimentId = exp.body.experiment_id as string;
    const first = await mlflow("/runs/create", { experiment_id: experimentId }); // the experiment is now known
    const runId = first.body.run.info.run_id as string;
    const point = { key: "m", value: 1, timestamp: 1, step: 0 };
    expect((await mlflow("/runs/log-batch", { run_id: runId, params: [{ key: "p", value: "1" }] })).status).toBe(200);
    // Same value again: fine (MLflow's idempotence); another value: refused, and its metric not written.
    expect((await mlflow("/runs/log-batch", { run_id: runId, params: [{ key: "p", value: "1" }] })).status).toBe(200);
    const clash = await mlflow("/runs/log-batch", {
      run_id: runId,
      metrics: [point],
      params: [{ key: "p", value: "2" }],
    });
    expect(clash.status).toBe(400);
    expect(clash.body.message).toContain("Changing param values is not allowed. Param with key='p'");
    const read = await t.api<Reply>("GET", `/api/2.0/mlflow/runs/get?run_id=${runId}`);
    expect(read.body.run.data.metrics ?? []).toEqual([]);
    expect((await mlflow("/runs/log-batch", { run_id: "f".repeat(32), metrics: [point] })).status).toBe(404);
    expect((await mlflow("/runs/delete", { run_id: runId })).status).toBe(200);
    const onDeleted = await mlflow("/runs/log-batch", { run_id: runId, metrics: [point] });
    expect(onDeleted.status).toBe(400);
    expect(onDeleted.body.message).toContain("must be in the 'active' state");
    // A deleted experiment refuses runs, though this server remembers it from the first create.
    expect((await mlflow("/experiments/delete", { experiment_id: experimentId })).status).toBe(200);
    const inDeleted = await mlflow("/runs/create", { experiment_id: experimentId });
    expect(inDeleted.status).toBe(400);
    expect(inDeleted.body.message).toContain("must be in the 'active' state");
    expect((await mlflow("/experiments/restore", { experiment_id: experimentId })).status).toBe(200);
    expect((await mlflow("/runs/create", { experiment_id: experimentId })).status).toBe(200);
    await t.server.opened.services.tracking.flushAuditHead();
    const verdict = await t.server.opened.services.audit.verify();
    expect(verdict.ok, JSON.stringify(verdict)).toBe(true);
  });
});
