/**
 * LLM endpoints between prompt versions, the rest of "as for model endpoints", on SQLite and
 * Postgres: a shadow version answers every call too but never the caller (its calls logged in the
 * shadow slot), and a canary version that is slower than the primary past the latency SLO is rolled
 * back, moving `production` back. The upstream is a STAND-IN whose delay depends on the prompt.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../src/server/services.js";
import { chatCall } from "../helpers/llm-chat.js";
import { startStandin, type Standin } from "../helpers/llm-standin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- wire answers read by field in assertions
type Wire = Record<string, any>;
const P = "slots";
const messages = (system: string) => [
  { role: "system", content: system },
  { role: "user", content: "{{ input }}" },
];

for (const kind of STORE_KINDS)
  describe.skipIf(kind === "postgres" && !postgresAvailable())(`LLM shadow and latency SLO [${kind}]`, () => {
    let t: TestServer;
    let s: Services;
    let upstream: Standin;
    const version = (prompt: string, system: string) =>
      t.api<{ version: { version: number } }>("POST", `/api/v1/projects/${P}/prompts/${prompt}/versions`, {
        messages: messages(system),
      });
    const alias = async (prompt: string, name: string, v: number) =>
      expect(
        (await t.api("PUT", `/api/v1/projects/${P}/prompts/${prompt}/aliases/${name}`, { version: v })).status,
      ).toBe(200);
    const chat = async (endpoint: string, input: string, key: string) => {
      const r = await chatCall(
        t,
        P,
        endpoint,
        { messages: [{ role: "user", content: input }] },
        {
          "x-tandem-routing-key": key,
        },
      );
      return {
        status: r.status,
        version: r.headers.get("x-tandem-prompt-version"),
        answer: (r.body.choices as Wire[] | undefined)?.[0]?.message?.content as string | undefined,
      };
    };
    const settle = async () => {
      await s.serving.controller.tick();
      await s.serving.runtime.sync();
    };

    beforeAll(async () => {
      upstream = await startStandin({
        answer: (m) => `${m[0]!.content.split(" ")[0]} ${m.at(-1)!.content}`,
        latencyFor: (m) => (m[0]!.content.includes("SLOW") ? 120 : 0),
      });
      t = await startTestServer({ store: kind, env: { TANDEM_OUTBOUND_ALLOW: "127.0.0.1" } });
      s = t.server.opened.services;
      for (const prompt of ["mirror", "speed"]) {
        await version(prompt, "PRIMARY answers.");
        await alias(prompt, "production", 1);
        await alias(prompt, "candidate", 1);
      }
      await version("mirror", "SHADOW answers.");
      await alias("mirror", "candidate", 2);
      const llm = (prompt: string) => `{ upstream: "${upstream.url}", model: standin-1, prompt: ${prompt}@production }`;
      const spec = `project: ${P}
endpoints:
  mirror:
    llm: ${llm("mirror")}
    shadow: { alias: candidate }
  speed:
    llm: ${llm("speed")}
    canary: { alias: candidate, percent: 50 }
    slo: { min_requests: 20, latency_floor_ms: 30, latency_margin_ms: 10, max_p95_ratio: 2, max_error_rate_increase: 1 }
`;
      const applied = await t.api("POST", `/api/v1/projects/${P}/specs`, { source: spec, file: "tandem.yaml" });
      expect(applied.status, JSON.stringify(applied.body)).toBeLessThan(300);
      await settle();
    }, 60_000);
    afterAll(async () => {
      await t?.stop();
      await upstream?.close();
    });

    it("mirrors every call to the shadow version, logs it in the shadow slot, and answers from the primary", async () => {
      const before = upstream.requests.length;
      for (let i = 0; i < 5; i++) {
        const r = await chat("mirror", `q${i}`, `k${i}`);
        expect(r).toMatchObject({ status: 200, version: "mirror@1", answer: `PRIMARY q${i}` });
      }
      // Shadow calls are fire-and-forget: wait for the five to reach the stand-in.
      for (let i = 0; i < 100 && upstream.requests.length < before + 10; i++)
        await new Promise((r) => setTimeout(r, 50));
      const sent = upstream.requests.slice(before).map((r) => (r.messages as Wire[])[0]!.content as string);
      expect(sent.filter((c) => c.startsWith("SHADOW"))).toHaveLength(5);
      await s.serving.logger.flush();
      const logged = await s.serving.log.recent(P, "mirror", 20);
      const shadow = logged.filter((e) => e.slot === "shadow");
      expect(shadow).toHaveLength(5);
      expect(shadow.every((e) => e.version === 2 && (e.output as Wire).answer.startsWith("SHADOW"))).toBe(true);
      expect(logged.filter((e) => e.slot === "primary").every((e) => e.version === 1)).toBe(true);
    });

    it("rolls a slower canary version back on the latency SLO and moves production back", async () => {
      const v2 = await version("speed", "SLOW answers.");
      expect(v2.body.version.version).toBe(2);
      await alias("speed", "production", 2);
      await settle();
      expect((await t.api<Wire>("GET", `/api/v1/projects/${P}/endpoints/speed`)).body).toMatchObject({
        status: "rolling_out",
        primary_version: 1,
        canary_version: 2,
      });
      const served: Record<string, number> = {};
      for (let i = 0; i < 80; i++) {
        const r = await chat("speed", `q${i}`, `user-${i}`);
        expect(r.status).toBe(200);
        served[r.version!] = (served[r.version!] ?? 0) + 1;
      }
      expect(served["speed@2"]).toBeGreaterThanOrEqual(20);
      await s.serving.logger.flush();
      await s.serving.controller.tick();
      const after = (await t.api<Wire>("GET", `/api/v1/projects/${P}/endpoints/speed`)).body;
      expect(after).toMatchObject({ status: "degraded", primary_version: 1, canary_version: null });
      const events = (await t.api<{ events: Wire[] }>("GET", `/api/v1/projects/${P}/endpoints/speed/events`)).body
        .events;
      expect(JSON.stringify(events)).toMatch(/p95|latency/i);
      const history = (
        await t.api<{ events: Wire[] }>("GET", `/api/v1/projects/${P}/prompts/speed/history?alias=production`)
      ).body.events;
      expect(history.at(-1)).toMatchObject({ action: "rollback", from_version: 2, to_version: 1 });
    });
  });
