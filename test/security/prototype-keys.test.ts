/**
 * Names that every plain JavaScript object already has (`toString`, `constructor`, `__proto__`, …),
 * sent where a user's string becomes a lookup key or a written key, through the real server. A name
 * that selects behaviour is refused with a 4xx naming it; a name that is the user's data (a tag, an
 * attribute) round-trips as data. CI once answered 500 to MLflow's order_by ["toString.."].
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../pipelines/cli.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const PROTOTYPE_NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "prototype"];

describe("prototype names in user-supplied keys", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  it("GET /api/docs/:file answers 404 for a prototype name, without a token", async () => {
    for (const name of PROTOTYPE_NAMES) {
      const res = await fetch(`${s.url}/api/docs/${name}`);
      expect(res.status, name).toBe(404);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(name);
    }
    expect((await fetch(`${s.url}/api/docs/index.css`)).status).toBe(200);
  });

  it("POST /v1/traces keeps span and resource attributes named like prototype members as data", async () => {
    const traceId = "0123456789abcdef0123456789abcdef";
    const str = (v: string) => ({ stringValue: v });
    // A `__proto__` attribute whose value is a key/value list: with `{}` as the map it became the
    // attributes' prototype, so the span's model and the resource's project were read from it.
    const smuggle = (key: string, value: string) => ({ kvlistValue: { values: [{ key, value: str(value) }] } });
    const body = {
      resourceSpans: [
        {
          resource: {
            attributes: [
              { key: "service.name", value: str("svc") },
              { key: "__proto__", value: smuggle("tandem.project", "elsewhere") },
            ],
          },
          scopeSpans: [
            {
              spans: [
                {
                  traceId,
                  spanId: "0123456789abcdef",
                  name: "chat",
                  startTimeUnixNano: "1700000000000000000",
                  endTimeUnixNano: "1700000001000000000",
                  attributes: [
                    { key: "__proto__", value: smuggle("gen_ai.request.model", "smuggled") },
                    ...PROTOTYPE_NAMES.slice(1).map((key) => ({ key, value: str(key) })),
                  ],
                },
              ],
            },
          ],
        },
      ],
    };
    expect((await s.api("POST", "/v1/traces", body)).status).toBe(200);
    const read = await s.api<{ spans: Array<Record<string, unknown>> }>(
      "GET",
      `/api/v1/projects/default/traces/${traceId}`,
    );
    expect(read.status).toBe(200);
    const [span] = read.body.spans;
    expect(span!.model).toBeNull();
    // Object.fromEntries makes `__proto__` an own key, as JSON.parse does (a literal would not).
    expect(span!.attributes).toEqual(
      Object.fromEntries([
        ["__proto__", { "gen_ai.request.model": "smuggled" }],
        ...PROTOTYPE_NAMES.slice(1).map((key) => [key, key]),
      ]),
    );
    expect(span!.resource).toEqual(
      Object.fromEntries([
        ["service.name", "svc"],
        ["__proto__", { "tandem.project": "elsewhere" }],
      ]),
    );
  });

  it("reads an MLmodel signature's column type named like a prototype member as that type", async () => {
    const mlflow = (path: string, body: unknown) => s.api<Json>("POST", `/api/2.0/mlflow${path}`, body);
    const experimentId = (await mlflow("/experiments/create", { name: "mlmodel-types" })).body.experiment_id as string;
    const runId = (await mlflow("/runs/create", { experiment_id: experimentId })).body.run.info.run_id as string;
    const inputs = PROTOTYPE_NAMES.map((type, i) => ({ name: `c${i}`, type }));
    const mlmodel = [
      "flavors:",
      "  python_function: {loader_module: mlflow.sklearn}",
      "  sklearn: {}",
      "signature:",
      `  inputs: '${JSON.stringify(inputs)}'`,
      `  outputs: '[{"type": "double"}]'`,
    ].join("\n");
    for (const [file, text] of [
      ["MLmodel", mlmodel],
      ["model.pkl", "x"],
    ]) {
      const put = await fetch(
        `${s.url}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/model/${file}`,
        {
          method: "PUT",
          headers: { authorization: `Bearer ${s.adminToken}` },
          body: text,
        },
      );
      expect(put.status).toBe(200);
    }
    expect((await mlflow("/registered-models/create", { name: "typed" })).status).toBe(200);
    const made = await mlflow("/model-versions/create", {
      name: "typed",
      source: `runs:/${runId}/model`,
      run_id: runId,
    });
    expect(made.status).toBe(200);
    const version = await s.api<Json>("GET", "/api/v1/projects/default/models/typed/versions/1");
    // Before: Object.prototype's functions as the types, which JSON then dropped.
    expect(version.body.signature.inputs.map((t: Json) => t.type)).toEqual(PROTOTYPE_NAMES);
  });

  it("tandem runs compare shows a param or metric only one run has as missing in the other", async () => {
    const mlflow = (path: string, body: unknown) => s.api<Json>("POST", `/api/2.0/mlflow${path}`, body);
    const create = async (run_name: string) =>
      (await mlflow("/runs/create", { experiment_id: "0", run_name })).body.run.info.run_id as string;
    const a = await create("a");
    const b = await create("b");
    await mlflow("/runs/log-batch", {
      run_id: a,
      params: [{ key: "constructor", value: "1" }],
      metrics: [{ key: "valueOf", value: 2, timestamp: 1, step: 0 }],
    });
    const env = { TANDEM_URL: s.url, TANDEM_TOKEN: s.adminToken, TANDEM_HOME: s.home };
    const compared = await cli(["runs", "compare", b, a, "--json"], { cwd: s.home, env });
    expect(compared.stderr).toBe("");
    // Before: b's side read Object.prototype's functions, which JSON dropped (and text printed).
    expect(JSON.parse(compared.stdout)).toMatchObject({
      params: [{ key: "constructor", a: null, b: "1", same: false }],
      metrics: [{ key: "valueOf", a: null, b: 2, delta: null }],
    });
  });
});

const kv = (key: string, value: string) => ({ key, value });

for (const kind of STORE_KINDS) {
  const run = kind === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`prototype names as MLflow data [${kind}]`, () => {
    let s: TestServer;
    const mlflow = (method: string, path: string, body?: unknown) =>
      s.api<Json>(method, `/api/2.0/mlflow${path}`, body);
    beforeAll(async () => {
      s = await startTestServer({ store: kind });
    });
    afterAll(async () => {
      await s?.stop();
    });

    it("keeps experiment tags, run tags and params named like prototype members", async () => {
      const tags = PROTOTYPE_NAMES.map((n) => kv(n, `tag ${n}`));
      const params = PROTOTYPE_NAMES.map((n) => kv(n, `param ${n}`));
      const created = await mlflow("POST", "/experiments/create", { name: "protos", tags });
      expect(created.status).toBe(200);
      const id = created.body.experiment_id as string;
      const experiment = await mlflow("GET", `/experiments/get?experiment_id=${id}`);
      expect(experiment.body.experiment.tags).toEqual(expect.arrayContaining(tags));

      const runId = (await mlflow("POST", "/runs/create", { experiment_id: id, tags })).body.run.info.run_id as string;
      expect((await mlflow("POST", "/runs/log-batch", { run_id: runId, params })).status).toBe(200);
      // Logging the same value again is allowed; with `{}` the stored `__proto__` read back as an object.
      const again = await mlflow("POST", "/runs/log-parameter", {
        run_id: runId,
        ...kv("__proto__", "param __proto__"),
      });
      expect(again.status).toBe(200);
      const changed = await mlflow("POST", "/runs/log-parameter", { run_id: runId, ...kv("__proto__", "other") });
      expect(changed.body.message).toContain("value='param __proto__'");

      const { data } = (await mlflow("GET", `/runs/get?run_id=${runId}`)).body.run;
      expect(data.tags).toEqual(expect.arrayContaining(tags));
      expect(data.params).toEqual(expect.arrayContaining(params));
      const searched = await mlflow("POST", "/runs/search", {
        experiment_ids: [id],
        filter: "tags.__proto__ = 'tag __proto__' and params.__proto__ = 'param __proto__'",
      });
      expect(searched.body.runs[0].data.params).toEqual(expect.arrayContaining(params));
    });

    it("filters registered models by their own tags only", async () => {
      await mlflow("POST", "/registered-models/create", { name: "untagged" });
      const tags = PROTOTYPE_NAMES.map((n) => kv(n, n));
      expect((await mlflow("POST", "/registered-models/create", { name: "tagged", tags })).status).toBe(200);
      const search = (filter: string) =>
        mlflow("GET", `/registered-models/search?filter=${encodeURIComponent(filter)}`);
      // Before: 500 (ILIKE on Object.prototype's function), or every model matched.
      const missing = await search("tags.isPrototypeOf ILIKE '%'");
      expect(missing.status).toBe(200);
      expect(missing.body.registered_models ?? []).toEqual([]);
      for (const name of PROTOTYPE_NAMES) {
        const found = await search(`tags.${name} LIKE '%'`);
        expect(
          found.body.registered_models.map((m: Json) => m.name),
          name,
        ).toEqual(["tagged"]);
      }
    });
  });
}
