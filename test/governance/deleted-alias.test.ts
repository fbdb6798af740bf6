/**
 * `approvals.unless: [beats: champion]` lets a retrain that beats the champion replace it without a
 * human, and passes when no version holds champion yet. An approver may delete the alias; before, that
 * made the next move onto champion "the first champion" and a worse model replaced it by itself.
 * A deleted alias is compared with its last holder. On a real server over HTTP, SQLite and Postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { aliasOf, appliedProject, latestDecision, P, PIPELINES, PROJECT, type Governed } from "./helpers.js";

const SPEC = `project: ${PROJECT}\n${PIPELINES}policies:
  release:
    applies_to: { aliases: [champion] }
    require:
      - approvals:
          role: approver
          count: 1
          unless:
            - beats: { alias: champion, metric: roc_auc }
`;

for (const store of STORE_KINDS) {
  const run = store === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`deleting champion does not reset beats [${store}]`, () => {
    let g: Governed;

    beforeAll(async () => {
      g = await appliedProject(store, SPEC);
    });
    afterAll(async () => g?.close());

    const trained = async (model: string) =>
      (await g.run("mallory", "train", { model })).steps!.find((s) => s.name === "register")!.metrics.model_version!;

    it("a worse model does not replace a deleted champion by itself", async () => {
      const good = await trained("good.onnx");
      expect((await g.as("mallory", "PUT", `${P}/models/m/aliases/champion`, { version: good })).status).toBe(200);
      const bad = await trained("bad.onnx");
      expect((await g.as("mallory", "PUT", `${P}/models/m/aliases/champion`, { version: bad })).status).toBe(409);

      // A member may not delete it (release governs it: alias-delete.test.ts); an approver may.
      expect((await g.as("mallory", "DELETE", `${P}/models/m/aliases/champion`)).status).toBe(403);
      expect((await g.as("dana", "DELETE", `${P}/models/m/aliases/champion`)).status).toBe(200);
      const again = await g.as("mallory", "PUT", `${P}/models/m/aliases/champion`, { version: bad });
      expect(again.status).toBe(409);
      expect(await aliasOf(g, "champion")).toBeNull();
      const beats = (await latestDecision(g, bad)).checks.find((c) => c.kind === "approvals")!;
      expect(beats.outcome).toBe("pending");
      expect(JSON.stringify(beats)).toContain(`champion was version ${good} until deleted`);
      // The deleted holder comes back by a rollback (it passed onto champion).
      expect((await g.as("mallory", "POST", `${P}/models/m/aliases/champion/rollback`, {})).status).toBe(200);
      expect(await aliasOf(g, "champion")).toBe(good);
    });
  });
}
