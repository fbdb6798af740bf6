/**
 * Real `tandem server` processes for the several-servers tests: each with a home of its own, all
 * sharing what a Kubernetes installation shares (the database, the artifacts, the secret key, the
 * audit head file). A helper records what a local webhook receiver got.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const BIN = resolve(import.meta.dirname, "../../bin/tandem.js");

/** What every server of a cluster shares. */
export interface Cluster {
  root: string;
  env: Record<string, string>;
}

export function newCluster(databaseUrl: string, extraEnv: Record<string, string> = {}): Cluster {
  const root = mkdtempSync(join(tmpdir(), "tandem-cluster-"));
  mkdirSync(join(root, "shared"), { recursive: true });
  return {
    root,
    env: {
      TANDEM_DATABASE_URL: databaseUrl,
      TANDEM_ARTIFACTS: join(root, "shared", "artifacts"),
      TANDEM_SECRET_KEY: randomBytes(32).toString("hex"),
      TANDEM_AUDIT_HEAD: join(root, "shared", "audit.head"),
      TANDEM_OUTBOUND_ALLOW: "127.0.0.1",
      TANDEM_LOG_FORMAT: "json",
      TANDEM_LOG_LEVEL: "info",
      TANDEM_CONCURRENCY: "4",
      ...extraEnv,
    },
  };
}

export interface ServerProcess {
  name: string;
  child: ChildProcess;
  /** Resolves with the URL once it listens; rejects with its output if it exits first. */
  url: Promise<string>;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  output(): string;
}

/** Starts `tandem server` as process `name` (its home is <root>/<name>). */
export function startServerProcess(
  cluster: Cluster,
  name: string,
  extraEnv: Record<string, string> = {},
): ServerProcess {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("TANDEM_")) env[k] = v;
  const child = spawn(process.execPath, [BIN, "server", "--port", "0", "--allow-shared-user"], {
    env: { ...env, ...cluster.env, TANDEM_HOME: join(cluster.root, name), ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
  const url = new Promise<string>((res, rej) => {
    const look = () => {
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) res(m[1]!);
    };
    child.stdout!.on("data", look);
    void exited.then((code) => rej(new Error(`server ${name} exited (${code}) before listening:\n${output}`)));
  });
  url.catch(() => undefined); // a test that expects the exit awaits `exited` instead
  return { name, child, url, exited, output: () => output };
}

export async function killHard(server: ServerProcess): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill("SIGKILL");
  await server.exited;
}

export function adminTokenOf(cluster: Cluster, name: string): string {
  return readFileSync(join(cluster.root, name, "admin.token"), "utf8").trim();
}

export async function api<T = unknown>(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export interface WebhookReceiver {
  url: string;
  /** Every notification body received, in order. */
  received: Array<{ status: string; alerts: Array<{ status: string; labels: Record<string, string> }> }>;
  close(): Promise<void>;
}

/** A receiver that answers after `delayMs` (default 0): a slow one keeps deliveries in flight. */
export async function startReceiver(delayMs = 0): Promise<WebhookReceiver> {
  const received: WebhookReceiver["received"] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push(JSON.parse(body) as WebhookReceiver["received"][number]);
      setTimeout(() => res.end("ok"), delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Waits for `check`; a check that throws (a server busy restarting, a reset connection) counts as not yet. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (
    !(await Promise.resolve()
      .then(check)
      .catch(() => false))
  ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
