/**
 * The prompt registry under attack by a project member, on a real server over HTTP (SQLite and
 * Postgres): prompt aliases are a way to production traffic too (an LLM endpoint serves an alias).
 * - Writing your own evidence: evaluations posted through the API are manual evidence, which a
 *   policy reads only when its admin said `accept_manual: true` (finding 3, for prompts).
 * - Approving your own work: a prompt version a step creates with its run's token is the work of the
 *   person behind the run, who cannot approve it (finding 5, for prompts); another approver can.
 * - Deploying pinned: an LLM endpoint that serves `qa@production` meets production's policies when a
 *   member pins another version on it (finding 4, for prompts). The upstream is a STAND-IN.
 * - Deleting a governed alias: it leaves the endpoint serving it without a prompt, so it needs the
 *   role that could approve a move of it (as for models, alias-delete.test.ts).
 * - Rolling back past a rejection: the endpoint's rollback moves `production` back only to a version
 *   that passed and was not rejected since, unless an approver who is not its author does it
 *   (finding 6, for prompts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStandin, type Standin } from "../helpers/llm-standin.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { applySpec, runLogs, runPipeline } from "../security/pipeline-http.js";

const P = "/api/v1/projects/pq/prompts";

function spec(acceptManual: boolean, endpoint = ""): string {
  return `project: pq
${endpoint}pipelines:
  write-prompt:
    steps:
      create:
        run: |
          node -e 'fetch(process.env.TANDEM_URL + "${P}/qa/versions", { method: "POST", headers: { authorization: "Bearer " + process.env.TANDEM_TOKEN, "content-type": "application/json" }, body: JSON.stringify({ messages: [{ role: "user", content: "from a step {{ q }}" }] }) }).then(async (r) => console.log("created", r.status, JSON.stringify(await r.json())))'
policies:
  prompt-quality:
    applies_to: { prompts: ["qa@production"] }
    require:
      - metric: "exact.mean >= 0.5"
${acceptManual ? "    accept_manual: true\n" : ""}  prompt-review:
    applies_to: { prompts: ["qa@reviewed"] }
    require:
      - approvals: { role: approver, count: 1 }
`;
}

interface ErrorBody {
  error: {
    message: string;
    details?: { decision?: { checks: Array<{ check: string; detail: string; outcome: string }> } };
  };
}

for (const store of STORE_KINDS) {
  const run = store === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`prompt aliases hold against a member [${store}]`, () => {
    let t: TestServer;
    let upstream: Standin;
    let workspace: string;
    const tokens: Record<string, string> = {};
    const as = <T>(who: string, method: string, path: string, body?: unknown) =>
      t.api<T>(method, path, body, tokens[who] ?? t.adminToken);

    beforeAll(async () => {
      upstream = await startStandin();
      // The stand-in listens on loopback, which the outbound guard refuses unless allowed.
      t = await startTestServer({ store, env: { TANDEM_OUTBOUND_ALLOW: "127.0.0.1" } });
      workspace = mkdtempSync(join(tmpdir(), "trust-prompts-"));
      for (const [user, role] of Object.entries({ mallory: "member", erin: "approver", dana: "approver" })) {
        expect((await t.api("POST", "/api/v1/users", { name: user })).status).toBe(201);
        expect((await t.api("PUT", `/api/v1/projects/pq/members/${user}`, { role })).status).toBe(200);
        tokens[user] = (await t.api<{ token: string }>("POST", "/api/v1/tokens", { name: "t", user })).body.token;
      }
      await applySpec(t, "pq", spec(false), workspace);
    });
    afterAll(async () => {
      await t?.stop();
      await upstream?.close();
      rmSync(workspace, { recursive: true, force: true });
    });

    it("evidence a member posts does not move production, until an admin accepts manual evidence", async () => {
      const created = await as<{ version: { version: number } }>("mallory", "POST", `${P}/qa/versions`, {
        messages: [{ role: "user", content: "answer {{ q }}" }],
      });
      expect(created.status).toBe(201);
      const v = created.body.version.version;
      const posted = await as<{ source: string }>("mallory", "POST", `${P}/qa/versions/${v}/evaluations`, {
        dataset: "my-own-cases@1",
        metrics: { "exact.mean": 1 },
      });
      expect([posted.status, posted.body.source]).toEqual([201, "manual"]);

      const refused = await as<ErrorBody>("mallory", "PUT", `${P}/qa/aliases/production`, { version: v });
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toMatch(/qa@1 → production: exact.mean >= 0.5/);
      const check = refused.body.error.details!.decision!.checks.find((c) => c.check === "exact.mean >= 0.5")!;
      expect(check.outcome).toBe("fail");
      const shown = await as<{ aliases: Record<string, number> | Array<{ alias: string }> }>("admin", "GET", `${P}/qa`);
      expect(JSON.stringify(shown.body.aliases)).not.toContain("production");

      // The member cannot say manual evidence counts: that is a policy change, an admin's.
      const rewrite = await t.api<ErrorBody>(
        "POST",
        "/api/v1/projects/pq/specs",
        { source: spec(true), workspace },
        tokens.mallory,
      );
      expect(rewrite.status).toBe(403);
      expect(rewrite.body.error.message).toMatch(/prompt-quality/);
      await applySpec(t, "pq", spec(true), workspace);
      const moved = await as("mallory", "PUT", `${P}/qa/aliases/production`, { version: v });
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    });

    it("a prompt a step creates is its runner's work: they cannot approve it, another approver can", async () => {
      const result = await runPipeline(t, "pq", "write-prompt", tokens.erin);
      const logs = await runLogs(t, "pq", result.id);
      expect(result.status, logs).toBe("succeeded");
      const v = Number(/"version":(\d+)/.exec(logs)![1]);
      const version = await as<{ author: string }>("admin", "GET", `${P}/qa/versions/${v}`);
      expect(version.body.author).toBe("erin");

      const self = await as<ErrorBody>("erin", "POST", `${P}/qa/versions/${v}/approvals`, {});
      expect(self.status).toBe(403);
      expect(self.body.error.message).toMatch(/erin created qa@\d+ and cannot approve it/);
      expect((await as("mallory", "PUT", `${P}/qa/aliases/reviewed`, { version: v })).status).toBe(409);
      expect((await as("dana", "POST", `${P}/qa/versions/${v}/approvals`, {})).status).toBe(201);
      expect((await as("mallory", "PUT", `${P}/qa/aliases/reviewed`, { version: v })).status).toBe(200);
    });

    it("pinning another version on the endpoint that serves production meets production's policies", async () => {
      const endpoint = (prompt: string) =>
        `endpoints:\n  bot:\n    llm: { upstream: "${upstream.url}", model: standin-1, prompt: ${prompt} }\n`;
      await applySpec(t, "pq", spec(true, endpoint("qa@production")), workspace);
      const fresh = await as<{ version: { version: number } }>("mallory", "POST", `${P}/qa/versions`, {
        messages: [{ role: "user", content: "no evaluation for {{ q }}" }],
      });
      const v = fresh.body.version.version;
      const pinned = await t.api<ErrorBody>(
        "POST",
        "/api/v1/projects/pq/specs",
        { source: spec(true, endpoint(`qa@${v}`)), workspace },
        tokens.mallory,
      );
      expect(pinned.status, JSON.stringify(pinned.body)).toBe(409);
      expect(pinned.body.error.message).toMatch(new RegExp(`qa@${v} on endpoint bot: exact.mean >= 0.5`));
      const served = await as<{ primary_version: number }>("admin", "GET", "/api/v1/projects/pq/endpoints/bot");
      expect(served.body.primary_version).not.toBe(v);
    });

    it("rolls production back only to what passed and was not rejected since; an approver may override", async () => {
      const held = async () =>
        (await as<{ versions: Array<{ version: number; aliases: string[] }> }>("admin", "GET", `${P}/qa`)).body;
      const good = await as<{ version: { version: number } }>("mallory", "POST", `${P}/qa/versions`, {
        messages: [{ role: "user", content: "a better answer to {{ q }}" }],
      });
      const v2 = good.body.version.version;
      await as("mallory", "POST", `${P}/qa/versions/${v2}/evaluations`, {
        dataset: "c@1",
        metrics: { "exact.mean": 1 },
      });
      expect((await as("mallory", "PUT", `${P}/qa/aliases/production`, { version: v2 })).status).toBe(200);
      // What the server's background loop does (tests drive it): the endpoint follows production to v2.
      await t.server.opened.services.serving.controller.tick();
      // qa@1 held production through a passing decision; then an approver rejected it.
      expect(
        (await as("dana", "POST", `${P}/qa/versions/1/approvals`, { decision: "reject", comment: "leaks PII" })).status,
      ).toBe(201);

      const refused = await as<ErrorBody>("mallory", "POST", "/api/v1/projects/pq/endpoints/bot/rollback");
      expect(refused.status, JSON.stringify(refused.body)).toBe(403);
      expect(refused.body.error.message).toMatch(
        /rollback of production to qa@1 refused: no rejection since \(rejected by dana: leaks PII\)/,
      );
      expect((await held()).versions.find((x) => x.aliases.includes("production"))?.version).toBe(v2);

      const override = await as<{ rolled_back_to: number }>(
        "erin",
        "POST",
        "/api/v1/projects/pq/endpoints/bot/rollback",
      );
      expect([override.status, override.body.rolled_back_to]).toEqual([200, 1]);
      const history = await as<{
        events: Array<{
          action: string;
          actor: string;
          decision: { checks: Array<{ check: string; detail: string }> };
        }>;
      }>("admin", "GET", `${P}/qa/history?alias=production`);
      const last = history.body.events.at(-1)!;
      expect([last.action, last.actor]).toEqual(["rollback", "erin"]);
      expect(last.decision.checks.map((c) => c.detail)).toContain("override by approver erin");
    });

    it("a pinned prompt rolls back by the same rule", async () => {
      const endpoint = (prompt: string) =>
        `endpoints:\n  bot:\n    llm: { upstream: "${upstream.url}", model: standin-1, prompt: ${prompt} }\n`;
      const shown = await as<{ versions: Array<{ version: number; aliases: string[] }> }>("admin", "GET", `${P}/qa`);
      const v2 = Math.max(
        ...shown.body.versions.filter((x) => x.version !== 1 && x.aliases.length === 0).map((x) => x.version),
      );
      await applySpec(t, "pq", spec(true, endpoint(`qa@${v2}`)), workspace);
      await t.server.opened.services.serving.controller.tick();
      const served = await as<{ primary_version: number }>("admin", "GET", "/api/v1/projects/pq/endpoints/bot");
      expect(served.body.primary_version).toBe(v2);
      // Back to qa@1, which dana rejected: not for a member.
      const refused = await as<ErrorBody>("mallory", "POST", "/api/v1/projects/pq/endpoints/bot/rollback");
      expect(refused.status, JSON.stringify(refused.body)).toBe(403);
      expect(refused.body.error.message).toMatch(/rollback of endpoint bot to qa@1 refused: no rejection since/);
      const still = await as<{ primary_version: number }>("admin", "GET", "/api/v1/projects/pq/endpoints/bot");
      expect(still.body.primary_version).toBe(v2);
    });

    it("a member cannot delete a governed alias; an approver can, and an ungoverned one stays a member's", async () => {
      const aliases = async () =>
        (await as<{ versions: Array<{ aliases: string[] }> }>("admin", "GET", `${P}/qa`)).body.versions.flatMap(
          (x) => x.aliases,
        );
      expect(await aliases()).toEqual(expect.arrayContaining(["production", "reviewed"]));
      // production: prompt-quality governs it (metrics only, so an approver stands in for its checks).
      const production = await as<ErrorBody>("mallory", "DELETE", `${P}/qa/aliases/production`);
      expect(production.status, JSON.stringify(production.body)).toBe(403);
      expect(production.body.error.message).toMatch(
        /needs the approver role \(mallory has member\): policy prompt-quality/,
      );
      expect((await as("mallory", "DELETE", `${P}/qa/aliases/reviewed`)).status).toBe(403);
      expect(await aliases()).toEqual(expect.arrayContaining(["production", "reviewed"]));

      const v = (await as<{ versions: Array<{ version: number }> }>("admin", "GET", `${P}/qa`)).body.versions[0]!
        .version;
      expect((await as("mallory", "PUT", `${P}/qa/aliases/scratch`, { version: v })).status).toBe(200);
      expect((await as("mallory", "DELETE", `${P}/qa/aliases/scratch`)).status).toBe(200);
      expect((await as("erin", "DELETE", `${P}/qa/aliases/reviewed`)).status).toBe(200);
      const left = await aliases();
      expect(left).toContain("production");
      expect(left).not.toContain("reviewed");
      expect(left).not.toContain("scratch");
    });
  });
}
