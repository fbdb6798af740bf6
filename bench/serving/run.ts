/**
 * Serving throughput and p99: Tandem's endpoint (auth, prediction log and metrics on) against a bare
 * node:http + onnxruntime-node server (bench/serving/baseline.ts), same ONNX model (a 100-tree
 * gradient-boosted classifier over 20 features, made in code), same load (autocannon, 32
 * connections, one-row JSON requests), same run. Where Debian's python3-sklearn and python3-flask
 * are installed, a Flask + scikit-learn server with a GradientBoostingClassifier of the same size
 * is driven too.
 *
 *   npm run bench -- serving [--seconds 10] [--connections 32] [--rounds 3]
 *
 * Each server runs in its own process and is driven alone, in turns, so they never share the two
 * cores with each other — only with the load generator, equally. Figures are medians over the rounds.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import BetterSqlite3 from "better-sqlite3";
import { gbdtClassifierOnnx, seededRandom } from "../../test/helpers/onnx-models.js";
import { prepareServingHome } from "../../test/helpers/serving-home.js";
import { emitterFor, numberFlag } from "../kit.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const SECONDS = numberFlag("seconds", 10);
const CONNECTIONS = numberFlag("connections", 32);
const FEATURES = 20;
// e.g. BENCH_NODE_ARGS=--cpu-prof to profile the Tandem server process.
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
const TREES = 100;
const ROUNDS = numberFlag("rounds", 3);

const round3 = (n: number) => Math.round(n * 1000) / 1000;

const emit = emitterFor("serving");

function startProcess(
  command: string,
  argv: string[],
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(command, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`${command} did not start: ${err.slice(-500)}`)), 60_000);
    child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out) ?? /Running on (http:\/\/\S+)/.exec(out + err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    });
    child.on("exit", (code) => reject(new Error(`${command} exited with ${code}: ${err.slice(-500)}`)));
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
}

interface Load {
  rps: number;
  p99: number;
  p50: number;
  errors: number;
  non2xx: number;
}

async function drive(url: string, headers: Record<string, string>, bodies: string[]): Promise<Load> {
  // autocannon's default timeout (10 s) is plenty; bodies rotate so no two consecutive requests repeat.
  let i = 0;
  const result = await autocannon({
    url,
    method: "POST",
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { "content-type": "application/json", ...headers },
    requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: bodies[i++ % bodies.length] }) }],
  });
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    p50: result.latency.p50,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

async function warm(url: string, headers: Record<string, string>, bodies: string[]): Promise<void> {
  await autocannon({
    url,
    method: "POST",
    connections: CONNECTIONS,
    duration: 2,
    headers: { "content-type": "application/json", ...headers },
    body: bodies[0],
  });
}

/** Debian's python3 (where apt put python3-sklearn and python3-flask), else whatever is on PATH. */
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

function flaskAvailable(): boolean {
  return spawnSync(PYTHON, ["-c", "import sklearn, flask"], { stdio: "ignore" }).status === 0;
}

/** CPU seconds (user + system, all threads) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

type Measured = Load & { cpuMsPerRequest: number | null };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Each figure's median over the rounds (CPU per request null if any round could not read it). */
function medianOf(rounds: Measured[]): Measured {
  const cpu = rounds.map((r) => r.cpuMsPerRequest);
  return {
    rps: median(rounds.map((r) => r.rps)),
    p99: median(rounds.map((r) => r.p99)),
    p50: median(rounds.map((r) => r.p50)),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    non2xx: rounds.reduce((n, r) => n + r.non2xx, 0),
    cpuMsPerRequest: cpu.every((c) => c !== null) ? median(cpu as number[]) : null,
  };
}

function describeLoad(m: Measured): string {
  const cpu = m.cpuMsPerRequest === null ? "" : ` (${m.cpuMsPerRequest.toFixed(3)} ms CPU each)`;
  return `${Math.round(m.rps)} req/s${cpu}`;
}

/** Drives a server and also measures its CPU per request: robust when other work shares the machine. */
async function measure(
  child: ChildProcess,
  url: string,
  headers: Record<string, string>,
  bodies: string[],
): Promise<Measured> {
  const before = cpuSeconds(child.pid);
  const load = await drive(url, headers, bodies);
  const after = cpuSeconds(child.pid);
  const total = load.rps * SECONDS;
  return {
    ...load,
    cpuMsPerRequest: before !== null && after !== null && total > 0 ? ((after - before) * 1000) / total : null,
  };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "tandem-bench-serving-"));
  try {
    const { bytes } = gbdtClassifierOnnx({ features: FEATURES, trees: TREES, depth: 4, seed: 11 });
    const modelPath = join(work, "model.onnx");
    writeFileSync(modelPath, bytes);
    const random = seededRandom(5);
    const bodies = Array.from({ length: 256 }, () =>
      JSON.stringify({
        instances: [
          Object.fromEntries(
            Array.from({ length: FEATURES }, (_, i) => [`f${i}`, Math.round((random() * 2 - 1) * 1000) / 1000]),
          ),
        ],
      }),
    );

    const base = await startProcess(process.execPath, [
      "--import",
      "tsx",
      join(here, "baseline.ts"),
      modelPath,
      String(FEATURES),
    ]);
    const home = join(work, "home");
    const token = await prepareServingHome(home, "gbdt", bytes);
    const tandemServer = await startProcess(
      process.execPath,
      [...nodeArgs, join(root, "bin", "tandem.js"), "server", "--port", "0"],
      { TANDEM_HOME: home, TANDEM_URL: "" },
    );
    const headers = { authorization: `Bearer ${token}` };
    const url = `${tandemServer.url}/v1/endpoints/gbdt/predict`;
    await warm(`${base.url}/predict`, {}, bodies);
    await warm(url, headers, bodies);
    // Both servers stay up (an idle one costs nothing) and are driven in turn, ROUNDS times: this
    // machine's speed drifts by tens of percent from minute to minute, and the median of paired
    // rounds is what stays put.
    const rounds: Array<{ baseline: Measured; tandem: Measured }> = [];
    for (let r = 0; r < ROUNDS; r++) {
      const baselineRound = await measure(base.child, `${base.url}/predict`, {}, bodies);
      const tandemRound = await measure(tandemServer.child, url, headers, bodies);
      rounds.push({ baseline: baselineRound, tandem: tandemRound });
      process.stderr.write(
        `round ${r + 1}/${ROUNDS}: baseline ${describeLoad(baselineRound)}, tandem ${describeLoad(tandemRound)}\n`,
      );
    }
    const metrics = await (await fetch(`${tandemServer.url}/metrics`)).text();
    await stopProcess(tandemServer.child);
    await stopProcess(base.child);
    const served = /tandem_serving_requests_total\{[^}]*endpoint="gbdt"[^}]*outcome="ok"\} (\d+)/.exec(metrics)?.[1];
    // The log was really on: every answer is a row once the server has stopped (it flushes on stop).
    const logDb = new BetterSqlite3(join(home, "tandem.db"), { readonly: true });
    const loggedRows = (logDb.prepare("select count(*) as n from predictions").get() as { n: number }).n;
    logDb.close();
    const baseline = medianOf(rounds.map((r) => r.baseline));
    const tandem = medianOf(rounds.map((r) => r.tandem));
    const ratios = rounds.map((r) => round3(r.tandem.rps / r.baseline.rps));

    emit("throughput_1row_c32", Math.round(tandem.rps), Math.round(baseline.rps), "requests/s", median(ratios), {
      goal: ">= 0.7",
      rounds: ratios,
      model: `gbdt ${TREES} trees, ${FEATURES} features`,
      tandem_errors: tandem.errors + tandem.non2xx,
      baseline_errors: baseline.errors + baseline.non2xx,
      tandem_served_per_metrics: served ? Number(served) : null,
      tandem_logged_rows: loggedRows,
    });
    emit(
      "p99_latency_1row_c32",
      tandem.p99,
      baseline.p99,
      "ms",
      Number((tandem.p99 / Math.max(baseline.p99, 0.001)).toFixed(3)),
    );
    if (tandem.cpuMsPerRequest !== null && baseline.cpuMsPerRequest !== null) {
      // Throughput at saturation is 1 / CPU per request: this ratio holds even on a busy machine.
      emit(
        "cpu_per_request",
        round3(tandem.cpuMsPerRequest),
        round3(baseline.cpuMsPerRequest),
        "ms",
        round3(baseline.cpuMsPerRequest / tandem.cpuMsPerRequest),
        {
          note: "ratio = baseline/tandem CPU per request, i.e. Tandem's efficiency relative to the bare server",
        },
      );
    }
    emit(
      "p50_latency_1row_c32",
      tandem.p50,
      baseline.p50,
      "ms",
      Number((tandem.p50 / Math.max(baseline.p50, 0.001)).toFixed(3)),
    );

    if (flaskAvailable()) {
      const flask = await startProcess(PYTHON, [join(here, "flask_sklearn.py"), String(FEATURES), String(TREES)]);
      await warm(`${flask.url}/predict`, {}, bodies);
      const py = await measure(flask.child, `${flask.url}/predict`, {}, bodies);
      await stopProcess(flask.child);
      emit(
        "throughput_vs_flask_sklearn",
        Math.round(tandem.rps),
        Math.round(py.rps),
        "requests/s",
        Number((tandem.rps / py.rps).toFixed(3)),
        {
          baseline_p99_ms: py.p99,
          tandem_p99_ms: tandem.p99,
          baseline_cpu_ms_per_request: py.cpuMsPerRequest,
        },
      );
    } else {
      process.stderr.write(
        "python3-sklearn / python3-flask not installed: skipping the Flask + scikit-learn baseline\n",
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
