/**
 * Deleting an alias is a move to nothing: `models:/m@champion` stops resolving for every MLflow
 * client, and an endpoint following it has nothing to follow. Before, any member could delete any
 * alias (Tandem's route and MLflow's DELETE registered-models/alias), prod's included. Now deleting
 * an alias that a policy governs, directly or through an endpoint following it, needs the role that
 * could approve a move of it (the policies' approval role, approver when they require none); an
 * alias nothing governs stays a member's. On a real server over HTTP, SQLite and Postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { aliasOf, appliedProject, mlflowAs, P, type Governed } from "./helpers.js";

for (const store of STORE_KINDS) {
  const run = store === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`a member cannot delete a governed alias [${store}]`, () => {
    let g: Governed;
    let version: number;

    beforeAll(async () => {
      g = await appliedProject(store);
      const trained = await g.run("mallory", "train");
      expect(trained.status, JSON.stringify(trained.steps)).toBe("succeeded");
      version = trained.steps!.find((s) => s.name === "register")!.metrics.model_version!;
      expect((await g.as("dana", "POST", `${P}/models/m/versions/${version}/approve`, {})).status).toBe(200);
      for (const alias of ["champion", "staging", "scratch", "candidate"])
        expect((await g.as("mallory", "PUT", `${P}/models/m/aliases/${alias}`, { version })).status).toBe(200);
      // prod follows champion; dev follows candidate (no policy names dev or candidate).
      expect((await g.as("admin", "PUT", `${P}/endpoints/prod`, { model: "m@champion" })).status).toBe(200);
      expect((await g.as("admin", "PUT", `${P}/endpoints/dev`, { model: "m@candidate" })).status).toBe(200);
    });
    afterAll(async () => g?.close());

    const resolves = async (alias: string) =>
      (await mlflowAs(g, "mallory", "GET", `registered-models/alias?name=m&alias=${alias}`, undefined)).status === 200;

    it("refuses a member deleting champion (release governs it, prod follows it) on both APIs", async () => {
      const rest = await g.as("mallory", "DELETE", `${P}/models/m/aliases/champion`);
      expect(rest.status, JSON.stringify(rest.body)).toBe(403);
      expect(JSON.stringify(rest.body)).toContain("policy release");
      const mlflow = await mlflowAs(g, "mallory", "DELETE", "registered-models/alias", {
        name: "m",
        alias: "champion",
      });
      expect(mlflow.status, JSON.stringify(mlflow.body)).toBe(403);
      expect(await aliasOf(g, "champion")).toBe(version);
      expect(await resolves("champion")).toBe(true);
    });

    it("refuses a member deleting staging, which a policy without approvals governs", async () => {
      expect((await g.as("mallory", "DELETE", `${P}/models/m/aliases/staging`)).status).toBe(403);
      expect(await aliasOf(g, "staging")).toBe(version);
    });

    it("lets a member delete an alias nothing governs, followed or not, and an approver a governed one", async () => {
      expect((await g.as("mallory", "DELETE", `${P}/models/m/aliases/scratch`)).status).toBe(200);
      expect((await g.as("mallory", "DELETE", `${P}/models/m/aliases/candidate`)).status).toBe(200);
      expect((await g.as("dana", "DELETE", `${P}/models/m/aliases/staging`)).status).toBe(200);
      const byApprover = await mlflowAs(g, "dana", "DELETE", "registered-models/alias", {
        name: "m",
        alias: "champion",
      });
      expect(byApprover.status, JSON.stringify(byApprover.body)).toBe(200);
      expect(await aliasOf(g, "champion")).toBeNull();
    });
  });
}
