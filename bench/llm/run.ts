/**
 * LLM benchmarks (issue 19):
 * - Endpoint overhead: an LLM endpoint (`tandem server`, auth, prompt rendering, prediction log and
 *   span on) in front of a zero-latency OpenAI-compatible STAND-IN (examples/llm/standin/server.mjs),
 *   against calling the stand-in directly; autocannon at 32 connections. Reported: p50 added (ms)
 *   and throughput ratio (the target: ≤ 1 ms added, ≥ 0.7×). The same calls also go through
 *   bare-proxy.mjs, the least a Node gateway must do: it shows that no gateway reaches 0.7× of a
 *   zero-latency upstream on two shared cores, and Tandem is measured against that floor too
 *   (restated goal: ≥ 0.8× of the bare proxy's throughput), in throughput and in CPU per call.
 * - OTLP ingest: protobuf bodies of 512 spans made by the real OpenTelemetry SDK and exporter,
 *   posted to `POST /v1/traces` (4 at a time), in spans per second, against the raw insert rate of
 *   the store (the same spans, decoded beforehand, stored in-process through TraceService.ingest —
 *   GenAI mapping and insert, one transaction per body — with no HTTP, auth or decoding).
 *
 *   npm run bench -- llm [--seconds 10] [--connections 32] [--rounds 3] [--otlp-requests 40] [--only endpoint|otlp]
 *
 * The servers run in their own processes, the load generator in this one. Figures are medians over
 * the rounds. Measure on an idle machine: the numbers are meaningless under other load.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import autocannon from "autocannon";
import { loadConfig } from "../../src/config.js";
import { createServices } from "../../src/main.js";
import { decodeProtobuf } from "../../src/server/otlp/decode.js";
import { emitterFor, numberFlag } from "../kit.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const SECONDS = numberFlag("seconds", 10);
const CONNECTIONS = numberFlag("connections", 32);
const ROUNDS = numberFlag("rounds", 3);
const OTLP_REQUESTS = numberFlag("otlp-requests", 40);
const SPANS_PER_BODY = 512;
const PROJECT = "bench";
// `--only endpoint` or `--only otlp` runs one half (to profile it alone).
const onlyAt = process.argv.indexOf("--only");
const ONLY = onlyAt >= 0 ? process.argv[onlyAt + 1] : null;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round3 = (n: number) => Math.round(n * 1000) / 1000;

const emit = emitterFor("llm");
const servers: { tandem?: ChildProcess; standin?: ChildProcess; bareProxy?: ChildProcess } = {};

function start(
  argv: string[],
  env: Record<string, string>,
  pattern: RegExp,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, argv, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = pattern.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.on("exit", (code) => reject(new Error(`${argv.join(" ")} exited with ${code}: ${err.slice(-500)}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
}

/**
 * CPU time a process has used, ms (Linux /proc; null elsewhere). Per call, it tells what each server
 * costs even on a shared machine, where throughput mostly says how busy the neighbours were.
 */
function cpuMs(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, at USER_HZ = 100
  } catch {
    return null;
  }
}

async function drive(url: string, headers: Record<string, string>, body: string) {
  const r = await autocannon({
    url,
    method: "POST",
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  if (r.errors || r.non2xx) throw new Error(`${url}: ${r.errors} errors, ${r.non2xx} non-2xx answers`);
  return { rps: r.requests.average, p50: r.latency.p50, sent: r.requests.sent, answered: r.requests.total };
}

async function api(base: string, token: string, method: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
}

/** Protobuf bodies as the real SDK exports them: SPANS_PER_BODY spans each, caught by a local listener. */
async function otlpBodies(count: number): Promise<Buffer[]> {
  const bodies: Buffer[] = [];
  const sink = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req
      .on("data", (c: Buffer) => chunks.push(c))
      .on("end", () => {
        bodies.push(Buffer.concat(chunks));
        res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
      });
  });
  await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
  const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${(sink.address() as AddressInfo).port}/v1/traces` });
  const provider = new NodeTracerProvider({
    spanProcessors: [
      new BatchSpanProcessor(exporter, { maxExportBatchSize: SPANS_PER_BODY, maxQueueSize: SPANS_PER_BODY * 4 }),
    ],
  });
  const tracer = provider.getTracer("bench");
  while (bodies.length < count) {
    for (let i = 0; i < SPANS_PER_BODY; i++) {
      const span = tracer.startSpan(`chat gpt-4o-mini ${i}`, {
        attributes: {
          "gen_ai.operation.name": "chat",
          "gen_ai.request.model": "gpt-4o-mini",
          "gen_ai.usage.input_tokens": 100 + i,
          "gen_ai.usage.output_tokens": 20,
        },
      });
      span.end();
    }
    await provider.forceFlush();
  }
  await provider.shutdown();
  sink.close();
  return bodies.slice(0, count);
}

/**
 * Overhead of the endpoint against the stand-in called directly; returns how many calls were sent
 * to Tandem and how many it answered (the rest were in flight when a run stopped).
 */
async function endpointOverhead(
  endpointUrl: string,
  headers: Record<string, string>,
  viaTandem: string,
  standinUrl: string,
  direct: string,
  bareProxyUrl: string,
): Promise<{ sent: number; answered: number }> {
  const warmUp = await drive(endpointUrl, headers, viaTandem); // JITs both paths
  const calls = { sent: warmUp.sent, answered: warmUp.answered };
  const t: Array<{ rps: number; p50: number }> = [];
  const d: Array<{ rps: number; p50: number }> = [];
  const b: Array<{ rps: number; p50: number }> = [];
  const cpu = {
    tandem: 0,
    standinViaTandem: 0,
    standinDirect: 0,
    callsDirect: 0,
    callsViaTandem: 0,
    bare: 0,
    callsBare: 0,
  };
  const cpuOf = (child?: ChildProcess) => cpuMs(child?.pid) ?? NaN;
  for (let round = 0; round < ROUNDS; round++) {
    let standinCpu = cpuOf(servers.standin);
    const straight = await drive(`${standinUrl}/chat/completions`, {}, direct);
    cpu.standinDirect += cpuOf(servers.standin) - standinCpu;
    cpu.callsDirect += straight.sent;
    d.push(straight);
    const bareCpu = cpuOf(servers.bareProxy);
    const bare = await drive(`${bareProxyUrl}/chat/completions`, {}, viaTandem);
    cpu.bare += cpuOf(servers.bareProxy) - bareCpu;
    cpu.callsBare += bare.sent;
    b.push(bare);
    standinCpu = cpuOf(servers.standin);
    const tandemCpu = cpuOf(servers.tandem);
    const through = await drive(endpointUrl, headers, viaTandem);
    cpu.tandem += cpuOf(servers.tandem) - tandemCpu;
    cpu.standinViaTandem += cpuOf(servers.standin) - standinCpu;
    cpu.callsViaTandem += through.sent;
    calls.sent += through.sent;
    calls.answered += through.answered;
    t.push(through);
  }
  const tp50 = median(t.map((x) => x.p50));
  const dp50 = median(d.map((x) => x.p50));
  emit("endpoint_p50_added_ms", round3(tp50 - dp50), null, "ms", null, {
    goal: "<= 1",
    p50_tandem_ms: tp50,
    p50_direct_ms: dp50,
  });
  const trps = median(t.map((x) => x.rps));
  const drps = median(d.map((x) => x.rps));
  // Issue 19's goal, against the stand-in called directly. It is out of reach for any Node gateway on
  // two cores shared with the stand-in and the load generator: bare_proxy_throughput below is the
  // ceiling. The goal as restated against that ceiling is endpoint_throughput_vs_bare_proxy's.
  emit("endpoint_throughput", round3(trps), round3(drps), "req/s", round3(trps / drps), {
    goal: ">= 0.7",
    goal_note: "issue 19 as stated; bounded by bare_proxy_throughput's ratio",
  });
  // The same calls through the least a Node gateway must do (bare-proxy.mjs): what any gateway on
  // these two cores can reach against the direct stand-in, and Tandem against that floor.
  const bp50 = median(b.map((x) => x.p50));
  const brps = median(b.map((x) => x.rps));
  emit("bare_proxy_throughput", round3(brps), round3(drps), "req/s", round3(brps / drps), {
    note: "the ceiling of any Node gateway here against the direct stand-in",
  });
  emit("endpoint_throughput_vs_bare_proxy", round3(trps), round3(brps), "req/s", round3(trps / brps), {
    goal: ">= 0.8",
    goal_note: "restated goal: against the least a Node gateway does (bare-proxy.mjs)",
  });
  emit("endpoint_p50_added_vs_bare_proxy_ms", round3(tp50 - bp50), null, "ms", null, {
    goal: "<= 1",
    p50_tandem_ms: tp50,
    p50_bare_proxy_ms: bp50,
  });
  // Server CPU per call, µs: Tandem's own against the stand-in's (what a call costs, whatever the load).
  const perCall = (ms: number, calls: number) => Math.round((ms * 1000) / calls);
  emit(
    "endpoint_cpu_per_call",
    perCall(cpu.tandem, cpu.callsViaTandem),
    perCall(cpu.standinDirect, cpu.callsDirect),
    "us",
    round3(cpu.tandem / cpu.callsViaTandem / (cpu.standinDirect / cpu.callsDirect)),
    {
      standin_via_tandem_us: perCall(cpu.standinViaTandem, cpu.callsViaTandem),
      bare_proxy_us: perCall(cpu.bare, cpu.callsBare),
    },
  );
  // The same comparison in CPU rather than throughput: what each call costs the gateway's process,
  // which load on the machine changes far less than it changes requests per second.
  emit(
    "endpoint_cpu_per_call_vs_bare_proxy",
    perCall(cpu.tandem, cpu.callsViaTandem),
    perCall(cpu.bare, cpu.callsBare),
    "us",
    round3(cpu.tandem / cpu.callsViaTandem / (cpu.bare / cpu.callsBare)),
  );
  return calls;
}

/** OTLP protobuf ingest over HTTP against the raw insert rate of the store in this process. */
async function otlpIngest(tandemUrl: string, headers: Record<string, string>, rawHome: string): Promise<void> {
  const bodies = await otlpBodies(OTLP_REQUESTS);
  const spans = bodies.reduce((n, b) => n + decodeProtobuf(b).length, 0);
  const started = performance.now();
  let next = 0;
  const poster = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const res = await fetch(`${tandemUrl}/v1/traces`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/x-protobuf" },
        body,
      });
      if (!res.ok) throw new Error(`OTLP: HTTP ${res.status} ${await res.text()}`);
    }
  };
  await Promise.all([poster(), poster(), poster(), poster()]);
  const ingest = spans / ((performance.now() - started) / 1000);

  // The raw insert rate of the same store kind (SQLite), in this process: decoded spans to the store.
  const opened = await createServices(loadConfig({ TANDEM_HOME: rawHome, TANDEM_LOG_LEVEL: "warn" }));
  try {
    const decoded = bodies.map((b) => decodeProtobuf(b));
    const rawStarted = performance.now();
    for (const batch of decoded) await opened.services.llm.traces.ingest(PROJECT, batch);
    const raw = spans / ((performance.now() - rawStarted) / 1000);
    emit("otlp_ingest_protobuf", Math.round(ingest), Math.round(raw), "spans/s", round3(ingest / raw));
  } finally {
    await opened.close();
  }
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), "llm-bench-"));
  const standin = await start([join(root, "examples/llm/standin/server.mjs"), "0"], {}, /(http:\S+)/);
  // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server (NODE_OPTIONS refuses it).
  const serverNodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);
  const tandem = await start(
    [...serverNodeArgs, join(root, "bin/tandem.js"), "server", "--port", "0"],
    { TANDEM_HOME: join(home, "home"), TANDEM_OUTBOUND_ALLOW: "127.0.0.1", TANDEM_LOG_LEVEL: "warn" },
    /listening on (http:\/\/\S+)/,
  );
  const bareProxy = await start([join(here, "bare-proxy.mjs"), standin.url], {}, /(http:\S+)/);
  servers.tandem = tandem.child;
  servers.standin = standin.child;
  servers.bareProxy = bareProxy.child;
  try {
    const token = readFileSync(join(home, "home", "admin.token"), "utf8").trim();
    const P = `/api/v1/projects/${PROJECT}`;
    await api(tandem.url, token, "POST", `${P}/prompts/support/versions`, {
      messages: [
        { role: "system", content: "You answer questions about {{ product }}." },
        { role: "user", content: "{{ input }}" },
      ],
      params: { model: "standin-1" },
    });
    await api(tandem.url, token, "PUT", `${P}/prompts/support/aliases/production`, { version: 1 });
    const spec = `project: ${PROJECT}\nendpoints:\n  bot:\n    llm: { upstream: "${standin.url}", model: standin-1, prompt: support@production }\n`;
    await api(tandem.url, token, "POST", `${P}/specs`, { source: spec, file: "tandem.yaml" });

    // The same question both ways: rendered by Tandem, or sent already rendered to the stand-in.
    const viaTandem = JSON.stringify({
      messages: [{ role: "user", content: "where is my parcel?" }],
      metadata: { variables: { product: "Parcelly" } },
    });
    const direct = JSON.stringify({
      model: "standin-1",
      messages: [
        { role: "system", content: "You answer questions about Parcelly." },
        { role: "user", content: "where is my parcel?" },
      ],
    });
    const headers = { authorization: `Bearer ${token}`, "x-tandem-project": PROJECT };
    const endpointUrl = `${tandem.url}/v1/endpoints/bot/chat/completions`;
    // `tandem apply` loads the endpoint before it answers: the first call must succeed.
    const first = await fetch(endpointUrl, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: viaTandem,
    });
    if (!first.ok)
      throw new Error(`the endpoint's first call after apply failed: HTTP ${first.status} ${await first.text()}`);
    const calls = { sent: 1, answered: 1 }; // the first call's
    if (ONLY !== "otlp") {
      const driven = await endpointOverhead(endpointUrl, headers, viaTandem, standin.url, direct, bareProxy.url);
      calls.sent += driven.sent;
      calls.answered += driven.answered;
    }
    if (ONLY !== "endpoint") await otlpIngest(tandem.url, headers, join(home, "raw"));
    // Every call through the endpoint is traced: its spans are written after the server stops (flush).
    await stop(tandem.child);
    const opened = await createServices(loadConfig({ TANDEM_HOME: join(home, "home"), TANDEM_LOG_LEVEL: "warn" }));
    try {
      const { total } = await opened.services.llm.traces.window(PROJECT, "standin-1", 0, Date.now() + 1, 1);
      // A call still in flight when autocannon stopped is traced too (Tandem finishes it), hence a range.
      emit("endpoint_calls_traced", total, calls.answered, "traces", round3(total / calls.answered), {
        goal: "answered <= traced <= sent",
        sent: calls.sent,
      });
      if (total < calls.answered || total > calls.sent)
        throw new Error(`${calls.answered} calls answered (${calls.sent} sent), but ${total} traces stored`);
    } finally {
      await opened.close();
    }
  } finally {
    await stop(tandem.child);
    await stop(standin.child);
    await stop(bareProxy.child);
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
