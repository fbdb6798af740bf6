/**
 * MLflow clients load `models:/m/Production` as the newest version in that stage, so taking the
 * newest one out hands Production to the one below it: a rollback. Before, a member could archive
 * it (transition-stage to Archived needs no policy) and Production went back to a version an
 * approver had rejected since. On a real server over HTTP (MLflow's REST API), SQLite and Postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { appliedProject, latestDecision, mlflowAs, P, type Governed, type Person } from "./helpers.js";

for (const store of STORE_KINDS) {
  const run = store === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`leaving Production is a rollback [${store}]`, () => {
    let g: Governed;

    beforeAll(async () => {
      g = await appliedProject(store);
    });
    afterAll(async () => g?.close());

    const stage = (who: Person, version: number, to: string) =>
      mlflowAs(g, who, "POST", "model-versions/transition-stage", { name: "m", version: String(version), stage: to });
    const production = async () => {
      const latest = await mlflowAs(g, "mallory", "POST", "registered-models/get-latest-versions", {
        name: "m",
        stages: ["Production"],
      });
      const versions = (latest.body as { model_versions?: Array<{ version: string }> }).model_versions ?? [];
      return versions.map((v) => Number(v.version));
    };

    it("a member cannot archive Production back to a rejected version; an approver may", async () => {
      const trained = async () =>
        (await g.run("mallory", "train")).steps!.find((s) => s.name === "register")!.metrics.model_version!;
      const [first, second] = [await trained(), await trained()];
      for (const v of [first, second]) {
        expect((await g.as("dana", "POST", `${P}/models/m/versions/${v}/approve`, {})).status).toBe(200);
        expect((await stage("mallory", v, "Production")).status).toBe(200);
      }
      expect(await production()).toEqual([second]);
      const reject = { comment: "leaks labels" };
      expect((await g.as("dana", "POST", `${P}/models/m/versions/${first}/reject`, reject)).status).toBe(200);

      const archived = await stage("mallory", second, "Archived");
      expect([archived.status, archived.body.message]).toEqual([
        403,
        expect.stringMatching(/rollback of stage Production to m@\d+ refused: no rejection since \(rejected by dana/),
      ]);
      expect(await production()).toEqual([second]);
      expect(await latestDecision(g, first)).toMatchObject({ action: "rollback", verdict: "fail" });

      expect((await stage("dana", second, "Archived")).status).toBe(200);
      expect(await production()).toEqual([first]);
      // Taking out a version that is not the newest in its stage hands nothing over.
      expect((await stage("mallory", first, "None")).status).toBe(200);
      expect(await production()).toEqual([]);
    });
  });
}
