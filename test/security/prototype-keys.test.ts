/**
 * Names that every plain JavaScript object already has (`toString`, `constructor`, `__proto__`, …),
 * sent where a user's string becomes a lookup key or a written key, through the real server. A name
 * that selects behaviour is refused with a 4xx naming it; a name that is the user's data (a tag, an
 * attribute) round-trips as data. CI once answered 500 to MLflow's order_by ["toString.."].
 */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../pipelines/cli.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { putArtifact, registerSource } from "../mlflow/helpers.js";
import { newId } from "../../src/core/ids.js";
import { requestOfEntry } from "../../src/core/serving/prediction-log.js";
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

  it("a JSON body with a __proto__ key is refused with a 400 naming the key's place", async () => {
    const post = (path: string, text: string) =>
      fetch(`${s.url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${s.adminToken}`, "content-type": "application/json" },
        body: text,
      });
    // Before: "Body is not valid JSON but content-type is set to 'application/json'", of valid JSON.
    const tandem = await post(
      "/api/v1/projects/default/datasets/none/versions/1/validate",
      '{"expectations": {"columns": {"a": {}, "__proto__": {"not_null": true}}}}',
    );
    expect(tandem.status).toBe(400);
    const error = ((await tandem.json()) as Json).error;
    expect(error.code).toBe("INVALID_INPUT");
    expect(error.message).toContain("key expectations.columns.__proto__ is refused");
    const mlflow = await post(
      "/api/2.0/mlflow/runs/create",
      '{"experiment_id": "0", "tags": [{"key": "k", "value": "v", "constructor": {"prototype": {}}}]}',
    );
    expect(mlflow.status).toBe(400);
    const body = (await mlflow.json()) as Json;
    expect(body.error_code).toBe("INVALID_PARAMETER_VALUE");
    expect(body.message).toContain("key tags[0].constructor.prototype is refused");
    // Not JSON at all keeps Fastify's message.
    expect(((await (await post("/api/2.0/mlflow/runs/create", '{"a": __proto__}')).json()) as Json).message).toContain(
      "not valid JSON",
    );
  });

  it("PUT secrets/__proto__ is 400 naming the name: a step's secret map could not hold it", async () => {
    const r = await s.api<Json>("PUT", "/api/v1/projects/default/secrets/__proto__", { value: "v" });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/^secret name "__proto__": the name is reserved/);
    expect((await s.api("PUT", "/api/v1/projects/default/secrets/constructor", { value: "v" })).status).toBe(200);
    const list = await s.api<Json>("GET", "/api/v1/projects/default/secrets");
    expect((list.body.secrets as Json[]).map((x) => x.name)).toEqual(["constructor"]);
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

    it("a span whose model is named like a prototype member has no price, and the trace's cost stays a sum", async () => {
      const traceId = "fedcba9876543210fedcba9876543210";
      const str = (v: string) => ({ stringValue: v });
      const int = (v: number) => ({ intValue: String(v) });
      const span = (i: number, model: string) => ({
        traceId,
        spanId: `10000000000000${String(i).padStart(2, "0")}`,
        name: `chat ${model}`,
        startTimeUnixNano: "1700000000000000000",
        endTimeUnixNano: "1700000001000000000",
        attributes: [
          { key: "gen_ai.request.model", value: str(model) },
          { key: "gen_ai.usage.input_tokens", value: int(1_000_000) },
          { key: "gen_ai.usage.output_tokens", value: int(0) },
        ],
      });
      const models = ["gpt-4o-mini", ...PROTOTYPE_NAMES];
      const body = { resourceSpans: [{ scopeSpans: [{ spans: models.map((m, i) => span(i, m)) }] }] };
      const posted = await s.api("POST", "/v1/traces", body);
      expect(posted.status, JSON.stringify(posted.body)).toBe(200);
      const read = await s.api<Json>("GET", `/api/v1/projects/default/traces/${traceId}`);
      expect(read.status).toBe(200);
      const costs = Object.fromEntries((read.body.spans as Json[]).map((x) => [x.model as string, x.cost as unknown]));
      // Before, `constructor` found Object in the price table: a NaN cost (null in JSON) for the span.
      expect(costs).toEqual(Object.fromEntries(models.map((m) => [m, m === "gpt-4o-mini" ? 0.15 : null])));
      // On Postgres the NaN was stored and summed: the whole trace's cost read null.
      const list = await s.api<Json>("GET", `/api/v1/projects/default/traces`);
      const trace = (list.body.traces as Json[]).find((x) => x.trace_id === traceId);
      expect(trace).toMatchObject({ cost: 0.15, span_count: models.length });
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

describe("columns named like prototype members, through the CLI on files", () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-proto-columns-"));
  const env = { TANDEM_HOME: join(dir, "home") };
  const tandem = (...args: string[]) => cli(args, { cwd: dir, env });
  // Columns __proto__, constructor, x; reference around 0, current around 5 in `__proto__` only.
  const rows = (shift: number) => Array.from({ length: 60 }, (_, i) => [shift + (i % 10) / 10, (i % 7) / 7, i % 5]);
  const csv = (r: number[][]) => ["__proto__,constructor,x", ...r.map((v) => v.join(","))].join("\n") + "\n";
  const jsonl = (r: number[][]) =>
    r.map(([p, c, x]) => `{"__proto__":${p},"constructor":${c},"x":${x}}`).join("\n") + "\n";
  beforeAll(() => {
    writeFileSync(join(dir, "ref.csv"), csv(rows(0)));
    writeFileSync(join(dir, "cur.csv"), csv(rows(5)));
    writeFileSync(join(dir, "ref.jsonl"), jsonl(rows(0)));
    writeFileSync(join(dir, "cur.jsonl"), jsonl(rows(5)));
  });

  it("data add profiles a JSON Lines column named __proto__", async () => {
    // JSON Lines are read row by row (CSV goes through DuckDB, which kept the column already).
    expect((await tandem("data", "add", "ref.jsonl", "--name", "protos")).code).toBe(0);
    const shown = await tandem("data", "show", "protos@1", "--json");
    const columns = JSON.parse(shown.stdout).profile.files["ref.jsonl"].profile.columns as Json[];
    // Before: the column was listed with count 0 and no nulls, its 60 values gone.
    expect(columns.map((c) => [c.name, c.kind, c.count, c.null_count])).toEqual([
      ["__proto__", "float", 60, 0],
      ["constructor", "float", 60, 0],
      ["x", "integer", 60, 0],
    ]);
  });

  for (const ext of ["csv", "jsonl"]) {
    it(`monitors drift finds the drifted column __proto__ (${ext})`, async () => {
      const out = await tandem("monitors", "drift", "--reference", `ref.${ext}`, "--current", `cur.${ext}`, "--json");
      // Before: the column was not in the table, so the report had 2 columns and no drift.
      const report = JSON.parse(out.stdout) as Json;
      expect(report.columns.map((c: Json) => [c.name, c.drift])).toEqual([
        ["__proto__", true],
        ["constructor", false],
        ["x", false],
      ]);
    });
  }

  it("monitors drift keeps __proto__ from a dataset of several files", async () => {
    const two = join(dir, "two");
    mkdirSync(two);
    const reference = rows(0);
    writeFileSync(join(two, "a.csv"), csv(reference.slice(0, 30)));
    writeFileSync(join(two, "b.csv"), csv(reference.slice(30)));
    expect((await tandem("data", "add", "two", "--name", "two")).code).toBe(0);
    const out = await tandem("monitors", "drift", "--reference", "dataset://two@1", "--current", "cur.csv", "--json");
    // Before: the files' tables were stacked into {}, which dropped the column (no drift found).
    const report = JSON.parse(out.stdout) as Json;
    expect(report.columns.map((c: Json) => [c.name, c.drift])).toEqual([
      ["__proto__", true],
      ["constructor", false],
      ["x", false],
    ]);
  });

  it("monitors drift --threshold/--column-test __proto__=… set that column's, not every column's", async () => {
    const out = await tandem(
      "monitors",
      "drift",
      ...["--reference", "ref.jsonl", "--current", "cur.jsonl", "--json"],
      ...["--threshold", "__proto__=0.99", "--column-test", "__proto__=psi"],
    );
    expect(out.stderr).toBe("");
    // Before: Object.prototype.threshold = 0.99, so every column drifted at 0.99 (and
    // Object.prototype.test = "psi" broke csv-parse with a TypeError on CSV inputs).
    const report = JSON.parse(out.stdout) as Json;
    expect(report.columns.map((c: Json) => [c.name, c.test, c.threshold])).toEqual([
      ["__proto__", "psi", 0.99],
      ["constructor", "ks", 0.05],
      ["x", "chisquare", 0.05],
    ]);
    const csvOut = await tandem(
      "monitors",
      "drift",
      ...["--reference", "ref.csv", "--current", "cur.csv", "--json", "--column-test", "__proto__=psi"],
    );
    expect(csvOut.stderr).toBe("");
    expect(csvOut.code).toBe(0);
  });

  it("tandem validate refuses a __proto__ key in tandem.yaml, naming each place", async () => {
    const spec = join(dir, "spec");
    mkdirSync(spec);
    writeFileSync(
      join(spec, "tandem.yaml"),
      [
        "pipelines:",
        "  __proto__:",
        "    steps: {a: {run: echo}}",
        "  p:",
        "    steps:",
        "      a:",
        "        run: echo",
        "        env: {__proto__: x}",
        "",
      ].join("\n"),
    );
    const out = await cli(["validate"], { cwd: spec, env });
    // Before: "tandem.yaml is valid (pipelines: p)": zod's records dropped both keys.
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('tandem.yaml:2:3: pipelines.__proto__: the key "__proto__" is reserved');
    expect(out.stderr).toContain(
      'tandem.yaml:8:15: pipelines.p.steps.a.env.__proto__: the key "__proto__" is reserved',
    );
  });

  it("monitors drift --columns toString is a column the files do not have", async () => {
    const out = await tandem(
      "monitors",
      "drift",
      "--reference",
      "ref.csv",
      "--current",
      "cur.csv",
      "--columns",
      "toString",
    );
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('has no column "toString"');
  });
});

describe("an MLmodel flavor named like a prototype member", () => {
  let t: TestServer;
  beforeAll(async () => {
    // A Python without MLflow, the same on every machine: each import check fails on mlflow.
    const python = join(mkdtempSync(join(tmpdir(), "tandem-proto-python-")), "python3");
    writeFileSync(python, "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'mlflow'\" >&2\nexit 1\n");
    chmodSync(python, 0o755);
    t = await startTestServer({ env: { TANDEM_PYTHON: python } });
  });
  afterAll(async () => t?.stop());

  for (const flavor of ["toString", "__proto__"]) {
    it(`refuses the deploy of a ${flavor} model naming only MLflow to install`, async () => {
      const run = await t.api<Json>("POST", "/api/2.0/mlflow/runs/create", { experiment_id: "0" });
      const root = (run.body.run.info.artifact_uri as string).replace("mlflow-artifacts:/", "");
      const mlmodel = `flavors:\n  python_function: {loader_module: custom}\n  ${flavor}: {}\n`;
      await putArtifact(t, `${root}/model/MLmodel`, mlmodel);
      const name = `m${flavor.replace(/_/g, "")}`;
      expect((await registerSource(t, name, `runs:/${run.body.run.info.run_id}/model`)).status).toBe(200);
      const deploy = await t.api<Json>("PUT", `/api/v1/projects/default/endpoints/${name}`, { model: `${name}@1` });
      expect(deploy.status).toBe(409);
      // Before: FLAVOR_MODULES[flavor] found Object.prototype's member, whose pip is undefined:
      // "Install mlflow>=2.12,<3 and undefined", install [..., null].
      expect(deploy.body.error.details.install).toEqual(["mlflow>=2.12,<3"]);
      expect(deploy.body.error.message).toContain(`MLflow ${flavor} model`);
      expect(deploy.body.error.message).not.toContain("undefined");
    });
  }
});

describe("a monitor over traffic whose features are named like prototype members", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => t?.stop());

  it("runs, and tests every feature for drift", async () => {
    const services = t.server.opened.services;
    // Reference: every column around 0; traffic: __proto__ shifted by 5.
    const lines = ["toString,__proto__,x", ...Array.from({ length: 300 }, (_, i) => `${i % 10},${i % 10},${i % 7}`)];
    const blob = await services.artifacts.putBlob(`${lines.join("\n")}\n`);
    await services.data.createVersion("admin", "default", "protos-ref", {
      kind: "file",
      entries: [{ path: "ref.csv", sha256: blob.sha256, size: blob.size }],
    });
    const base = Date.UTC(2026, 0, 1);
    const entries = Array.from({ length: 300 }, (_, i) =>
      requestOfEntry({
        id: newId(),
        project: "default",
        endpoint: "protos",
        model: "protos",
        version: 1,
        slot: "primary",
        requestId: newId(),
        at: base + i,
        latencyMs: 1,
        // As a request's JSON body arrives: own keys, `__proto__` among them.
        features: JSON.parse(`{"toString": ${i % 10}, "__proto__": ${(i % 10) + 50}, "x": ${i % 7}}`) as Record<
          string,
          unknown
        >,
        output: { value: 1 },
        error: null,
      }),
    );
    await services.serving.log.append(entries, []);
    const put = await t.api("PUT", "/api/v1/projects/default/monitors/protos", {
      endpoint: "protos",
      window: "1h",
      reference: "dataset://protos-ref@latest",
      checks: [{ data_drift: { drift_share: 0.3 } }],
    });
    expect(put.status).toBe(200);
    const run = await t.api<Json>("POST", "/api/v1/projects/default/monitors/protos/run", {
      window_end: base + 3_600_000,
    });
    // Before: the run's status was "error", "col.push is not a function" (the reference's and the
    // window's column maps found Object.prototype.toString as the column), and __proto__ was dropped.
    expect(run.status).toBe(200);
    expect(run.body.status, JSON.stringify(run.body)).toBe("failing");
    const drift = (run.body.checks as Json[]).find((c) => c.check === "data_drift")!;
    const columns = (drift.details.columns as Json[]).map((c) => [c.name, c.drift]);
    expect(columns).toEqual(
      expect.arrayContaining([
        ["__proto__", true],
        ["toString", false],
        ["x", false],
      ]),
    );
    expect(columns).toHaveLength(3);
  });
});
