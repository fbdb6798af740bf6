/**
 * Driving one server with autocannon and reading what it cost: requests/s, latency and the server
 * process's CPU per request (user + system, all its threads, from /proc), which stays meaningful when
 * other work shares the machine.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import autocannon from "autocannon";

export interface LoadOptions {
  connections: number;
  seconds: number;
}

export interface Measured {
  rps: number;
  p99: number;
  p50: number;
  errors: number;
  non2xx: number;
  /** Server CPU ms per answered request (null where /proc cannot be read). */
  cpuMsPerRequest: number | null;
  /** How long the server kept using CPU after the load stopped (ms, 100 ms resolution; 300 ms is none). */
  tailMs: number;
}

/** The next body, in turn: no two consecutive requests repeat (a server cannot cache an answer). */
function rotating(bodies: string[]) {
  let i = 0;
  return (req: Record<string, unknown>) => ({ ...req, body: bodies[i++ % bodies.length] });
}

export async function warm(
  url: string,
  headers: Record<string, string>,
  bodies: string[],
  options: LoadOptions,
): Promise<void> {
  await autocannon({
    url,
    method: "POST",
    connections: options.connections,
    duration: 2,
    headers: { "content-type": "application/json", ...headers },
    requests: [{ setupRequest: rotating(bodies) }],
  });
}

/** CPU seconds (user + system, all threads) a process has used so far, from /proc (Linux). */
export function cpuSeconds(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * Waits until none of these processes uses CPU any more: its user + system time (all threads, from
 * /proc) moves by at most `slack` seconds over each of `windows` consecutive 100 ms windows. A Tandem
 * server's prediction log writer keeps writing after its load stops; a bare round started then
 * would share the cores with it (the order bias of earlier runs). Gives up after `limitMs` and says so.
 */
export async function waitQuiet(
  pids: Array<number | undefined>,
  { windows = 3, slack = 0.01, limitMs = 20_000 } = {},
): Promise<number> {
  const started = performance.now();
  const read = () => pids.map((pid) => cpuSeconds(pid) ?? 0);
  let last = read();
  let calm = 0;
  while (calm < windows) {
    if (performance.now() - started > limitMs) {
      process.stderr.write(`servers still busy after ${limitMs} ms: measuring anyway\n`);
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
    const now = read();
    calm = now.every((cpu, i) => cpu - last[i]! <= slack) ? calm + 1 : 0;
    last = now;
  }
  return performance.now() - started;
}

/**
 * Drives a server for `seconds` and measures its CPU per request: from before the load until the
 * server is quiet again, so work the requests left behind (the log writer's tail) is counted too.
 */
export async function measure(
  child: ChildProcess,
  url: string,
  headers: Record<string, string>,
  bodies: string[],
  options: LoadOptions,
): Promise<Measured> {
  const before = cpuSeconds(child.pid);
  // autocannon's default timeout (10 s) is plenty.
  const result = await autocannon({
    url,
    method: "POST",
    connections: options.connections,
    duration: options.seconds,
    headers: { "content-type": "application/json", ...headers },
    requests: [{ setupRequest: rotating(bodies) }],
  });
  const tailMs = await waitQuiet([child.pid]);
  const after = cpuSeconds(child.pid);
  const total = result.requests.average * options.seconds;
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    p50: result.latency.p50,
    errors: result.errors,
    non2xx: result.non2xx,
    cpuMsPerRequest: before !== null && after !== null && total > 0 ? ((after - before) * 1000) / total : null,
    tailMs,
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Each figure's median over the rounds (CPU per request null if any round could not read it). */
export function medianOf(rounds: Measured[]): Measured {
  const cpu = rounds.map((r) => r.cpuMsPerRequest);
  return {
    rps: median(rounds.map((r) => r.rps)),
    p99: median(rounds.map((r) => r.p99)),
    p50: median(rounds.map((r) => r.p50)),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    non2xx: rounds.reduce((n, r) => n + r.non2xx, 0),
    cpuMsPerRequest: cpu.every((c) => c !== null) ? median(cpu as number[]) : null,
    tailMs: median(rounds.map((r) => r.tailMs)),
  };
}

export function describeLoad(m: Measured): string {
  const cpu = m.cpuMsPerRequest === null ? "" : ` (${m.cpuMsPerRequest.toFixed(3)} ms CPU each)`;
  return `${Math.round(m.rps)} req/s${cpu}, busy ${Math.round(m.tailMs)} ms after`;
}
