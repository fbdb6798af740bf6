/**
 * `order_by` of registered-models/search and model-versions/search as MLflow 2.12's SQL store reads
 * it (sqlalchemy_store.py `_parse_search_*_order_by`, search_utils.py): only its keys, with its 400
 * INVALID_PARAMETER_VALUE and message for any other; its natural order breaks ties. Before, an
 * unknown key (`foo`, `toString`, `tags.x`) answered 200, sorted by the last update.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { putArtifact, registerSource } from "./helpers.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("MLflow registry search order_by", () => {
  let s: TestServer;
  const api = (method: string, path: string, body?: unknown) => s.api<Json>(method, `/api/2.0/mlflow${path}`, body);
  const orderQuery = (orderBy: string[]) => orderBy.map((o) => `order_by=${encodeURIComponent(o)}`).join("&");
  const models = (...orderBy: string[]) => api("GET", `/registered-models/search?${orderQuery(orderBy)}`);
  const versions = (...orderBy: string[]) => api("GET", `/model-versions/search?${orderQuery(orderBy)}`);
  const names = (r: { body: Json }) => (r.body.registered_models as Json[]).map((m) => m.name as string);
  const pairs = (r: { body: Json }) => (r.body.model_versions as Json[]).map((v) => `${v.name}/${v.version}`);

  beforeAll(async () => {
    s = await startTestServer();
    // One run per version: the same files registered twice are one version.
    const source = async (i: number) => {
      const run = await api("POST", "/runs/create", { experiment_id: "0" });
      const root = (run.body.run.info.artifact_uri as string).replace("mlflow-artifacts:/", "");
      await putArtifact(s, `${root}/model/MLmodel`, `flavors:\n  python_function: {loader_module: custom${i}}\n`);
      return `runs:/${run.body.run.info.run_id as string}/model`;
    };
    // Created b, a, c; versions a/1, a/2, b/1; then b is updated last (and b/1 of the versions).
    for (const name of ["b", "a", "c"])
      expect((await api("POST", "/registered-models/create", { name })).status).toBe(200);
    for (const [i, name] of ["a", "a", "b"].entries())
      expect((await registerSource(s, name, await source(i))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 5));
    expect((await api("PATCH", "/registered-models/update", { name: "b", description: "new" })).status).toBe(200);
    expect((await api("PATCH", "/model-versions/update", { name: "b", version: "1", description: "new" })).status).toBe(
      200,
    );
  });
  afterAll(async () => s?.stop());

  it("registered models: name, timestamp and last_updated_timestamp, then name", async () => {
    expect(names(await models())).toEqual(["a", "b", "c"]);
    expect(names(await models("name DESC"))).toEqual(["c", "b", "a"]);
    // `timestamp` is the last update in MLflow's SQL store, as last_updated_timestamp is.
    expect(names(await models("timestamp DESC"))[0]).toBe("b");
    expect(names(await models("last_updated_timestamp DESC"))[0]).toBe("b");
    // A new version moves its model's last update (a's versions came after c was created), as in MLflow.
    expect(names(await models("timestamp ASC"))).toEqual(["c", "a", "b"]);
  });

  it("registered models: any other key is 400 with MLflow's message", async () => {
    for (const key of ["foo", "creation_timestamp", "toString", "__proto__", "tags.x"]) {
      const r = await models(`${key} ASC`);
      expect(r.status, key).toBe(400);
      expect(r.body).toEqual({
        error_code: "INVALID_PARAMETER_VALUE",
        message: `Invalid order by key '${key}' specified. Valid keys are '{'name', 'timestamp'}'`,
      });
    }
    expect((await models("name sideways")).body.message).toBe(
      "Invalid ordering key in order_by clause 'name sideways'.",
    );
    expect((await models("name ASC please")).body.message).toBe(
      "Invalid order_by clause 'name ASC please'. Could not be parsed.",
    );
  });

  it("model versions: name, version_number, creation and last update, as attributes", async () => {
    // MLflow's default: the last updated first (b/1), then name and the newest version.
    expect(pairs(await versions())).toEqual(["b/1", "a/2", "a/1"]);
    expect(pairs(await versions("name"))).toEqual(["a/2", "a/1", "b/1"]);
    expect(pairs(await versions("attribute.version_number ASC"))).toEqual(["a/1", "b/1", "a/2"]);
    expect(pairs(await versions("creation_timestamp DESC"))).toEqual(["b/1", "a/2", "a/1"]);
    // b/1 was updated last; before, last_updated_timestamp sorted by creation.
    expect(pairs(await versions("last_updated_timestamp ASC"))).toEqual(["a/1", "a/2", "b/1"]);
  });

  it("model versions: any other key or entity is 400 with MLflow's message", async () => {
    const keys = "{'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'}";
    const cases: Array<[string, string]> = [
      ["foo", `Invalid attribute key 'foo' specified. Valid keys are '${keys}'`],
      ["attribute.toString", `Invalid attribute key 'toString' specified. Valid keys are '${keys}'`],
      ["tags.x DESC", `Invalid order by key 'x' specified. Valid keys are ${keys}`],
      ["run.start_time", "Invalid entity type 'run'. Valid entity types are ('attribute', 'tag', 'tags')"],
      ["__proto__.name", "Invalid entity type '__proto__'. Valid entity types are ('attribute', 'tag', 'tags')"],
    ];
    for (const [clause, message] of cases) {
      const r = await versions(clause);
      expect(r.status, clause).toBe(400);
      expect(r.body).toEqual({ error_code: "INVALID_PARAMETER_VALUE", message });
    }
  });

  it("a field given twice is 400 with MLflow's message (its server's is a 500 INTERNAL_ERROR)", async () => {
    const cases: Array<[typeof models, string[]]> = [
      [versions, ["name", "name DESC"]],
      [versions, ["name", "attribute.name"]],
      [versions, ["name", '"name"']],
      [versions, ["version_number", "last_updated_timestamp", "`version_number`"]],
      [models, ["timestamp", "last_updated_timestamp DESC"]],
      [models, ["name", "`name` DESC"]],
    ];
    for (const [search, orderBy] of cases) {
      const r = await search(...orderBy);
      expect(r.status, orderBy.join()).toBe(400);
      expect(r.body).toEqual({
        error_code: "INVALID_PARAMETER_VALUE",
        message: `\`order_by\` contains duplicate fields: [${orderBy.map((o) => `'${o}'`).join(", ")}]`,
      });
    }
  });
});
