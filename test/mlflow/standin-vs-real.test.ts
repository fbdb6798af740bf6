/**
 * The stand-in scoring server (standin_scoring_server.py, which runs the non-ONNX serving tests in
 * every CI run) checked against the real one: where the MLflow 2.12 source tree is present, both
 * serve the same sklearn models and answer the same /invocations requests (each of MLflow's input
 * formats, columns out of order, and bad input); statuses, error codes and predictions must agree.
 * Elsewhere (CI) this skips with the reason printed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mlflowPython, SYSTEM_PYTHON } from "../helpers/mlflow.js";
import { makeSklearnModel, STANDIN, type SklearnModel } from "./helpers.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const mlflow = mlflowPython();
if ("reason" in mlflow) console.warn(`[skip] stand-in vs real scoring server: ${mlflow.reason}`);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

interface Scorer {
  url: string;
  child: ChildProcess;
}

async function startScorer(args: string[], env: Record<string, string>): Promise<Scorer> {
  const port = await freePort();
  // Its own process group: MLflow's gunicorn workers are stopped with it.
  const child = spawn(SYSTEM_PYTHON, [...args, "-p", String(port)], {
    env: { ...process.env, ...env },
    stdio: "ignore",
    detached: true,
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${args.join(" ")} exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/ping`)).ok) return { url, child };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${args.join(" ")} did not answer /ping`);
}

/**
 * Numbers rounded to 12 significant digits: MLflow feeds sklearn a DataFrame, the stand-in a NumPy
 * array, and a regressor's sums then differ in the last bit (-0.6380799999999986 vs …995).
 */
const rounded = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(rounded) : typeof v === "number" ? Number(v.toPrecision(12)) : v;

async function invoke(s: Scorer, body: string) {
  const res = await fetch(`${s.url}/invocations`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  const json = (await res.json()) as Json;
  return { status: res.status, error_code: json.error_code as unknown, predictions: rounded(json.predictions) };
}

/** Requests in each of MLflow's input formats, and bad ones, for a model with these features. */
function requests(m: SklearnModel): Record<string, string> {
  const [a, b, c] = m.features as [string, string, string];
  const records = m.rows.map((r) => Object.fromEntries(m.features.map((f, i) => [f, r[i]])));
  return {
    dataframe_split: JSON.stringify({ dataframe_split: { columns: m.features, data: m.rows } }),
    "dataframe_split, columns out of order": JSON.stringify({
      dataframe_split: { columns: [c, a, b], data: m.rows.map((r) => [r[2], r[0], r[1]]) },
    }),
    dataframe_records: JSON.stringify({ dataframe_records: records }),
    instances: JSON.stringify({ instances: records }),
    "inputs as columns": JSON.stringify({
      inputs: Object.fromEntries(m.features.map((f, i) => [f, m.rows.map((r) => r[i])])),
    }),
    "a missing column": JSON.stringify({ dataframe_split: { columns: [a, b], data: m.rows.map((r) => [r[0], r[1]]) } }),
    "two formats at once": JSON.stringify({ dataframe_records: records, instances: records }),
    "no format": JSON.stringify({ rows: m.rows }),
    "not JSON": "{not json",
  };
}

describe.skipIf("reason" in mlflow)("the stand-in scoring server answers as `mlflow models serve` does", () => {
  let dir: string;
  const scorers: Scorer[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "mlflow-standin-"));
  });
  afterAll(() => {
    for (const s of scorers) if (s.child.pid) process.kill(-s.child.pid, "SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });

  for (const kind of ["classifier", "regressor"] as const) {
    it(`for an sklearn ${kind}`, async () => {
      if ("reason" in mlflow) return;
      const model = makeSklearnModel(join(dir, kind), kind === "regressor" ? ["--regressor"] : []);
      const modelDir = join(dir, kind);
      const real = await startScorer(
        ["-m", "mlflow", "models", "serve", "-m", modelDir, "--env-manager", "local", "-h", "127.0.0.1"],
        mlflow.env,
      );
      scorers.push(real);
      const standin = await startScorer([STANDIN, "-m", modelDir], {});
      scorers.push(standin);
      for (const [what, body] of Object.entries(requests(model))) {
        const [fromReal, fromStandin] = [await invoke(real, body), await invoke(standin, body)];
        expect({ what, ...fromStandin }).toEqual({ what, ...fromReal });
      }
      const first = await invoke(real, requests(model).dataframe_split!);
      expect(first.predictions).toEqual(rounded(model.predictions));
    }, 400_000);
  }
});
