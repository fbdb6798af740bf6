/**
 * Policy and tag names that every plain object already has (`__proto__`, `constructor`,
 * `toString`, …), through the real server: a policy a request names must be declared, a policy so
 * named is a change like any other (stored, shown, admin-only), and a tag the model lacks is not there.
 * Before, `name in {}` found Object.prototype's members, so each of these passed without a word.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { putArtifact, registerSource } from "../mlflow/helpers.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const PROTOTYPE_NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "prototype"];

describe("policy and tag names like prototype members", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("an alias move naming a policy __proto__, constructor, toString … is refused as undeclared, not let through", async () => {
    const run = await s.api<Json>("POST", "/api/2.0/mlflow/runs/create", { experiment_id: "0" });
    const root = (run.body.run.info.artifact_uri as string).replace("mlflow-artifacts:/", "");
    await putArtifact(s, `${root}/model/MLmodel`, "flavors:\n  python_function: {loader_module: custom}\n");
    expect((await registerSource(s, "gated", `runs:/${run.body.run.info.run_id}/model`)).status).toBe(200);
    for (const policy of PROTOTYPE_NAMES) {
      // Before, `policy in {}` found Object.prototype's member: the named policy added nothing, silently.
      const r = await s.api<Json>("PUT", "/api/v1/projects/default/models/gated/aliases/champion", {
        version: 1,
        policy,
      });
      expect(r.status, policy).toBe(404);
      expect(r.body.error.message).toBe(
        `policy ${policy} is not declared in project default (declared: none); run tandem apply`,
      );
    }
    // A tag the model does not have is not there whatever its name: deleting it deletes nothing and
    // answers 200, as MLflow's store does (before: found on Object.prototype for these names).
    await s.api<Json>("POST", "/api/2.0/mlflow/registered-models/set-tag", { name: "gated", key: "keep", value: "1" });
    for (const key of ["nope", ...PROTOTYPE_NAMES]) {
      const model = await s.api<Json>("DELETE", "/api/2.0/mlflow/registered-models/delete-tag", { name: "gated", key });
      expect([model.status, model.body.error_code], key).toEqual([200, undefined]);
      const version = await s.api<Json>("DELETE", "/api/2.0/mlflow/model-versions/delete-tag", {
        name: "gated",
        version: "1",
        key,
      });
      expect([version.status, version.body.error_code], key).toEqual([200, undefined]);
    }
    const after = await s.api<Json>("GET", "/api/2.0/mlflow/registered-models/get?name=gated");
    expect(after.body.registered_model.tags).toEqual([{ key: "keep", value: "1" }]);
  });

  it("a policy named constructor or toString is a change: added, stored, then removed", async () => {
    const spec = (name: string) =>
      `project: default\npolicies:\n  ${name}:\n    require:\n      - metric: accuracy >= 0.99\n`;
    const diff = (source: string) => s.api<Json>("POST", "/api/v1/projects/default/policies/diff", { source });
    for (const name of ["constructor", "toString"]) {
      // Before, `name in {}` was true: no change, so nothing was stored and a member might apply it.
      const before = await diff(spec(name));
      expect(
        before.body.changes.map((c: Json) => [c.policy, c.change]),
        name,
      ).toEqual([[name, "added"]]);
      const put = await s.api("PUT", "/api/v1/projects/default/policies", {
        policies: { [name]: { require: [{ metric: "accuracy >= 0.99" }] } },
      });
      expect(put.status).toBe(200);
      expect((await diff(spec(name))).body.changes).toEqual([]);
      expect((await diff("project: default\n")).body.changes.map((c: Json) => [c.policy, c.change])).toEqual([
        [name, "removed"],
      ]);
      expect((await s.api("PUT", "/api/v1/projects/default/policies", { policies: {} })).status).toBe(200);
      expect((await diff("project: default\n")).body.changes).toEqual([]);
    }
  });

  it("a policy on a metric named constructor or toString that no one logged fails as missing", async () => {
    const run = await s.api<Json>("POST", "/api/2.0/mlflow/runs/create", { experiment_id: "0" });
    const root = (run.body.run.info.artifact_uri as string).replace("mlflow-artifacts:/", "");
    await putArtifact(s, `${root}/model/MLmodel`, "flavors:\n  python_function: {loader_module: custom}\n");
    expect((await registerSource(s, "metered", `runs:/${run.body.run.info.run_id}/model`)).status).toBe(200);
    for (const metric of ["nope", "constructor", "toString"]) {
      const put = await s.api("PUT", "/api/v1/projects/default/policies", {
        policies: { gate: { require: [{ metric: `${metric} >= 0.5` }], accept_manual: true } },
      });
      expect(put.status, metric).toBe(200);
      const r = await s.api<Json>("PUT", "/api/v1/projects/default/models/metered/aliases/champion", { version: 1 });
      expect(r.status, metric).toBe(409);
      // Before, the run's metric map answered Object's function: "set aside: 1 manual", a run as evidence.
      expect(r.body.error.details.checks[0], metric).toMatchObject({
        outcome: "fail",
        detail: `no ${metric} recorded for this version by a pipeline step`,
        evidence: [],
      });
    }
    expect((await s.api("PUT", "/api/v1/projects/default/policies", { policies: {} })).status).toBe(200);
  });
});
