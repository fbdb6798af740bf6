/**
 * A real listening Tandem server in a fresh TANDEM_HOME, on SQLite (default) or a fresh Postgres
 * database, for integration tests. Returns its URL, admin token and a `stop`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config.js";
import { startServer, type RunningServer } from "../../src/server/listen.js";
import { freshDatabase, type StoreKind } from "./stores.js";

export interface TestServer {
  url: string;
  home: string;
  /** Its TANDEM_DATABASE_URL (another server started with it shares the store). */
  databaseUrl: string;
  adminToken: string;
  server: RunningServer;
  /** fetch against the server with the admin token (or `token`), JSON in and out. */
  api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    token?: string | null,
  ): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  /** (default "sqlite") */
  store?: StoreKind;
  /** Extra environment for loadConfig (e.g. TANDEM_ARTIFACTS). */
  env?: Record<string, string>;
  /** Start background loops (default false: tests drive them explicitly). */
  background?: boolean;
  /**
   * Another server's database (its TANDEM_DATABASE_URL), for several servers on one store; the
   * owner of the database drops it (default: a fresh database of `store`, dropped at stop).
   */
  databaseUrl?: string;
}

/** TestServer.api for the server at `url`, as `adminToken` unless told otherwise. */
export function jsonApi(url: string, adminToken: string): TestServer["api"] {
  return async <T>(method: string, path: string, body?: unknown, token: string | null = adminToken) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(url + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const home = mkdtempSync(join(tmpdir(), "tandem-home-"));
  const db = options.databaseUrl
    ? { database: null, cleanup: async () => undefined }
    : await freshDatabase(options.store ?? "sqlite");
  // Logs at error level only: a failing test shows internal errors, not every request.
  const env: Record<string, string> = { TANDEM_HOME: home, TANDEM_LOG_LEVEL: "error", ...(options.env ?? {}) };
  if (!db.database) env.TANDEM_DATABASE_URL = options.databaseUrl!;
  else if (db.database.kind === "postgres") env.TANDEM_DATABASE_URL = db.database.url;
  else env.TANDEM_DATABASE_URL = `sqlite:${db.database.file}`;
  const config = loadConfig(env);
  const server = await startServer({
    config,
    host: "127.0.0.1",
    port: 0,
    background: options.background ?? false,
    handleSignals: false,
  });
  // A server on another's database finds its admin there and writes no token of its own.
  const tokenFile = join(home, "admin.token");
  const adminToken = existsSync(tokenFile) ? readFileSync(tokenFile, "utf8").trim() : "";
  return {
    url: server.url,
    home,
    databaseUrl: env.TANDEM_DATABASE_URL,
    adminToken,
    server,
    api: jsonApi(server.url, adminToken),
    async stop() {
      await server.stop();
      await db.cleanup();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
