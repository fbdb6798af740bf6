/**
 * LLM endpoints end to end on a real listening server, on SQLite and Postgres: prompts through the
 * API, endpoints from tandem.yaml, the official `openai` client (plain and streamed) against
 * `/v1/endpoints/{E}`, variables from metadata or `{{ input }}`, the prediction log (tokens, cost,
 * content or its hash), feedback, the call's trace, bad input (a missing variable, 5xx, non-JSON,
 * timeout) and a rollout between prompt versions rolled back on its error-rate SLO. The upstream is
 * a STAND-IN (test/helpers/llm-standin.ts).
 */
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../src/server/services.js";
import { chatCall } from "../helpers/llm-chat.js";
import { startStandin, type Standin } from "../helpers/llm-standin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, type StoreKind } from "../helpers/stores.js";

const P = "support-team";
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- wire answers read by field in assertions
type Wire = Record<string, any>;
const V1 = [
  { role: "system", content: "You answer support questions about {{ product }}." },
  { role: "user", content: "Question: {{ input }}" },
];
const V2_BROKEN = [
  { role: "system", content: "BROKEN prompt for {{ product }}." },
  { role: "user", content: "Q: {{ input }}" },
];

for (const kind of ["sqlite", "postgres"] as StoreKind[]) {
  const run = kind === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`LLM endpoints [${kind}]`, () => {
    let t: TestServer;
    let services: Services;
    let upstream: Standin;
    let broken: Standin;
    let nonJson: Standin;
    let hanging: Standin;
    let client: OpenAI;

    const llm = (url: string, extra = "") =>
      `{ upstream: "${url}", model: standin-1, prompt: support@production${extra} }`;
    const spec = (botExtra = "") => `project: ${P}
llm:
  prices:
    standin-1: { input: 2, output: 10 }
endpoints:
  bot:
    llm: ${llm(upstream.url)}
${botExtra}
  private:
    llm: ${llm(upstream.url, ", log_content: false")}
  broken:
    llm: ${llm(broken.url)}
  nonjson:
    llm: ${llm(nonJson.url)}
  hanging:
    llm: ${llm(hanging.url, ", timeout_seconds: 0.5")}
`;
    const apply = async (source: string) => {
      const r = await t.api("POST", `/api/v1/projects/${P}/specs`, { source, file: "tandem.yaml" });
      expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
      await services.serving.runtime.sync();
    };
    const chat = (endpoint: string, body: unknown, headers: Record<string, string> = {}) =>
      chatCall(t, P, endpoint, body, headers);
    const ask = (input: string) => ({
      messages: [{ role: "user", content: input }],
      metadata: { variables: { product: "Parcelly" } },
    });

    beforeAll(async () => {
      upstream = await startStandin({ failWhen: (m) => m.some((x) => x.content.includes("BROKEN")) });
      broken = await startStandin({ mode: "500" });
      nonJson = await startStandin({ mode: "nonjson" });
      hanging = await startStandin({ mode: "hang" });
      // The stand-ins listen on loopback, which the outbound guard refuses unless allowed.
      t = await startTestServer({ store: kind, env: { TANDEM_OUTBOUND_ALLOW: "127.0.0.1" } });
      services = t.server.opened.services;
      const v1 = await t.api<{ version: { version: number; variables: string[] } }>(
        "POST",
        `/api/v1/projects/${P}/prompts/support/versions`,
        { description: "support answers", messages: V1, params: { temperature: 0.2, max_tokens: 200 } },
      );
      expect(v1.status).toBe(201);
      expect(v1.body.version).toMatchObject({ version: 1, variables: ["input", "product"] });
      const alias = await t.api("PUT", `/api/v1/projects/${P}/prompts/support/aliases/production`, { version: 1 });
      expect(alias.status).toBe(200);
      await apply(spec());
      client = new OpenAI({
        apiKey: t.adminToken,
        baseURL: `${t.url}/v1/endpoints/bot`,
        defaultHeaders: { "x-tandem-project": P },
        maxRetries: 0,
      });
    }, 60_000);

    afterAll(async () => {
      await t?.stop();
      for (const s of [upstream, broken, nonJson, hanging]) await s?.close();
    });

    it("answers the official openai client plainly, rendering the prompt version with the caller's variables", async () => {
      const before = upstream.requests.length;
      const { data, response } = await client.chat.completions
        .create({
          model: "ignored",
          messages: [{ role: "user", content: "where is my parcel?" }],
          metadata: { variables: { product: "Parcelly" } } as never,
        })
        .withResponse();
      expect(data.choices[0]!.message.content).toBe("Echo: Question: where is my parcel?");
      expect(data.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 6 });
      const sent = upstream.requests[before]!;
      expect(sent).toMatchObject({
        model: "standin-1",
        temperature: 0.2,
        max_tokens: 200,
        messages: [
          { role: "system", content: "You answer support questions about Parcelly." },
          { role: "user", content: "Question: where is my parcel?" },
        ],
      });
      expect(sent).not.toHaveProperty("metadata");
      const predictionId = response.headers.get("x-tandem-prediction-id")!;
      expect(predictionId).toBeTruthy();
      expect(response.headers.get("x-tandem-prompt-version")).toBe("support@1");

      await services.serving.logger.flush();
      const logged = (await services.serving.log.recent(P, "bot", 10)).find((e) => e.id === predictionId)!;
      expect(logged).toMatchObject({ model: "prompt:support", version: 1, slot: "primary", error: null });
      expect(logged.features).toEqual({
        variables: { product: "Parcelly", input: "where is my parcel?" },
        messages: sent.messages,
      });
      // cost = (11 × 2 + 6 × 10) / 1e6 from the project's price table
      expect(logged.output).toMatchObject({
        answer: "Echo: Question: where is my parcel?",
        input_tokens: 11,
        output_tokens: 6,
        cost: 0.000082,
        prompt: "support@1",
        model: "standin-1",
      });
    });

    it("streams through the openai client unchanged, and logs the streamed call", async () => {
      const stream = await client.chat.completions.create({
        model: "ignored",
        stream: true,
        messages: [{ role: "user", content: "is it raining?" }],
        metadata: { variables: { product: "Parcelly" } } as never,
      });
      let text = "";
      let chunks = 0;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? "";
        chunks++;
      }
      expect(text).toBe("Echo: Question: is it raining?");
      expect(chunks).toBeGreaterThan(3);
      await services.serving.logger.flush();
      const logged = (await services.serving.log.recent(P, "bot", 5)).find(
        (e) => (e.output as { answer?: string } | null)?.answer === text,
      );
      expect(logged?.output).toMatchObject({ input_tokens: 10, output_tokens: 5 });
    });

    it("takes {{ input }} from the last user message and keeps the history between system and question", async () => {
      const before = upstream.requests.length;
      const r = await chat("bot", {
        messages: [
          { role: "user", content: "hi" },
          { role: "assistant", content: "hello" },
          { role: "user", content: "refund?" },
        ],
        metadata: { variables: { product: "Parcelly" } },
      });
      expect(r.status).toBe(200);
      expect(upstream.requests[before]!.messages).toEqual([
        { role: "system", content: "You answer support questions about Parcelly." },
        { role: "user", content: "hi" },
        { role: "assistant", content: "hello" },
        { role: "user", content: "Question: refund?" },
      ]);
    });

    it("refuses a call missing a variable with a 422 naming it, logged as an error prediction", async () => {
      const r = await chat("bot", { messages: [{ role: "user", content: "hello" }] });
      expect(r.status).toBe(422);
      expect(r.body.error.message).toContain('"product"');
      const id = r.headers.get("x-tandem-prediction-id");
      expect(id).toBeNull();
      await services.serving.logger.flush();
      const errors = (await services.serving.log.recent(P, "bot", 20)).filter((e) => e.error?.includes('"product"'));
      expect(errors.length).toBe(1);
    });

    it("logs only hashes with log_content: false", async () => {
      const r = await chat("private", ask("secret question"));
      expect(r.status).toBe(200);
      await services.serving.logger.flush();
      const [logged] = await services.serving.log.recent(P, "private", 1);
      expect(Object.keys(logged!.features).sort()).toEqual(["messages_sha256", "variables_sha256"]);
      expect(JSON.stringify(logged)).not.toContain("secret question");
      expect((logged!.output as Record<string, unknown>).answer_sha256).toMatch(/^[0-9a-f]{64}$/);
    });

    it("takes feedback by prediction id and links the call's trace to its prediction", async () => {
      const r = await chat("bot", ask("thanks"), { traceparent: `00-${"ab".repeat(16)}-${"cd".repeat(8)}-01` });
      const predictionId = r.headers.get("x-tandem-prediction-id")!;
      expect(r.headers.get("x-tandem-trace-id")).toBe("ab".repeat(16));
      const fb = await fetch(`${t.url}/v1/endpoints/bot/feedback`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "application/json", "x-tandem-project": P },
        body: JSON.stringify([{ prediction_id: predictionId, label: 0.8 }]),
      });
      expect(await fb.json()).toEqual({ accepted: 1, unknown_prediction_ids: [] });
      await services.llm.spans.flush();
      const trace = await t.api<{ spans: Array<Record<string, unknown>> }>(
        "GET",
        `/api/v1/projects/${P}/traces/${"ab".repeat(16)}`,
      );
      expect(trace.status).toBe(200);
      expect(trace.body.spans[0]).toMatchObject({
        parent_span_id: "cd".repeat(8),
        prediction_id: predictionId,
        model: "standin-1",
        input_tokens: 8,
        attributes: expect.objectContaining({ "gen_ai.operation.name": "chat", "tandem.prompt": "support@1" }),
      });
      const list = await t.api<{ traces: Array<Record<string, unknown>> }>(
        "GET",
        `/api/v1/projects/${P}/traces?model=standin-1`,
      );
      expect(list.body.traces.find((x) => x.trace_id === "ab".repeat(16))).toMatchObject({
        prediction_id: predictionId,
      });
    });

    it.each([
      ["broken", /answered HTTP 500/],
      ["nonjson", /not JSON/],
      ["hanging", /timed out/],
    ])("answers a bad upstream (%s) with a clear 502, logged as an error prediction", async (endpoint, message) => {
      const r = await chat(endpoint, ask("anyone there?"));
      expect(r.status).toBe(502);
      expect(r.body.error.code).toBe("BAD_GATEWAY");
      expect(r.body.error.message).toMatch(message);
      await services.serving.logger.flush();
      const [logged] = await services.serving.log.recent(P, endpoint, 1);
      expect(logged!.error).toMatch(message);
      expect(logged!.output).toBeNull();
    });

    it("rolls a new prompt version out through the canary and back when it breaks its error-rate SLO", async () => {
      // The canary follows `candidate`; on v1 (the primary's version) it takes no traffic yet.
      expect(
        (await t.api("PUT", `/api/v1/projects/${P}/prompts/support/aliases/candidate`, { version: 1 })).status,
      ).toBe(200);
      // 80 requests at 50%: a minimum of 20 per arm (the default 100 is for real traffic).
      await apply(spec("    canary: { alias: candidate, percent: 50 }\n    slo: { min_requests: 20 }"));
      const v2 = await t.api<{ version: { version: number } }>(
        "POST",
        `/api/v1/projects/${P}/prompts/support/versions`,
        {
          messages: V2_BROKEN,
        },
      );
      expect(v2.body.version.version).toBe(2);
      expect(
        (await t.api("PUT", `/api/v1/projects/${P}/prompts/support/aliases/production`, { version: 2 })).status,
      ).toBe(200);
      await services.serving.controller.tick();
      await services.serving.runtime.sync();
      const e = await t.api<Wire>("GET", `/api/v1/projects/${P}/endpoints/bot`);
      expect(e.body).toMatchObject({ status: "rolling_out", primary_version: 1, canary_version: 2 });
      // The spec's slo: reached the endpoint; what it left out keeps the defaults.
      expect(e.body.slo).toMatchObject({ min_requests: 20, significance: 0.05, latency_floor_ms: 50 });
      let canaryCalls = 0;
      for (let i = 0; i < 80; i++) {
        const r = await chat("bot", ask(`q${i}`), { "x-tandem-routing-key": `user-${i}` });
        // A failing canary never fails the caller: the primary answers.
        expect(r.status).toBe(200);
        expect(r.headers.get("x-tandem-prompt-version")).toBe("support@1");
        if (upstream.requests.at(-2)?.messages && JSON.stringify(upstream.requests.at(-2)).includes("BROKEN"))
          canaryCalls++;
      }
      expect(canaryCalls).toBeGreaterThan(20);
      await services.serving.logger.flush();
      await services.serving.controller.tick();
      const after = await t.api<Wire>("GET", `/api/v1/projects/${P}/endpoints/bot`);
      expect(after.body).toMatchObject({ status: "degraded", primary_version: 1, canary_version: null });
      const history = await t.api<{ events: Array<Record<string, unknown>> }>(
        "GET",
        `/api/v1/projects/${P}/prompts/support/history?alias=production`,
      );
      expect(history.body.events.at(-1)).toMatchObject({ action: "rollback", from_version: 2, to_version: 1 });
    });
  });
}

describe("LLM endpoint upstreams and the outbound guard", () => {
  it("refuses an upstream on a loopback address unless TANDEM_OUTBOUND_ALLOW allows it (SSRF)", async () => {
    const t = await startTestServer();
    try {
      const r = await t.api<Wire>("POST", "/api/v1/projects/ssrf/specs", {
        source:
          "project: ssrf\nendpoints:\n  bot:\n    llm: { upstream: http://127.0.0.1:9/v1, model: m, prompt: p@production }\n",
        file: "tandem.yaml",
      });
      expect(r.status).toBe(403);
      expect(r.body.error.message).toMatch(/endpoints\.bot\.llm\.upstream .*127\.0\.0\.1.*TANDEM_OUTBOUND_ALLOW/);
      const endpoints = await t.api<Wire>("GET", "/api/v1/projects/ssrf/endpoints");
      expect(endpoints.body.endpoints ?? []).toHaveLength(0);
    } finally {
      await t.stop();
    }
  });
});
