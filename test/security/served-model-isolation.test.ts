/**
 * A model served as code runs what its uploader wrote: a member registers a directory whose
 * MODEL.json command is their own program (or an MLflow python_function model whose loader_module
 * is their own Python, run by the real `mlflow models serve`), deploys it and calls it. Tried on a real `tandem server`
 * (SQLite and Postgres): the program answers each prediction with what it could reach of the
 * server, namely its home (admin.token, secret.key, the SQLite file, every project's artifacts),
 * its environment (the database URL, its S3 keys), the environment of the server's process through
 * /proc, and its own materialised directory, which every endpoint serving the same files shares.
 * Without the sandbox (TANDEM_STEP_SANDBOX=none) the same model reads them, which shows the probe
 * can tell.
 */
import { afterAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { probeSandbox } from "../../src/executors/local/sandbox.js";
import { mlflowPython } from "../helpers/mlflow.js";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { memberToken, spawnServer, type SpawnedServer } from "./spawned-server.js";

const sandbox = probeSandbox();
const describeIsolated = sandbox.isolated ? describe : describe.skip;

/** Marks the server's own credentials in its environment: found anywhere the model looks, it leaked. */
const SERVER_SECRET = "server-s3-secret-7f3a";

interface Report {
  read: string[];
  env: Record<string, string>;
  environOf: string[];
  wroteOwnFiles: boolean;
}

/** The model's program: serves /health and /predict, answering every instance with its report. */
function probeProgram(home: string, databaseFile: string | null): string {
  const targets = [join(home, "admin.token"), join(home, "secret.key"), ...(databaseFile ? [databaseFile] : [])];
  return `
import { createServer } from "node:http";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
const targets = ${JSON.stringify(targets)};
const artifacts = ${JSON.stringify(join(home, "artifacts"))};
function report() {
  const read = targets.filter((f) => { try { readFileSync(f); return true; } catch { return false; } });
  try { if (readdirSync(artifacts).length > 0) read.push("artifacts"); } catch {}
  const environOf = [];
  for (const pid of readdirSync("/proc").filter((p) => /^[0-9]+$/.test(p))) {
    try { if (readFileSync("/proc/" + pid + "/environ", "latin1").includes(${JSON.stringify(SERVER_SECRET)})) environOf.push(pid); } catch {}
  }
  let wroteOwnFiles = false;
  try { writeFileSync("planted.txt", "x"); wroteOwnFiles = true; } catch {}
  return { read, env: { ...process.env }, environOf, wroteOwnFiles };
}
createServer((req, res) => {
  if (req.url === "/health") return res.end("ok");
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    const { instances } = JSON.parse(body);
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ predictions: instances.map(() => report()) }));
  });
}).listen(Number(process.env.PORT), "127.0.0.1");
`;
}

async function upload(t: SpawnedServer, token: string, project: string, text: string) {
  const res = await fetch(`${t.url}/api/v1/projects/${project}/model-blobs`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
    body: Buffer.from(text),
  });
  if (res.status >= 300) throw new Error(`upload: ${res.status} ${await res.text()}`);
  return (await res.json()) as { sha256: string; size: number };
}

/** The same probe as an MLflow pyfunc model: its loader_module runs in MLflow's scoring server. */
function pyfuncProbe(home: string): Record<string, string> {
  const targets = [join(home, "admin.token"), join(home, "secret.key"), join(home, "tandem.db")];
  const loader = `
import json, os
TARGETS = ${JSON.stringify(targets)}
def readable(path):
    try:
        open(path, "rb").read(1)
        return True
    except OSError:
        return False
def report():
    read = [f for f in TARGETS if readable(f)]
    try:
        if os.listdir(${JSON.stringify(join(home, "artifacts"))}):
            read.append("artifacts")
    except OSError:
        pass
    environ_of = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if ${JSON.stringify(SERVER_SECRET)}.encode() in open("/proc/%s/environ" % pid, "rb").read():
                environ_of.append(pid)
        except OSError:
            pass
    try:
        open("planted.txt", "w").write("x")
        wrote = True
    except OSError:
        wrote = False
    return {"read": read, "env": dict(os.environ), "environOf": environ_of, "wroteOwnFiles": wrote}
class Peek:
    def predict(self, data, params=None):
        return [json.dumps(report())] * len(data)
def _load_pyfunc(path):
    return Peek()
`;
  return {
    MLmodel:
      "flavors:\n  python_function:\n    loader_module: peek_loader\n    code: code\n    python_version: 3.11.7\nmlflow_version: 2.12.1\n",
    "code/peek_loader.py": loader,
  };
}

/** As a member of `project`: registers the probe's files as a model, deploys it, asks it once. */
async function deployAndAsk(
  t: SpawnedServer,
  files: Record<string, string>,
): Promise<{ status: number; report: Report }> {
  const project = "shop";
  const token = await memberToken(t, project, "mallory");
  const entries = [];
  for (const [path, text] of Object.entries(files)) entries.push({ path, ...(await upload(t, token, project, text)) });
  const made = await t.api(
    "POST",
    `/api/v1/projects/${project}/models/peek/versions`,
    { artifact: { kind: "tree", entries } },
    token,
  );
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  const deployed = await t.api("PUT", `/api/v1/projects/${project}/endpoints/peek`, { model: "peek@1" }, token);
  expect(deployed.status, JSON.stringify(deployed.body)).toBe(200);
  const until = Date.now() + 240_000;
  for (;;) {
    const res = await fetch(`${t.url}/v1/endpoints/peek/predict`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "x-tandem-project": project },
      body: JSON.stringify({ instances: [{ x: 1 }] }),
    });
    const body = (await res.json()) as { predictions?: Array<Report | { label: string }> };
    if (res.status === 200 || Date.now() > until) {
      const first = body.predictions?.[0];
      // MLflow's answer is a string per row (the report as JSON), which Tandem gives as a label.
      const report = first && "label" in first ? (JSON.parse(first.label) as Report) : first;
      return { status: res.status, report: report ?? (body as unknown as Report) };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A command model's files: MODEL.json naming node and the probe program. */
function commandProbe(t: SpawnedServer): Record<string, string> {
  return {
    "MODEL.json": JSON.stringify({ command: [process.execPath, "server.mjs"] }),
    "server.mjs": probeProgram(t.home, t.databaseUrl ? null : join(t.home, "tandem.db")),
  };
}

/** What the model must not have reached: the server's files, processes, settings and credentials. */
function expectNothingReached(t: SpawnedServer, status: number, report: Report): void {
  expect(status, JSON.stringify(report)).toBe(200);
  expect(report.read).toEqual([]);
  expect(report.environOf).toEqual([]);
  // Its own directory (PWD, MLflow's __pyfunc_model_path__) sits in the home; nothing else of the
  // home's paths is its business.
  const ownFiles = join(t.home, "serving", "models");
  const leaked = Object.entries(report.env).filter(
    ([k, v]) =>
      v.includes(SERVER_SECRET) ||
      (v.includes(t.home) && !v.replace(/^file:\/\//, "").startsWith(ownFiles)) ||
      (t.databaseUrl && v.includes(t.databaseUrl)) ||
      (k.startsWith("TANDEM_") && !["TANDEM_MODEL", "TANDEM_MODEL_DIR", "TANDEM_PYTHON"].includes(k)),
  );
  expect(leaked).toEqual([]);
  expect(report.env.TANDEM_MODEL).toBe("peek@1");
  expect(report.wroteOwnFiles).toBe(false);
}

const mlflow = mlflowPython();

describeIsolated("a model served as code cannot reach the server's files or credentials", () => {
  const servers: SpawnedServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  for (const store of STORE_KINDS) {
    const run = store === "postgres" && !postgresAvailable() ? it.skip : it;
    run(`a member's MODEL.json command reads nothing of the server's [${store}]`, async () => {
      const t = await spawnServer(store, { AWS_SECRET_ACCESS_KEY: SERVER_SECRET });
      servers.push(t);
      const { status, report } = await deployAndAsk(t, commandProbe(t));
      expectNothingReached(t, status, report);
    });
  }

  it.skipIf("reason" in mlflow)(
    "a member's MLflow pyfunc loader_module, run by the real `mlflow models serve`, reads nothing of the server's",
    async () => {
      if ("reason" in mlflow) return;
      const t = await spawnServer("sqlite", {
        AWS_SECRET_ACCESS_KEY: SERVER_SECRET,
        TANDEM_PYTHON: mlflow.python,
        PYTHONPATH: mlflow.env.PYTHONPATH!,
        TANDEM_MLFLOW_STARTUP_TIMEOUT_S: "240",
      });
      servers.push(t);
      const { status, report } = await deployAndAsk(t, pyfuncProbe(t.home));
      expectNothingReached(t, status, report);
    },
    300_000,
  );

  it("reads them without the sandbox (the probe can tell)", async () => {
    const t = await spawnServer("sqlite", { AWS_SECRET_ACCESS_KEY: SERVER_SECRET, TANDEM_STEP_SANDBOX: "none" });
    servers.push(t);
    const { status, report } = await deployAndAsk(t, commandProbe(t));
    expect(status, JSON.stringify(report)).toBe(200);
    expect(report.read).toContain(join(t.home, "admin.token"));
    expect(report.read).toContain("artifacts");
    expect(report.environOf).toContain(String(t.pid));
    expect(report.wroteOwnFiles).toBe(true);
  });
});
