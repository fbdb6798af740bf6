/**
 * `tandem apply` of an LLM endpoint serves it at once, on SQLite and Postgres: the server that
 * applied loads the endpoint before apply answers (a new endpoint, and a changed one: the next call
 * gets the new prompt version), and another server on the same database, which learns of changes
 * by polling its change counter, answers a new endpoint's first call instead of a 404 until its
 * next poll (a request for an endpoint it does not serve reads the counter first; Postgres only, as
 * SQLite serves one server per file). No call here retries or waits. The upstream is a STAND-IN (test/helpers/llm-standin.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatCall } from "../helpers/llm-chat.js";
import { startStandin, type Standin } from "../helpers/llm-standin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, type StoreKind } from "../helpers/stores.js";

const P = "applied";
const ask = { messages: [{ role: "user", content: "where is my parcel?" }], metadata: { variables: { product: "P" } } };

for (const kind of ["sqlite", "postgres"] as StoreKind[]) {
  const run = kind === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`apply serves an LLM endpoint at once [${kind}]`, () => {
    let upstream: Standin;
    let a: TestServer;
    let b: TestServer;
    const env = { TANDEM_OUTBOUND_ALLOW: "127.0.0.1" };
    const spec = (endpoints: Record<string, string>) =>
      `project: ${P}\nendpoints:\n${Object.entries(endpoints)
        .map(
          ([name, prompt]) =>
            `  ${name}:\n    llm: { upstream: "${upstream.url}", model: standin-1, prompt: ${prompt} }\n`,
        )
        .join("")}`;
    const apply = async (source: string) => {
      const r = await a.api("POST", `/api/v1/projects/${P}/specs`, { source, file: "tandem.yaml" });
      expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
    };

    beforeAll(async () => {
      upstream = await startStandin();
      // Background loops on, as `tandem server` runs: each server polls the database's change counter.
      a = await startTestServer({ store: kind, env, background: true });
      // SQLite serves one server per file (a second one is refused): several servers need Postgres.
      if (kind === "postgres") {
        const other = await startTestServer({ store: kind, env, background: true, databaseUrl: a.databaseUrl });
        b = { ...other, adminToken: a.adminToken };
      }
      for (const text of ["v1 for {{ product }}", "v2 for {{ product }}"]) {
        const r = await a.api("POST", `/api/v1/projects/${P}/prompts/support/versions`, {
          messages: [
            { role: "system", content: text },
            { role: "user", content: "{{ input }}" },
          ],
          params: { model: "standin-1" },
        });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
      }
      await a.api("PUT", `/api/v1/projects/${P}/prompts/support/aliases/production`, { version: 1 });
    }, 60_000);
    afterAll(async () => {
      await b?.stop();
      await a?.stop();
      await upstream?.close();
    });

    it("the applying server answers a new endpoint's first call, and a changed one's with the change", async () => {
      await apply(spec({ bot: "support@production" }));
      const first = await chatCall(a, P, "bot", ask);
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      expect(first.headers.get("x-tandem-prompt-version")).toBe("support@1");

      await apply(spec({ bot: "support@2" }));
      const changed = await chatCall(a, P, "bot", ask);
      expect(changed.status, JSON.stringify(changed.body)).toBe(200);
      expect(changed.headers.get("x-tandem-prompt-version")).toBe("support@2");
    });

    it.runIf(kind === "postgres")(
      "another server on the same database answers a new endpoint's first call",
      async () => {
        await apply(spec({ bot: "support@2", helper: "support@1" }));
        const there = await chatCall(b, P, "helper", ask);
        expect(there.status, JSON.stringify(there.body)).toBe(200);
        expect(there.headers.get("x-tandem-prompt-version")).toBe("support@1");
        // A name that exists nowhere is still a 404 naming it, after the same counter read.
        const missing = await chatCall(b, P, "nobody", ask);
        expect(missing.status).toBe(404);
        expect(JSON.stringify(missing.body)).toContain("nobody");
      },
    );
  });
}
