/**
 * The scripts MLflow users run, with the real MLflow 2.12 client, against the real MLflow 2.12 server
 * and against Tandem (differential/run.py starts MLflow's server in the same Python process; each
 * scenario in differential/*.py runs once against each and reports what the script saw). Every answer
 * must be MLflow's, except the differences listed in KNOWN, each with its reason; where only MLflow's
 * wording differs, the error_code (what clients act on) must still be the same. Where the MLflow
 * source is absent (CI) this skips with the reason printed.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { mlflowPython, runMlflowClient } from "../helpers/mlflow.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import type { StoreKind } from "../helpers/stores.js";

const mlflow = mlflowPython();
if ("reason" in mlflow) console.warn(`[skip] MLflow scripts against MLflow and Tandem: ${mlflow.reason}`);

const DIR = join(import.meta.dirname, "differential");
type Seen = Record<string, unknown>;

/**
 * Where Tandem answers otherwise, and why. `code`: the same error_code, MLflow's message in other
 * words (Tandem's names the place); `differs`: a deliberate difference, or a gap not closed yet.
 */
type Known = Record<string, { code: string } | { differs: string }>;
const WORDING = { code: "the same error_code; Tandem's message names the place in its own words" };
const COLON = {
  code: "the same refusal; Tandem also takes ':' in keys (as MLflow does since 2.13), and its message says so",
};
const COLON_TAKEN = { differs: "Tandem takes ':' in keys, as MLflow does since 2.13" };
const PATH_KEY = {
  differs: "Tandem keeps keys in its database, never as file names: only '.' and '..' segments are refused",
};
const SQL_IN_MESSAGE = { code: "MLflow's message carries its SQL error after MLflow's sentence; Tandem's stops there" };

const KNOWN: Record<string, Known> = {
  runs: {
    "loss history": {
      differs: "history comes back by step, then time; MLflow's SQL store gives its primary key's order, none promised",
    },
    "metric key 'bad!key'": COLON,
    "param key 'bad!key'": COLON,
    "tag key 'bad!key'": COLON,
    "REST log-batch bad metric key": COLON,
    "metric key '/abs'": PATH_KEY,
    "param key '/abs'": PATH_KEY,
    "tag key '/abs'": PATH_KEY,
    "metric key 'ok:colon'": COLON_TAKEN,
    "param key 'ok:colon'": COLON_TAKEN,
    "tag key 'ok:colon'": COLON_TAKEN,
    "stored long tag lengths": {
      differs: "run tags keep 8000 characters (MLflow 2.13+'s limit) where 2.12 cuts at 5000; past it both cut",
    },
    "REST log-batch metric without value": WORDING,
    "REST log-batch metric without timestamp": {
      differs: "a metric without a timestamp is logged now, as log-metric does; MLflow's log-batch refuses it",
    },
  },
  autolog: {
    log_input: { differs: "not yet: a run's datasets come back by name, MLflow's in the order they were logged" },
    "dataset source": { differs: "the first dataset differs, as above" },
  },
  pyfunc: {
    "download uri ends": {
      differs: "a version downloads from the registry's own copy (_registry/<model>/<version>), which outlives its run",
    },
  },
  registry: {
    "archive_existing to Archived": {
      differs: "MLflow 2.12 answers 500 (its store fails on archive_existing_versions to Archived); Tandem moves it",
    },
    "version 1": { differs: "follows from the line above: Tandem archived version 1" },
    "create existing model": SQL_IN_MESSAGE,
    "rename onto existing": SQL_IN_MESSAGE,
    "version of unknown model": {
      differs:
        "registering a version makes its model, as Tandem's own API does; MLflow wants create_registered_model first",
    },
    "empty name": { code: "Tandem says what a model name may be" },
    "tag bad key": { differs: "not yet: registry tag keys are not held to MLflow's key rule" },
    "tag long value": { differs: "not yet: registry tag values are not held to MLflow's 5000 characters" },
    "search models bad filter": WORDING,
  },
  artifacts: {
    "download missing": {
      differs: "a missing artifact is a 404 at once; MLflow's server answers 500, which its client retries first",
    },
    "create same name": SQL_IN_MESSAGE,
    "rename onto existing": {
      differs: "Tandem answers RESOURCE_ALREADY_EXISTS; MLflow 2.12 answers BAD_REQUEST with its SQL error",
    },
  },
  edges: {
    metrics: { differs: "±Infinity stays infinite; MLflow's SQL store keeps ±1.797e308 in its place" },
    "twice history": {
      differs:
        "the same point (key, step, timestamp, value) logged twice is kept twice: points are appended without a key, for log-batch's speed; MLflow keeps one",
    },
    "search metrics.nan != 0": {
      differs: "NaN satisfies only != here (IEEE, as the tracking guide says); MLflow's SQL store compares NaN as 0",
    },
    "search metrics.nan = 0": { differs: "as the line above" },
  },
  search: {
    "filter params.model IN ('rf', 'xgb')": WORDING,
    "filter params.model NOT IN ('rf')": WORDING,
    "filter attributes.status IN ('FINISHED')": {
      differs: "Tandem takes IN on any attribute; MLflow 2.12 only on run_id",
    },
    "filter dataset.name = 'x'": { differs: "not yet: runs/search refuses dataset.* filters (MLflow 2.12 has them)" },
    "filter metrics.auc > 'x'": WORDING,
    "filter params.depth > 2": WORDING,
    "filter bogus.x = 1": WORDING,
    "order ['metrics.auc DESC', 'nonsense']": WORDING,
    "max_results 0": { differs: "Tandem refuses max_results 0 (MLflow answers no runs)" },
    "max_results 50001": WORDING,
    "bad page token": WORDING,
    "experiments bad filter": WORDING,
    "create experiment twice": SQL_IN_MESSAGE,
  },
};

const errorCode = (v: unknown) =>
  v && typeof v === "object" && "error_code" in v ? { error_code: (v as { error_code: unknown }).error_code } : v;
/** A raw REST answer ({status, body}) or a client exception, reduced to what clients act on. */
const codeOf = (v: unknown) =>
  v && typeof v === "object" && "status" in v && "body" in v
    ? { status: (v as { status: unknown }).status, body: errorCode((v as { body: unknown }).body) }
    : errorCode(v);

/** Each scenario: what it covers, and the stores it runs on (the tracking paths differ on Postgres). */
const SCENARIOS: Array<{ name: string; covers: string; stores: StoreKind[] }> = [
  {
    name: "runs",
    covers: "nested, resumed, metrics with steps and timestamps, log_batch limits, bad keys, long values",
    stores: ["sqlite", "postgres"],
  },
  {
    name: "autolog",
    covers: "sklearn.autolog and autolog around a fit, a fit without a run, log_input",
    stores: ["sqlite"],
  },
  {
    name: "pyfunc",
    covers: "a custom pyfunc with artifacts and code_paths, loaded by alias, stage, number, latest and run",
    stores: ["sqlite"],
  },
  {
    name: "registry",
    covers: "stages, tags, aliases, copy_model_version, rename, and the error codes scripts catch",
    stores: ["sqlite", "postgres"],
  },
  {
    name: "models",
    covers: "register_model, latest_versions, paging, get_model_info, sklearn.load_model by models:/ URIs",
    stores: ["sqlite"],
  },
  {
    name: "artifacts",
    covers: "log_text/dict/table/image/artifacts, listing, downloads, run and experiment lifecycle",
    stores: ["sqlite"],
  },
  {
    name: "evaluate",
    covers: "mlflow.evaluate's default evaluator: metrics, plots, the evaluation dataset",
    stores: ["sqlite"],
  },
  {
    name: "edges",
    covers: "async logging, descriptions, odd steps, NaN and infinities, unicode, resuming a finished run",
    stores: ["sqlite", "postgres"],
  },
  {
    name: "search",
    covers: "search_runs filters, order_by, paging; search_experiments; metric history",
    stores: ["sqlite", "postgres"],
  },
];

(("reason" in mlflow ? describe.skip : describe) as typeof describe)(
  "MLflow users' scripts: the real MLflow 2.12 server and Tandem answer alike",
  () => {
    let t: TestServer | undefined;
    afterEach(async () => {
      await t?.stop();
      t = undefined;
    });

    const seen = async (scenario: string, store: StoreKind): Promise<{ mlflow: Seen; tandem: Seen }> => {
      t = await startTestServer({ store });
      const r = await runMlflowClient(t.url, t.adminToken, [join(DIR, "run.py"), join(DIR, `${scenario}.py`), t.url]);
      expect([r.status, r.stderr.split("\n").slice(-8).join("\n")]).toEqual([0, expect.any(String)]);
      return JSON.parse(r.stdout.trim().split("\n").pop()!) as { mlflow: Seen; tandem: Seen };
    };

    const compare = (scenario: string, out: { mlflow: Seen; tandem: Seen }) => {
      expect(out.mlflow.crashed, "the script ran to its end against MLflow").toBeUndefined();
      expect(out.tandem.crashed, "the script ran to its end against Tandem").toBeUndefined();
      const known = KNOWN[scenario] ?? {};
      for (const key of Object.keys(known)) expect(Object.keys(out.mlflow), "a KNOWN key is still seen").toContain(key);
      for (const [key, answer] of Object.entries(out.mlflow)) {
        const why = known[key];
        if (why && "differs" in why) continue;
        if (why) expect([key, codeOf(out.tandem[key])]).toEqual([key, codeOf(answer)]);
        else expect([key, out.tandem[key]]).toEqual([key, answer]);
      }
      return out;
    };

    for (const { name, covers, stores } of SCENARIOS)
      for (const store of stores)
        it(`[${store}] ${name}: ${covers}`, async () => {
          const out = compare(name, await seen(name, store));
          // What the fixes were for, said once more where a KNOWN entry could hide it.
          if (name === "runs") expect(out.tandem["param 6001 chars"]).toBe("ok");
          if (name === "registry") expect(out.tandem["copy to new"]).toMatchObject({ name: "m-copy", version: "1" });
        }, 240_000);
  },
);
