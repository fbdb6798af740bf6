/**
 * A request waiting for approval is decided on what the move changes when the approval comes, not
 * when it was asked. Mallory asks for `challenger` while only `review` (an approval) governs it;
 * then prod's canary starts following `challenger`, which puts `release` (roc_auc >= 0.6) on that
 * alias; an approval for `review` must not carry a model that fails `release` into prod's traffic.
 * On a real server over HTTP, SQLite and Postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { aliasOf, appliedProject, latestDecision, P, PIPELINES, PROJECT, type Governed } from "./helpers.js";

const POLICIES = `policies:
  review:
    applies_to: { aliases: [challenger] }
    require:
      - approvals: { role: approver, count: 1 }
  release:
    applies_to: { aliases: [champion], endpoints: [prod] }
    require:
      - metric: roc_auc >= 0.6
      - approvals: { role: approver, count: 1 }
`;
const SPEC = `project: ${PROJECT}\n${PIPELINES}${POLICIES}`;

for (const store of STORE_KINDS) {
  const run = store === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`a pending request meets what governs it when approved [${store}]`, () => {
    let g: Governed;

    beforeAll(async () => {
      g = await appliedProject(store, SPEC);
    });
    afterAll(async () => g?.close());

    const trained = async (model: string) => {
      const r = await g.run("mallory", "train", { model });
      expect(r.status, JSON.stringify(r.steps)).toBe("succeeded");
      return r.steps!.find((s) => s.name === "register")!.metrics.model_version!;
    };

    it("an approval given after prod's canary follows the alias does not skip release", async () => {
      const good = await trained("good.onnx");
      expect((await g.as("dana", "POST", `${P}/models/m/versions/${good}/approve`, {})).status).toBe(200);
      for (const alias of ["champion", "challenger"])
        expect((await g.as("mallory", "PUT", `${P}/models/m/aliases/${alias}`, { version: good })).status).toBe(200);
      const bad = await trained("bad.onnx");
      const asked = await g.as("mallory", "PUT", `${P}/models/m/aliases/challenger`, { version: bad });
      expect(asked.status).toBe(409); // held: review awaits an approval
      expect((await latestDecision(g, bad)).verdict).toBe("pending");

      const canary = { model: "m@champion", canary: { selector: "challenger", percent: 10 } };
      const deployed = await g.as("admin", "PUT", `${P}/endpoints/prod`, canary);
      expect(deployed.status, JSON.stringify(deployed.body)).toBe(200);

      expect((await g.as("dana", "POST", `${P}/models/m/versions/${bad}/approve`, {})).status).toBe(200);
      expect(await aliasOf(g, "challenger")).toBe(good);
      const decided = await latestDecision(g, bad);
      expect(decided.verdict).toBe("fail");
      expect(decided.governing).toContainEqual({
        policy: "release",
        reason: "applies_to.endpoints prod (prod canary)",
      });
      expect(decided.checks.find((c) => c.kind === "metric")).toMatchObject({ policy: "release", outcome: "fail" });
    });
  });
}
