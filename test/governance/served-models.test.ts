/**
 * What an endpoint serves is production: a member may not take it away by deleting the version it
 * serves, or renaming or deleting its model (MLflow's REST API reaches all three). Before, each
 * answered 200 and the endpoint lost its model at the next start of a server. On a real server over
 * HTTP, SQLite and Postgres.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer } from "../helpers/server.js";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { appliedProject, mlflowAs, P, PROJECT, type Governed } from "./helpers.js";

for (const store of STORE_KINDS) {
  const run = store === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`a served model stays [${store}]`, () => {
    let g: Governed;

    beforeAll(async () => {
      g = await appliedProject(store);
    });
    afterAll(async () => g?.close());

    const mlflow = (method: string, path: string, body: unknown) => mlflowAs(g, "mallory", method, path, body);

    it("refuses deleting the served version, renaming or deleting its model; prod still serves it", async () => {
      const trained = await g.run("mallory", "train");
      const v = trained.steps!.find((s) => s.name === "register")!.metrics.model_version!;
      expect((await g.as("dana", "POST", `${P}/models/m/versions/${v}/approve`, {})).status).toBe(200);
      expect((await g.as("admin", "PUT", `${P}/endpoints/prod`, { model: `m@${v}` })).status).toBe(200);

      const deleted = await mlflow("DELETE", "model-versions/delete", { name: "m", version: String(v) });
      expect([deleted.status, deleted.body.message]).toEqual([
        400,
        expect.stringContaining(`endpoint prod serves m@${v}`),
      ]);
      const renamed = await mlflow("POST", "registered-models/rename", { name: "m", new_name: "m-old" });
      expect([renamed.status, renamed.body.message]).toEqual([400, expect.stringContaining("endpoint prod serves m")]);
      // Deleting a whole model is an admin's, as on Tandem's own route; an admin meets the same refusal.
      expect((await mlflow("DELETE", "registered-models/delete", { name: "m" })).status).toBe(403);
      expect((await g.as("admin", "DELETE", `${P}/models/m`)).status).toBe(409);

      expect((await g.as("mallory", "GET", `${P}/models/m/versions/${v}`)).status).toBe(200);
      // A server started later on the same store (a second one needs Postgres) still serves prod from m@v;
      // before, it answered 409 "loading its model failed: model version m@1 does not exist".
      if (store !== "postgres") return;
      const env = { TANDEM_ARTIFACTS: join(g.srv.home, "artifacts") };
      const next = await startTestServer({ store, databaseUrl: g.srv.databaseUrl, env });
      try {
        const res = await fetch(`${next.url}/v1/endpoints/prod/predict`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${g.tokens.mallory}`,
            "content-type": "application/json",
            "x-tandem-project": PROJECT,
          },
          body: JSON.stringify({ instances: [{ distance: 3, hour: 1 }] }),
        });
        const body = (await res.json()) as { model_version: number };
        expect([res.status, body.model_version], JSON.stringify(body)).toEqual([200, v]);
      } finally {
        await next.stop();
      }
    });
  });
}
