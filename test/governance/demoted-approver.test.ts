/**
 * An approval counts with the role its approver holds when the move is decided, not the one they had
 * when they approved. Dana approves a version, then loses the approver role (demoted to member, or
 * removed from the project); her approval must no longer unlock `release` for it. On a real server over
 * HTTP, SQLite and Postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { aliasOf, appliedProject, latestDecision, P, type Governed } from "./helpers.js";

for (const store of STORE_KINDS) {
  const run = store === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`an approver who lost the role no longer approves [${store}]`, () => {
    let g: Governed;

    beforeAll(async () => {
      g = await appliedProject(store);
    });
    afterAll(async () => g?.close());

    const approvedByDana = async () => {
      const r = await g.run("mallory", "train", { model: "good.onnx" });
      expect(r.status, JSON.stringify(r.steps)).toBe("succeeded");
      const version = r.steps!.find((s) => s.name === "register")!.metrics.model_version!;
      expect((await g.as("dana", "POST", `${P}/models/m/versions/${version}/approve`, {})).status).toBe(200);
      return version;
    };

    const heldWithoutDana = async (version: number) => {
      const before = await aliasOf(g, "champion");
      const moved = await g.as("mallory", "PUT", `${P}/models/m/aliases/champion`, { version });
      expect(moved.status, JSON.stringify(moved.body)).toBe(409); // held: release awaits an approval
      expect(await aliasOf(g, "champion")).toBe(before);
      const approvals = (await latestDecision(g, version)).checks.find((c) => c.kind === "approvals");
      expect(approvals).toMatchObject({ policy: "release", outcome: "pending", value: 0 });
      expect(approvals!.detail).toContain("not counted: dana");
    };

    it("demoted to member: her approval no longer counts", async () => {
      const version = await approvedByDana();
      expect((await g.as("admin", "PUT", `${P}/members/dana`, { role: "member" })).status).toBe(200);
      await heldWithoutDana(version);
      // Given the role back, her word counts again: the gate is about who she is now.
      expect((await g.as("admin", "PUT", `${P}/members/dana`, { role: "approver" })).status).toBe(200);
      const moved = await g.as("mallory", "PUT", `${P}/models/m/aliases/champion`, { version });
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
      expect(await aliasOf(g, "champion")).toBe(version);
    });

    it("removed from the project: her approval no longer counts", async () => {
      const version = await approvedByDana();
      expect((await g.as("admin", "DELETE", `${P}/members/dana`)).status).toBe(200);
      await heldWithoutDana(version);
    });
  });
}
