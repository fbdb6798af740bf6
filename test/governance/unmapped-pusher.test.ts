/**
 * Four-eyes when nobody knows who pushed: a commit pushed by a git login mapped to no user starts a
 * run whose registered version had author `system`. Excluding `system` excludes nobody, so erin,
 * an approver who pushed from her unmapped login, approved her own model and it became champion
 * (one approval, hers). Now the author is the pusher's identity (`github:erin-gh`), never a
 * principal, and since any approver may be that person, such a version needs one approval more
 * than the policy asks: at least `count` of them are someone else's. On a real server over HTTP,
 * SQLite and Postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { aliasOf, appliedProject, latestDecision, P, type Governed, type RunWire } from "./helpers.js";

for (const store of STORE_KINDS) {
  const run = store === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`an unmapped pusher cannot approve their own model [${store}]`, () => {
    let g: Governed;

    beforeAll(async () => {
      g = await appliedProject(store);
    });
    afterAll(async () => g?.close());

    it("the author is the pusher's identity, and one approval more is needed", async () => {
      const pushed = await g.push("erin-gh", g.commit());
      expect(pushed.status, JSON.stringify(pushed.body)).toBe(200);
      const r: RunWire = await g.waitRun(pushed.body.runs[0]!.run_id!);
      expect(r.status, JSON.stringify(r.steps)).toBe("succeeded");
      expect(r.triggered_by).toBeNull();
      const v = r.steps!.find((s) => s.name === "register")!.metrics.model_version!;
      const shown = await g.as<{ author: string; via: string | null; author_note: string }>(
        "admin",
        "GET",
        `${P}/models/m/versions/${v}`,
      );
      expect(shown.body).toMatchObject({ author: "github:erin-gh", via: "system" });
      expect(shown.body.author_note).toContain("mapped to no user");

      // erin pushed it from her unmapped login: nothing can tell her approval from someone else's.
      expect((await g.as("erin", "POST", `${P}/models/m/versions/${v}/approve`, {})).status).toBe(200);
      const held = await g.as("erin", "PUT", `${P}/models/m/aliases/champion`, { version: v });
      expect(held.status, JSON.stringify(held.body)).toBe(409);
      expect(await aliasOf(g, "champion")).toBeNull();
      const approvals = (await latestDecision(g, v)).checks.find((c) => c.kind === "approvals")!;
      expect(approvals).toMatchObject({ outcome: "pending", value: 1, threshold: 2 });
      expect(approvals.detail).toContain("github:erin-gh");

      expect((await g.as("dana", "POST", `${P}/models/m/versions/${v}/approve`, {})).status).toBe(200);
      const moved = await g.as("erin", "PUT", `${P}/models/m/aliases/champion`, { version: v });
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
      expect(await aliasOf(g, "champion")).toBe(v);
    });
  });
}
