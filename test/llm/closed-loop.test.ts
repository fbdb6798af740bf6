/**
 * The prompt closed loop over HTTP on SQLite and Postgres: an LLM endpoint serves `support@production`;
 * a new version that answers worse (no errors, so no error-rate SLO sees it) gets the alias; calls and
 * feedback arrive; the monitor's sampled evaluation (tandem/eval's scorers on half the logged calls)
 * fails and fires its alert; the alert starts an eval pipeline on cases from a dataset, and the
 * policy whose `rollback.on_alert` names the alert moves `production` back to the previous version,
 * which the endpoint serves again. A trace-stream monitor watches the same calls' spans (tokens per
 * call). The upstream is a STAND-IN (test/helpers/llm-standin.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../src/server/services.js";
import { chatCall } from "../helpers/llm-chat.js";
import { startStandin, type Standin } from "../helpers/llm-standin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- wire answers read by field in assertions
type Wire = Record<string, any>;
const P = "helpdesk";
const GOOD = [
  { role: "system", content: "You answer questions about {{ product }}." },
  { role: "user", content: "{{ input }}" },
];
const TERSE = [
  { role: "system", content: "TERSE mode for {{ product }}." },
  { role: "user", content: "{{ input }}" },
];
const CASES = ["where is my parcel", "refund please", "change address", "opening hours"]
  .map((input) => JSON.stringify({ variables: { input, product: "Parcelly" }, expected: "Answer:" }))
  .join("\n");

async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

for (const kind of STORE_KINDS)
  describe.skipIf(kind === "postgres" && !postgresAvailable())(`the prompt closed loop [${kind}]`, () => {
    let t: TestServer;
    let s: Services;
    let upstream: Standin;

    const spec = () => `project: ${P}
endpoints:
  bot:
    llm: { upstream: "${upstream.url}", model: standin-1, prompt: support@production }
monitors:
  quality:
    endpoint: bot
    min_rows: 10
    checks:
      - sampled_eval: { percent: 50, min: 0.8, scorers: [{ regex: "^Answer:" }] }
      - tokens: { max_per_call: 1000 }
      - feedback: { min: 0.5 }
      - error_rate: { max: 0.05 }
  agent-tokens:
    traces: { model: standin-1 }
    min_rows: 10
    checks:
      - tokens: { max_per_call: 5 }
      - latency: { p95_ms: 5000 }
policies:
  prompt-loop:
    applies_to: { prompts: [support@production] }
    rollback: { on_alert: quality }
pipelines:
  recheck:
    triggers:
      - alert: quality
    steps:
      eval:
        uses: tandem/eval
        with:
          cases: dataset://support-cases@latest
          prompt: support@latest
          upstream: "${upstream.url}"
          scorers: [{ regex: "^Answer:" }]
`;
    const chat = async (input: string) => {
      const r = await chatCall(t, P, "bot", {
        messages: [{ role: "user", content: input }],
        metadata: { variables: { product: "Parcelly" } },
      });
      expect(r.status).toBe(200);
      return { id: r.headers.get("x-tandem-prediction-id")!, version: r.headers.get("x-tandem-prompt-version") };
    };
    const endpoint = async () => (await t.api<Wire>("GET", `/api/v1/projects/${P}/endpoints/bot`)).body;
    const settle = async () => {
      await s.serving.controller.tick();
      await s.serving.runtime.sync();
    };

    beforeAll(async () => {
      upstream = await startStandin({
        answer: (messages) =>
          messages.some((m) => m.content.includes("TERSE")) ? "dunno" : `Answer: ${messages.at(-1)!.content}`,
      });
      t = await startTestServer({ store: kind, env: { TANDEM_OUTBOUND_ALLOW: "127.0.0.1" } });
      s = t.server.opened.services;
      const blob = await s.artifacts.putBlob(CASES);
      await s.data.createVersion("admin", P, "support-cases", {
        kind: "file",
        entries: [{ path: "cases.jsonl", sha256: blob.sha256, size: blob.size }],
      });
      const v1 = await t.api("POST", `/api/v1/projects/${P}/prompts/support/versions`, { messages: GOOD });
      expect(v1.status).toBe(201);
      expect(
        (await t.api("PUT", `/api/v1/projects/${P}/prompts/support/aliases/production`, { version: 1 })).status,
      ).toBe(200);
      const applied = await t.api("POST", `/api/v1/projects/${P}/specs`, { source: spec(), file: "tandem.yaml" });
      expect(applied.status, JSON.stringify(applied.body)).toBeLessThan(300);
      await settle();
    }, 60_000);

    afterAll(async () => {
      await t?.stop();
      await upstream?.close();
    });

    it("rolls production back when the sampled score drops, and the alert starts the eval pipeline", async () => {
      expect(await endpoint()).toMatchObject({ primary_version: 1 });
      // A worse version takes production: it errs nowhere, it just answers badly.
      expect((await t.api("POST", `/api/v1/projects/${P}/prompts/support/versions`, { messages: TERSE })).status).toBe(
        201,
      );
      expect(
        (await t.api("PUT", `/api/v1/projects/${P}/prompts/support/aliases/production`, { version: 2 })).status,
      ).toBe(200);
      await settle();
      expect(await endpoint()).toMatchObject({ primary_version: 2 });

      const calls = [];
      for (let i = 0; i < 40; i++) calls.push(await chat(`question ${i}`));
      expect(calls.every((c) => c.version === "support@2")).toBe(true);
      const feedback = calls.slice(0, 10).map((c, i) => ({ prediction_id: c.id, label: i < 3 ? 1 : 0 }));
      await s.serving.logger.flush();
      const fb = await fetch(`${t.url}/v1/endpoints/bot/feedback`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "application/json", "x-tandem-project": P },
        body: JSON.stringify(feedback),
      });
      expect(await fb.json()).toMatchObject({ accepted: 10 });

      const run = await t.api<Wire>("POST", `/api/v1/projects/${P}/monitors/quality/run`, {});
      expect(run.status, JSON.stringify(run.body)).toBe(200);
      const result = run.body.result ?? run.body;
      expect(result.status).toBe("failing");
      const byCheck = Object.fromEntries((result.checks as Wire[]).map((c) => [c.check, c]));
      expect(byCheck.sampled_eval).toMatchObject({ passed: false });
      const sampled = byCheck.sampled_eval.details;
      // About half the calls, picked by prediction id; every one answered by version 2, every one scoring 0.
      expect(sampled.sampled_calls).toBeGreaterThan(8);
      expect(sampled.sampled_calls).toBeLessThan(33);
      expect(sampled.prompts).toEqual({ "support@2": sampled.sampled_calls });
      expect(sampled.scores.regex).toMatchObject({ mean: 0, errors: 0 });
      expect(byCheck.feedback).toMatchObject({ passed: false, details: { feedback_score: 0.3, rated_calls: 10 } });
      expect(byCheck.tokens).toMatchObject({ passed: true });
      expect(byCheck.tokens.details.calls).toBe(40);
      expect(byCheck.error_rate).toMatchObject({ passed: true });

      // The policy moved production back, once, naming the alert.
      const history = await t.api<{ events: Wire[] }>(
        "GET",
        `/api/v1/projects/${P}/prompts/support/history?alias=production`,
      );
      const last = history.body.events.at(-1)!;
      expect(last).toMatchObject({ action: "rollback", from_version: 2, to_version: 1 });
      expect(JSON.stringify(last)).toContain("prompt-loop");
      await settle();
      expect(await endpoint()).toMatchObject({ primary_version: 1 });
      expect((await chat("and now?")).version).toBe("support@1");

      // A retried trigger for the same alert (a crash between firing and marking) rolls back nothing more.
      const [alert] = (await t.api<{ alerts: Wire[] }>("GET", `/api/v1/projects/${P}/alerts?status=firing`)).body
        .alerts;
      expect(alert).toMatchObject({ name: "quality" });
      await s.alerts.startTriggers((await s.alerts.get(P, alert!.id as string))!);
      const again = await t.api<{ events: Wire[] }>(
        "GET",
        `/api/v1/projects/${P}/prompts/support/history?alias=production`,
      );
      expect(again.body.events).toHaveLength(history.body.events.length);

      // The alert started the eval pipeline; its evaluation is linked to version 2 (lineage).
      const evaluated = await waitFor("the recheck run", async () => {
        const runs = (await t.api<{ runs: Wire[] }>("GET", `/api/v1/projects/${P}/pipeline-runs?pipeline=recheck`)).body
          .runs;
        return runs.find((r) => ["succeeded", "failed"].includes(r.status as string));
      });
      expect(evaluated.status, JSON.stringify(evaluated)).toBe("succeeded");
      const evals = await t.api<{ evaluations: Wire[] }>("GET", `/api/v1/projects/${P}/prompts/support/versions/2`);
      expect(evals.body.evaluations[0]).toMatchObject({
        metrics: expect.objectContaining({ "regex.mean": 0, cases: 4 }),
        dataset: "support-cases@1",
      });
    }, 120_000);

    it("watches the calls' trace stream: tokens per call over budget fail the trace monitor", async () => {
      await s.llm.spans.flush();
      const run = await t.api<Wire>("POST", `/api/v1/projects/${P}/monitors/agent-tokens/run`, {});
      expect(run.status, JSON.stringify(run.body)).toBe(200);
      const result = run.body.result ?? run.body;
      expect(result.rows).toBeGreaterThanOrEqual(40);
      const tokens = (result.checks as Wire[]).find((c) => c.check === "tokens")!;
      expect(tokens.passed).toBe(false);
      expect(tokens.details.tokens_per_call).toBeGreaterThan(5);
      expect((result.checks as Wire[]).find((c) => c.check === "latency")).toMatchObject({ passed: true });
      const monitor = await t.api<Wire>("GET", `/api/v1/projects/${P}/monitors/agent-tokens`);
      expect(monitor.body.monitor?.traces ?? monitor.body.traces).toEqual({ model: "standin-1" });
    });
  });
