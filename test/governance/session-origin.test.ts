/**
 * The UI's session cookie acts for the signed-in person on every request the browser sends to this
 * site, and SameSite=Strict keeps only other sites out: a page elsewhere on the same site could post
 * an HTML form (application/x-www-form-urlencoded, which the approve route accepted) and approve a
 * version as the signed-in approver. A change made with the cookie must come from the server's own
 * origin. On a real server over HTTP, SQLite and Postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { appliedProject, P, type Governed } from "./helpers.js";

for (const store of STORE_KINDS) {
  const run = store === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`session changes come from the UI's origin [${store}]`, () => {
    let g: Governed;

    beforeAll(async () => {
      g = await appliedProject(store);
    });
    afterAll(async () => g?.close());

    it("refuses a form another origin posts with dana's cookie; her own page may", async () => {
      const trained = await g.run("mallory", "train");
      const v = trained.steps!.find((s) => s.name === "register")!.metrics.model_version!;
      const signin = await fetch(`${g.srv.url}/api/v1/session`, {
        method: "POST",
        headers: { authorization: `Bearer ${g.tokens.dana}` },
      });
      const cookie = (signin.headers.get("set-cookie") ?? "").split(";")[0]!;
      const approve = (headers: Record<string, string>) =>
        fetch(`${g.srv.url}${P}/models/m/versions/${v}/approve`, {
          method: "POST",
          headers: { cookie, "content-type": "application/x-www-form-urlencoded", ...headers },
          body: "comment=ok",
        });
      const host = new URL(g.srv.url).host;
      // What a browser sends for a form on https://wiki.example.com posting here (same site, other origin).
      expect((await approve({ "sec-fetch-site": "same-site", origin: "https://wiki.example.com" })).status).toBe(403);
      expect((await approve({ origin: "https://wiki.example.com" })).status).toBe(403);
      const card = await g.as<{ approvals: unknown[] }>("admin", "GET", `${P}/models/m/versions/${v}/card`);
      expect(card.body.approvals).toEqual([]);
      // The UI's own requests pass.
      expect((await approve({ "sec-fetch-site": "same-origin", origin: `http://${host}` })).status).toBe(200);
    });
  });
}
