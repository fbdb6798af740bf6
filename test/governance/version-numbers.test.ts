/**
 * A version number names one artifact forever. Approvals, evaluations, decisions, an alias's
 * history and an endpoint's pinned version are all kept by (model, number); if a deleted version's
 * number were handed to the next registration, the new artifact would inherit everything the old
 * one earned. The attacker is a member on a real server over HTTP, with MLflow's REST API (which
 * lets a member delete versions and models), on SQLite and Postgres.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { aliasOf, appliedProject, latestDecision, mlflowAs, P, type Governed } from "./helpers.js";

type ErrorBody = { error: { code: string; message: string } };

for (const store of STORE_KINDS) {
  const run = store === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`version numbers are never reused [${store}]`, () => {
    let g: Governed;

    beforeAll(async () => {
      g = await appliedProject(store);
    });
    afterAll(async () => g?.close());

    /** MLflow's REST API as mallory, or the project's admin (what `MlflowClient` sends). */
    const mlflow = (method: string, path: string, body: unknown, who: "mallory" | "ada" = "mallory") =>
      mlflowAs(g, who, method, path, body);

    /** Mallory registers `file` through the REST API (no pipeline: no pipeline evidence of its own). */
    const register = async (model: string, file: string): Promise<number> => {
      const blob = await fetch(`${g.srv.url}${P}/model-blobs`, {
        method: "POST",
        headers: { authorization: `Bearer ${g.tokens.mallory}`, "content-type": "application/octet-stream" },
        body: readFileSync(join(g.workspace, file)),
      }).then((r) => r.json() as Promise<{ sha256: string }>);
      const reg = await g.as<{ version: { version: number } }>("mallory", "POST", `${P}/models/${model}/versions`, {
        artifact: { kind: "blob", sha256: blob.sha256, file_name: "model.onnx" },
      });
      expect(reg.status, JSON.stringify(reg.body)).toBe(201);
      return reg.body.version.version;
    };

    it("a deleted version's approval and pipeline evidence do not pass to the next registration", async () => {
      const trained = await g.run("mallory", "train");
      expect(trained.status, JSON.stringify(trained.steps)).toBe("succeeded");
      const good = trained.steps!.find((s) => s.name === "register")!.metrics.model_version!;
      expect((await g.as("dana", "POST", `${P}/models/m/versions/${good}/approve`, {})).status).toBe(200);

      // Mallory swaps the approved file for her own under the same name and number.
      expect((await mlflow("DELETE", "model-versions/delete", { name: "m", version: String(good) })).status).toBe(200);
      const swapped = await register("m", "bad.onnx");
      expect(swapped).toBe(good + 1);
      expect((await g.as("admin", "GET", `${P}/models/m/versions/${good}`)).status).toBe(404);
      const evidence = await g.as<{ evaluations: unknown[] }>(
        "admin",
        "GET",
        `${P}/models/m/versions/${swapped}/evaluations`,
      );
      expect(evidence.body.evaluations).toEqual([]);

      const refused = await g.as<ErrorBody>("mallory", "PUT", `${P}/models/m/aliases/champion`, { version: swapped });
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toMatch(/policy release: roc_auc >= 0.6/);
      expect((await latestDecision(g, swapped)).checks.find((c) => c.kind === "approvals")!.outcome).toBe("pending");
      expect(await aliasOf(g, "champion")).toBeNull();
    });

    it("a deleted version's place in an alias's history does not let a member roll back to a new file", async () => {
      const trained = async () =>
        (await g.run("mallory", "train")).steps!.find((s) => s.name === "register")!.metrics.model_version!;
      const [first, second] = [await trained(), await trained()];
      for (const v of [first, second]) {
        expect((await g.as("dana", "POST", `${P}/models/m/versions/${v}/approve`, {})).status).toBe(200);
        expect((await g.as("mallory", "PUT", `${P}/models/m/aliases/champion`, { version: v })).status).toBe(200);
      }
      // Back to first (it passed), then the newest number is free to delete: it passed onto
      // champion once, and that history must not go to another file.
      expect((await g.as("mallory", "POST", `${P}/models/m/aliases/champion/rollback`, {})).status).toBe(200);
      expect((await mlflow("DELETE", "model-versions/delete", { name: "m", version: String(second) })).status).toBe(
        200,
      );
      const swapped = await register("m", "bad.onnx");
      expect(swapped).toBe(second + 1);
      const gone = await g.as<ErrorBody>("mallory", "POST", `${P}/models/m/aliases/champion/rollback`, {
        version: second,
      });
      expect(gone.status).toBe(404);
      const never = await g.as<ErrorBody>("mallory", "POST", `${P}/models/m/aliases/champion/rollback`, {
        version: swapped,
      });
      expect([never.status, never.body.error.message]).toEqual([
        409,
        expect.stringMatching(/never held alias champion/),
      ]);
      expect(await aliasOf(g, "champion")).toBe(first);
    });

    it("a model deleted and made again starts after the numbers its name already used", async () => {
      const a = await register("n", "good.onnx");
      const b = await register("n", "bad.onnx");
      expect([a, b]).toEqual([1, 2]);
      expect((await g.as("dana", "POST", `${P}/models/n/versions/${b}/approve`, {})).status).toBe(200);
      // Deleting a model is an admin's (a member's answers 403).
      expect((await mlflow("DELETE", "registered-models/delete", { name: "n" }, "ada")).status).toBe(200);
      expect(await register("n", "other.onnx")).toBe(3);
      // A rename keeps the numbers with the versions, and the old name does not start over either.
      expect((await mlflow("POST", "registered-models/rename", { name: "n", new_name: "n2" })).status).toBe(200);
      expect(await register("n2", "good.onnx")).toBe(4);
      expect(await register("n", "good.onnx")).toBe(4);
    });
  });
}
