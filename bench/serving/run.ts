/**
 * Serving throughput and latency: Tandem's endpoint (token auth, prediction log and metrics on)
 * against a bare node:http + onnxruntime-node server (bench/serving/baseline.ts), same ONNX model (a
 * 100-tree gradient-boosted classifier over 20 features, made in code), same load (autocannon, 32
 * connections), same run; requests of 1 row and of 64 rows; Tandem on SQLite and on PostgreSQL.
 * Where Debian's python3-sklearn and python3-flask are installed, a Flask + scikit-learn server with
 * a GradientBoostingClassifier of the same size is driven too (1 row).
 *
 *   npm run bench -- serving [--store sqlite|postgres|both] [--rows 1,64] [--seconds 10]
 *                            [--connections 32] [--rounds 3] [--pg-url postgres://…]
 *                            [--protocol v1|v2] [--tandem-b OTHER/bin/tandem.js]
 *
 * `--tandem-b` starts a second Tandem server from another build (e.g. a worktree of main, after its
 * `npm run build:dist`) on its own home, prepared by this tree (so the builds must share the store's
 * migrations), and drives it in the same rounds: `*_ab` lines compare the two builds' throughput and
 * CPU per request.
 *
 * `--protocol v2` sends Open Inference Protocol v2 requests (one FP32 tensor [N, 20]) to
 * `/v2/models/gbdt/infer`, and the bare server takes and answers the same tensors; its lines' names
 * end in `_v2`. The default is the JSON route `/v1/endpoints/gbdt/predict` (objects keyed by name).
 *
 * Each server runs in its own process and is driven alone, in turns, so they never share the two
 * cores with each other, only with the load generator, equally: before each measure the bench waits
 * until every server's CPU time stops moving (Tandem's log writer works on after its load), and each
 * round starts with another server. Figures are medians over the rounds; each round's CPU per
 * request (until the server is quiet again) is printed for every server. One line per store and measure; the goals are in their own `goal` field. After each
 * Tandem server stops, its prediction log is counted: it must hold every answered row.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gbdtClassifierOnnx, seededRandom } from "../../test/helpers/onnx-models.js";
import { prepareServingHome } from "../../test/helpers/serving-home.js";
import { emitterFor, numberFlag } from "../kit.js";
import { describeLoad, measure, median, medianOf, waitQuiet, warm, type LoadOptions, type Measured } from "./load.js";
import { databaseFor, type BenchDatabase, type Store } from "./stores.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const args = process.argv.slice(2);
const flag = (name: string, fallback: string) =>
  args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1]! : fallback;
const load: LoadOptions = { seconds: numberFlag("seconds", 10), connections: numberFlag("connections", 32) };
const ROUNDS = numberFlag("rounds", 3);
const STORE = flag("store", "both");
const ROW_SIZES = flag("rows", "1,64").split(",").map(Number);
const PROTOCOL = flag("protocol", "v1");
/** Where each server answers the protocol, and what the bench's lines are called. */
const TANDEM_PATH = PROTOCOL === "v2" ? "/v2/models/gbdt/infer" : "/v1/endpoints/gbdt/predict";
const BASE_PATH = PROTOCOL === "v2" ? "/v2/models/gbdt/infer" : "/predict";
const SUFFIX = PROTOCOL === "v2" ? "_v2" : "";
const PG_URL = flag("pg-url", "postgres://postgres@127.0.0.1:5432/postgres");
/** The Tandem build measured (this tree's dist/), and with --tandem-b another one measured beside it. */
const TANDEM_BIN = join(root, "bin", "tandem.js");
const TANDEM_B_BIN = args.includes("--tandem-b") ? resolve(flag("tandem-b", "")) : null;
const FEATURES = 20;
const TREES = 100;
/** Issue 18's goals, Tandem / bare throughput: 1-row requests ≥ 0.8, 64-row requests ≥ 0.7. */
const GOAL_VS_BARE = (rows: number) => (rows === 1 ? 0.8 : 0.7);
/** Issue 22's goal: on PostgreSQL at least 0.9× the SQLite figure. */
const GOAL_PG_VS_SQLITE = 0.9;
// e.g. BENCH_NODE_ARGS=--cpu-prof to profile the Tandem server process.
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);

const round3 = (n: number) => Math.round(n * 1000) / 1000;
const emit = emitterFor("serving");

if (!["sqlite", "postgres", "both"].includes(STORE)) {
  process.stderr.write(`--store: expected sqlite, postgres or both, got ${JSON.stringify(STORE)}\n`);
  process.exit(2);
}
if (!["v1", "v2"].includes(PROTOCOL)) {
  process.stderr.write(`--protocol: expected v1 or v2, got ${JSON.stringify(PROTOCOL)}\n`);
  process.exit(2);
}
if (ROW_SIZES.some((n) => !Number.isInteger(n) || n < 1)) {
  process.stderr.write(`--rows: expected row counts such as 1,64, got ${JSON.stringify(flag("rows", ""))}\n`);
  process.exit(2);
}

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

/** 256 request bodies of `rows` instances each: objects keyed by feature name (v1), or one FP32 tensor (v2). */
function bodiesOf(rows: number, protocol = PROTOCOL): string[] {
  const random = seededRandom(5 + rows);
  const values = () => Array.from({ length: FEATURES }, () => Math.round((random() * 2 - 1) * 1000) / 1000);
  return Array.from({ length: 256 }, () => {
    if (protocol === "v2") {
      const data = Array.from({ length: rows }, values).flat();
      return JSON.stringify({ inputs: [{ name: "features", shape: [rows, FEATURES], datatype: "FP32", data }] });
    }
    const instances = Array.from({ length: rows }, () => Object.fromEntries(values().map((v, i) => [`f${i}`, v])));
    return JSON.stringify({ instances });
  });
}

/**
 * Successful requests the server counted (its /metrics), once the count stops moving: autocannon
 * stops with requests in flight, and the server still answers (and logs) them.
 */
async function servedRequests(url: string): Promise<number> {
  const read = async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const m = /tandem_serving_requests_total\{[^}]*endpoint="gbdt"[^}]*outcome="ok"\} (\d+)/.exec(text);
    return m ? Number(m[1]) : 0;
  };
  let last = await read();
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await read();
    if (now === last) return now;
    last = now;
  }
}

interface Paired {
  baseline: Measured;
  tandem: Measured;
  ratios: number[];
  /** Each round's CPU ms per request, bare and Tandem (same rounds as `ratios`). */
  baselineCpu: Array<number | null>;
  tandemCpu: Array<number | null>;
  /** With --tandem-b: the other build, measured in the same rounds. */
  b?: { tandem: Measured; ratios: number[]; cpu: Array<number | null>; abRatios: number[] };
}

interface StoreResult {
  byRows: Map<number, Paired>;
  answeredRows: number;
  loggedRows: number;
  droppedRows: number;
  /** The same for the --tandem-b build's server. */
  b?: { answeredRows: number; loggedRows: number; droppedRows: number };
}

/** Rows the prediction log dropped past its bound (the store fell behind), from the server's metrics. */
async function droppedRows(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^tandem_prediction_log_dropped_total (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/** A Tandem server of one build (bin/tandem.js) on its own home and database. */
interface TandemServer {
  child: ChildProcess;
  url: string;
  headers: Record<string, string>;
  database: BenchDatabase;
  answeredRows: number;
}

async function startTandem(store: Store, home: string, bin: string, bytes: Uint8Array): Promise<TandemServer> {
  const database = await databaseFor(store, home, PG_URL);
  try {
    const token = await prepareServingHome(home, "gbdt", bytes, database.env);
    const server = await startProcess(process.execPath, [...nodeArgs, bin, "server", "--port", "0"], {
      TANDEM_HOME: home,
      TANDEM_URL: "",
      ...database.env,
    });
    return { ...server, headers: { authorization: `Bearer ${token}` }, database, answeredRows: 0 };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

/** Stops the server and counts its log (it flushes on stop). */
async function finishTandem(server: TandemServer): Promise<NonNullable<StoreResult["b"]>> {
  try {
    const dropped = await droppedRows(server.url).catch(() => -1);
    await stopProcess(server.child);
    return { answeredRows: server.answeredRows, loggedRows: await server.database.loggedRows(), droppedRows: dropped };
  } finally {
    await stopProcess(server.child);
    await server.database.drop();
  }
}

type Contender = "baseline" | "tandem" | "tandem_b";

async function measureStore(
  store: Store,
  work: string,
  bytes: Uint8Array,
  base: { child: ChildProcess; url: string },
): Promise<StoreResult> {
  const servers = new Map<Contender, TandemServer>();
  const byRows = new Map<number, Paired>();
  try {
    servers.set("tandem", await startTandem(store, join(work, `home-${store}`), TANDEM_BIN, bytes));
    if (TANDEM_B_BIN)
      servers.set("tandem_b", await startTandem(store, join(work, `home-${store}-b`), TANDEM_B_BIN, bytes));
    const contenders: Contender[] = ["baseline", ...servers.keys()];
    const pids = [base.child.pid, ...[...servers.values()].map((s) => s.child.pid)];
    const target = (c: Contender) => {
      const s = servers.get(c);
      return s
        ? { child: s.child, url: `${s.url}${TANDEM_PATH}`, headers: s.headers }
        : { child: base.child, url: `${base.url}${BASE_PATH}`, headers: {} };
    };
    for (const rows of ROW_SIZES) {
      const bodies = bodiesOf(rows);
      const servedBefore = new Map<Contender, number>();
      for (const [c, s] of servers) servedBefore.set(c, await servedRequests(s.url));
      for (const c of contenders) await warm(target(c).url, target(c).headers, bodies, load);
      // All servers stay up and are driven in turn, ROUNDS times: this machine's speed drifts by tens
      // of percent from minute to minute, and the median of rounds is what stays put. Each round
      // starts with another server (the order rotates), and each measure waits until every server is
      // quiet: a Tandem server's log writer works on after its load stops, and a round started then
      // would share the cores with it.
      const rounds: Array<Map<Contender, Measured>> = [];
      for (let r = 0; r < ROUNDS; r++) {
        const order = contenders.map((_, i) => contenders[(i + r) % contenders.length]!);
        const round = new Map<Contender, Measured>();
        for (const c of order) {
          await waitQuiet(pids);
          const t = target(c);
          round.set(c, await measure(t.child, t.url, t.headers, bodies, load));
        }
        rounds.push(round);
        process.stderr.write(
          `${store}, ${rows} row(s), round ${r + 1}/${ROUNDS} (${order.join(", ")}): ` +
            contenders.map((c) => `${c} ${describeLoad(round.get(c)!)}`).join("; ") +
            `, load ${loadavg()[0]!.toFixed(1)}\n`,
        );
      }
      for (const [c, s] of servers) s.answeredRows += ((await servedRequests(s.url)) - servedBefore.get(c)!) * rows;
      const of = (c: Contender) => rounds.map((r) => r.get(c)!);
      const paired: Paired = {
        baseline: medianOf(of("baseline")),
        tandem: medianOf(of("tandem")),
        ratios: rounds.map((r) => round3(r.get("tandem")!.rps / r.get("baseline")!.rps)),
        baselineCpu: of("baseline").map((m) => m.cpuMsPerRequest && round3(m.cpuMsPerRequest)),
        tandemCpu: of("tandem").map((m) => m.cpuMsPerRequest && round3(m.cpuMsPerRequest)),
      };
      if (servers.has("tandem_b")) {
        paired.b = {
          tandem: medianOf(of("tandem_b")),
          ratios: rounds.map((r) => round3(r.get("tandem_b")!.rps / r.get("baseline")!.rps)),
          cpu: of("tandem_b").map((m) => m.cpuMsPerRequest && round3(m.cpuMsPerRequest)),
          abRatios: rounds.map((r) => round3(r.get("tandem")!.rps / r.get("tandem_b")!.rps)),
        };
      }
      byRows.set(rows, paired);
    }
  } catch (error) {
    for (const s of servers.values()) await finishTandem(s).catch(() => undefined);
    throw error;
  }
  const a = await finishTandem(servers.get("tandem")!);
  const b = servers.has("tandem_b") ? await finishTandem(servers.get("tandem_b")!) : undefined;
  return { byRows, ...a, ...(b ? { b } : {}) };
}

function report(store: Store, result: StoreResult): void {
  for (const [rows, { baseline, tandem, ratios, baselineCpu, tandemCpu, b }] of result.byRows) {
    const size = `${rows}row${rows === 1 ? "" : "s"}_c${load.connections}`;
    const name = (measure: string) => `${measure}_${size}_${store}${SUFFIX}`;
    emit(name("throughput"), Math.round(tandem.rps), Math.round(baseline.rps), "requests/s", median(ratios), {
      goal: GOAL_VS_BARE(rows),
      store,
      rows,
      rounds: ratios,
      tandem_cpu_ms_rounds: tandemCpu,
      baseline_cpu_ms_rounds: baselineCpu,
      model: `gbdt ${TREES} trees, ${FEATURES} features`,
      tandem_errors: tandem.errors + tandem.non2xx,
      baseline_errors: baseline.errors + baseline.non2xx,
      // The log was on: every answered row (all sizes, warm-up included) is a row once the server stopped.
      answered_rows: result.answeredRows,
      logged_rows: result.loggedRows,
      // Past its bound the log drops rows rather than make requests wait; counted, never silent.
      dropped_rows: result.droppedRows,
      // How long the server kept its CPU busy after a round's load stopped (median; 300 ms is none).
      tandem_busy_after_ms: Math.round(tandem.tailMs),
      load_average: Number(loadavg()[0]!.toFixed(2)),
    });
    emit(name("p99_latency"), tandem.p99, baseline.p99, "ms", round3(tandem.p99 / Math.max(baseline.p99, 0.001)), {
      store,
      rows,
    });
    emit(name("p50_latency"), tandem.p50, baseline.p50, "ms", round3(tandem.p50 / Math.max(baseline.p50, 0.001)), {
      store,
      rows,
    });
    if (tandem.cpuMsPerRequest !== null && baseline.cpuMsPerRequest !== null) {
      // Throughput at saturation is 1 / CPU per request: this ratio holds even on a busy machine.
      emit(
        name("cpu_per_request"),
        round3(tandem.cpuMsPerRequest),
        round3(baseline.cpuMsPerRequest),
        "ms",
        round3(baseline.cpuMsPerRequest / tandem.cpuMsPerRequest),
        {
          store,
          rows,
          tandem_rounds: tandemCpu,
          baseline_rounds: baselineCpu,
          note: "ratio = baseline/tandem CPU per request (server process only, all threads, until it is quiet again)",
        },
      );
    }
    if (b && result.b) reportAb(name, rows, tandem, b, result.b);
  }
}

/** --tandem-b: this build (A) against the other (B), from the same rounds. */
function reportAb(
  name: (measure: string) => string,
  rows: number,
  tandem: Measured,
  b: NonNullable<Paired["b"]>,
  counts: NonNullable<StoreResult["b"]>,
): void {
  emit(name("throughput_ab"), Math.round(tandem.rps), Math.round(b.tandem.rps), "requests/s", median(b.abRatios), {
    rows,
    note: "tandem = this build, baseline = --tandem-b build, ratio = median of per-round A/B",
    rounds: b.abRatios,
    b_vs_bare_rounds: b.ratios,
    b_answered_rows: counts.answeredRows,
    b_logged_rows: counts.loggedRows,
    b_dropped_rows: counts.droppedRows,
  });
  if (tandem.cpuMsPerRequest !== null && b.tandem.cpuMsPerRequest !== null) {
    emit(
      name("cpu_per_request_ab"),
      round3(tandem.cpuMsPerRequest),
      round3(b.tandem.cpuMsPerRequest),
      "ms",
      round3(b.tandem.cpuMsPerRequest / tandem.cpuMsPerRequest),
      { rows, b_rounds: b.cpu, note: "ratio = B/A CPU per request: above 1, this build is cheaper" },
    );
  }
}

/** PostgreSQL against SQLite: each one's ratio to the bare server of its own rounds, so machine drift cancels. */
function reportPgVsSqlite(sqlite: StoreResult, postgres: StoreResult): void {
  for (const [rows, pgPaired] of postgres.byRows) {
    const sqlitePaired = sqlite.byRows.get(rows);
    if (!sqlitePaired) continue;
    const pgRatio = median(pgPaired.ratios);
    const sqliteRatio = median(sqlitePaired.ratios);
    emit(
      `throughput_${rows}row${rows === 1 ? "" : "s"}_c${load.connections}_postgres_vs_sqlite${SUFFIX}`,
      pgRatio,
      sqliteRatio,
      "ratio to bare",
      round3(pgRatio / sqliteRatio),
      {
        goal: GOAL_PG_VS_SQLITE,
        rows,
        postgres_rps: Math.round(pgPaired.tandem.rps),
        sqlite_rps: Math.round(sqlitePaired.tandem.rps),
      },
    );
  }
}

/** Debian's python3 (where apt put python3-sklearn and python3-flask), else whatever is on PATH. */
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

async function reportFlask(tandemOneRow: Measured): Promise<void> {
  if (spawnSync(PYTHON, ["-c", "import sklearn, flask"], { stdio: "ignore" }).status !== 0) {
    process.stderr.write("python3-sklearn / python3-flask not installed: skipping the Flask + scikit-learn baseline\n");
    return;
  }
  const flask = await startProcess(PYTHON, [join(here, "flask_sklearn.py"), String(FEATURES), String(TREES)]);
  const bodies = bodiesOf(1, "v1");
  await warm(`${flask.url}/predict`, {}, bodies, load);
  const py = await measure(flask.child, `${flask.url}/predict`, {}, bodies, load);
  await stopProcess(flask.child);
  emit(
    "throughput_vs_flask_sklearn",
    Math.round(tandemOneRow.rps),
    Math.round(py.rps),
    "requests/s",
    round3(tandemOneRow.rps / py.rps),
    {
      rows: 1,
      baseline_p99_ms: py.p99,
      tandem_p99_ms: tandemOneRow.p99,
      baseline_cpu_ms_per_request: py.cpuMsPerRequest,
    },
  );
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "tandem-bench-serving-"));
  try {
    const { bytes } = gbdtClassifierOnnx({ features: FEATURES, trees: TREES, depth: 4, seed: 11 });
    const modelPath = join(work, "model.onnx");
    writeFileSync(modelPath, bytes);
    const base = await startProcess(process.execPath, [
      "--import",
      "tsx",
      join(here, "baseline.ts"),
      modelPath,
      String(FEATURES),
    ]);
    const results = new Map<Store, StoreResult>();
    try {
      const stores: Store[] = STORE === "both" ? ["sqlite", "postgres"] : [STORE as Store];
      for (const store of stores) {
        const result = await measureStore(store, work, bytes, base);
        results.set(store, result);
        report(store, result);
      }
    } finally {
      await stopProcess(base.child);
    }
    const sqlite = results.get("sqlite");
    const postgres = results.get("postgres");
    if (sqlite && postgres) reportPgVsSqlite(sqlite, postgres);
    const oneRow = (sqlite ?? postgres)?.byRows.get(1);
    // Flask takes JSON instances only: compared on the v1 route.
    if (oneRow && PROTOCOL === "v1") await reportFlask(oneRow.tandem);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
