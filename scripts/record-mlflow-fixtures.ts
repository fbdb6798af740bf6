/**
 * Re-records test/fixtures/mlflow/*.json FROM THE REAL MLflow 2.12 SERVER: runs `mlflow server`
 * (SQLite backend, --serve-artifacts) from the source tree test/helpers/mlflow.ts finds, puts a
 * recording proxy in front of it, runs each script in test/fixtures/mlflow/scripts/ with the real
 * MLflow Python client against the proxy, and writes every exchange with its answer normalised (ids
 * → <id>, times → <time>; `ids` keeps the raw ids so a replay can map them). The replay test
 * (test/tracking/mlflow-fixtures.test.ts) then sends the same requests to Tandem and compares its
 * answers with MLflow's.
 *
 *   npx tsx scripts/record-mlflow-fixtures.ts            # all scripts, in order (they build on each other)
 *
 * Needs the MLflow source tree (TANDEM_MLFLOW_SOURCE, /tmp/mlflow-src, or the bare mirror) and Debian's
 * python3-flask, -sqlalchemy, -alembic, gunicorn, -sklearn, -cloudpickle, -pandas. Nothing of MLflow is
 * written into the repository: only the HTTP exchanges.
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixtureModelFiles, MLFLOW_COMMIT, mlflowPython } from "../test/helpers/mlflow.js";
import { idsInOrder, normalize, type Exchange, type Recording } from "../test/tracking/mlflow-replay.js";

const FIXTURES = join(import.meta.dirname, "..", "test", "fixtures", "mlflow");
/** Each script works on what the ones before it made, so the order matters. */
export const SCRIPTS: Record<string, string> = {
  train: "train.py: experiment, run, params, metrics, tags, text and dict artifacts, a nested run",
  client:
    "client.py: MlflowClient search_runs with filter/order_by/paging, get_metric_history, list/download artifacts, log_batch, set_terminated, delete/restore run, delete_tag, experiments search/create/rename/tag/delete/restore, error codes",
  registry:
    "registry.py: register ONNX files and a directory, aliases, tags, search, download through models:/…@alias, deprecated stages, rename, delete",
  models:
    "models.py: mlflow.sklearn.log_model with signature and input example, log_input of a pandas dataset, register_model, alias, pyfunc.load_model('models:/…@alias').predict, a plain file registered, get-history-bulk-interval",
};

const python = mlflowPython();
if ("reason" in python) {
  console.error(`cannot record: ${python.reason}`);
  process.exit(1);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = http.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, child: ChildProcess, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mlflow server exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not answer within ${seconds} s`);
}

function runScript(
  command: string,
  args: string[],
  options: SpawnOptions,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

function parseBody(buf: Buffer, contentType: string | undefined): unknown {
  if (!buf.length) return null;
  if (contentType?.includes("json")) {
    try {
      return JSON.parse(buf.toString("utf8"));
    } catch {
      // MLflow's server answers some errors as HTML; kept as bytes below.
    }
  }
  return { base64: buf.toString("base64") };
}

/** A proxy that forwards to `target` and appends every exchange to `log`. */
function recordingProxy(target: number, log: Array<Exchange & { raw: unknown }>): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const headers = { ...req.headers, host: `127.0.0.1:${target}` };
      const upstream = http.request(
        { host: "127.0.0.1", port: target, method: req.method, path: req.url, headers },
        (answer) => {
          const out: Buffer[] = [];
          answer.on("data", (c: Buffer) => out.push(c));
          answer.on("end", () => {
            const bytes = Buffer.concat(out);
            const raw = parseBody(bytes, answer.headers["content-type"]);
            log.push({
              method: req.method!,
              url: req.url!,
              content_type: req.headers["content-type"] ?? null,
              request: parseBody(body, req.headers["content-type"] ?? "application/json"),
              status: answer.statusCode!,
              response: normalize(raw),
              raw,
            });
            res.writeHead(answer.statusCode!, answer.headers);
            res.end(bytes);
          });
        },
      );
      upstream.end(body);
    });
  });
}

async function main(): Promise<void> {
  if ("reason" in python) return;
  const only = process.argv.slice(2);
  const work = mkdtempSync(join(tmpdir(), "mlflow-record-"));
  const env = { ...process.env, ...python.env };
  const port = await freePort();
  const server = spawn(
    python.python,
    [
      "-m",
      "mlflow",
      "server",
      "--backend-store-uri",
      `sqlite:///${join(work, "mlflow.db")}`,
      "--artifacts-destination",
      join(work, "artifacts"),
      "--serve-artifacts",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--workers",
      "1",
    ],
    { env, stdio: ["ignore", "ignore", "pipe"], detached: true },
  );
  let serverLog = "";
  server.stderr!.on("data", (c: Buffer) => (serverLog += c.toString()));
  const proxyLog: Array<Exchange & { raw: unknown }> = [];
  const proxy = recordingProxy(port, proxyLog);
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  try {
    await waitFor(`http://127.0.0.1:${port}/health`, server, 120);
    const files = fixtureModelFiles(work);
    for (const name of Object.keys(SCRIPTS)) {
      const start = proxyLog.length;
      // Not spawnSync: the proxy answering the script lives on this event loop.
      const run = await runScript(python.python, [join(FIXTURES, "scripts", `${name}.py`)], {
        env: {
          ...env,
          MLFLOW_TRACKING_URI: proxyUrl,
          ...files,
        },
        cwd: work,
      });
      if (run.status !== 0) throw new Error(`${name}.py failed:\n${run.stdout}\n${run.stderr}`);
      if (only.length && !only.includes(name)) continue;
      const recording: Recording = {
        recorded_with: `the real MLflow 2.12 server and Python client (github.com/opendatahub-io/mlflow at ${MLFLOW_COMMIT}; mlflow server --backend-store-uri sqlite --serve-artifacts) through a recording proxy`,
        script: SCRIPTS[name]!,
        exchanges: proxyLog.slice(start).map(({ raw, ...ex }) => {
          const ids = idsInOrder(raw);
          return ids.length ? { ids, ...ex } : ex;
        }),
      };
      writeFileSync(join(FIXTURES, `${name}.json`), `${JSON.stringify(recording, null, 1)}\n`);
      console.log(`wrote test/fixtures/mlflow/${name}.json (${recording.exchanges.length} exchanges)`);
    }
  } catch (error) {
    console.error(serverLog.split("\n").slice(-20).join("\n"));
    throw error;
  } finally {
    proxy.close();
    // gunicorn's workers are its children: stop the whole group the server leads.
    if (server.pid) process.kill(-server.pid, "SIGTERM");
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
