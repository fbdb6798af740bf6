/**
 * Logs and request ids as an operator meets them: a real `tandem server` process, its stderr read
 * line by line as JSON. Every answer carries X-Request-Id; /api/v1 errors carry it in the body,
 * MLflow errors keep MLflow's shape; an internal error (a table dropped behind the server's back)
 * is logged once with its stack under that id; no token or secret reaches the log.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = join(import.meta.dirname, "../../bin/tandem.js");
const SECRET_KEY = "9f".repeat(32);

interface LogLine {
  level: string;
  msg: string;
  request_id?: string;
  status?: number;
  url?: string;
  user?: string;
  err?: { type: string; message: string; stack: string };
  [key: string]: unknown;
}

describe("server logs and request ids", () => {
  const home = mkdtempSync(join(tmpdir(), "tandem-logs-"));
  let child: ChildProcess;
  let url = "";
  let token = "";
  let stderr = "";
  const lines = (): LogLine[] =>
    stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as LogLine);

  beforeAll(async () => {
    child = spawn(process.execPath, [BIN, "server", "--port", "0"], {
      env: {
        ...process.env,
        TANDEM_HOME: home,
        TANDEM_URL: "",
        TANDEM_TOKEN: "",
        TANDEM_LOG_LEVEL: "info",
        TANDEM_SECRET_KEY: SECRET_KEY,
      },
    });
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (c: Buffer) => {
        out += c.toString();
        const m = /^listening on (\S+)\n/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on("exit", (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
    });
    const { readFileSync } = await import("node:fs");
    token = readFileSync(join(home, "admin.token"), "utf8").trim();
  });
  afterAll(() => {
    child?.kill("SIGTERM");
    rmSync(home, { recursive: true, force: true });
  });

  const call = (path: string, init: RequestInit & { token?: string | null } = {}) =>
    fetch(`${url}${path}`, {
      ...init,
      headers: {
        ...(init.token === null ? {} : { authorization: `Bearer ${init.token ?? token}` }),
        ...(init.headers as Record<string, string>),
      },
    });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

  it("answers with X-Request-Id, keeps a caller's id, and logs each request once under it", async () => {
    const own = await call("/api/v1/projects/default/experiments", { headers: { "x-request-id": "trace-42.a" } });
    expect(own.status).toBe(200);
    expect(own.headers.get("x-request-id")).toBe("trace-42.a");
    // An id that could forge log lines or headers is replaced, not echoed.
    const forged = await call("/healthz", { token: null, headers: { "x-request-id": 'a b"}{' } });
    expect(forged.headers.get("x-request-id")).toMatch(/^[0-9a-f]{32}$/);
    await settle();
    const logged = lines().filter((l) => l.request_id === "trace-42.a");
    expect(logged).toEqual([
      expect.objectContaining({
        level: "info",
        msg: "request completed",
        method: "GET",
        route: "/api/v1/projects/:project/experiments",
        status: 200,
        user: "admin",
        duration_ms: expect.any(Number),
      }),
    ]);
  });

  it("logs a readiness probe's 503 as routine traffic (debug), not as a server error", async () => {
    const probe = await call("/v2/models/not-loaded/ready", { token: null, headers: { "x-request-id": "probe-503" } });
    expect(probe.status).toBe(503);
    await settle();
    // At info, debug lines are not written: the probe leaves no line at all.
    expect(lines().filter((l) => l.request_id === "probe-503")).toEqual([]);
  });

  it("puts the request id in /api/v1 error bodies; MLflow errors keep MLflow's exact shape", async () => {
    const missing = await call("/api/v1/projects/default/runs/nope");
    const body = (await missing.json()) as { error: { code: string; request_id: string } };
    expect(missing.status).toBe(404);
    expect(body.error.code).toBe("NOT_FOUND");
    expect(body.error.request_id).toBe(missing.headers.get("x-request-id"));

    const mlflow = await call("/api/2.0/mlflow/runs/get?run_id=nope");
    expect(mlflow.status).toBe(404);
    expect(Object.keys((await mlflow.json()) as object).sort()).toEqual(["error_code", "message"]);
    expect(mlflow.headers.get("x-request-id")).toMatch(/^[0-9a-f]{32}$/);
  });

  it("logs an internal error once, with its stack, under the id the answer names; the answer hides it", async () => {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(join(home, "tandem.db"));
    db.exec("alter table tracking_experiments rename to experiments_gone");
    db.close();
    try {
      const res = await call("/api/v1/projects/default/experiments");
      expect(res.status).toBe(500);
      const body = (await res.json()) as { error: { code: string; message: string; request_id: string } };
      expect(body.error).toEqual({ code: "INTERNAL", message: "internal error", request_id: expect.any(String) });
      const mlflow = await call("/api/2.0/mlflow/experiments/search", {
        method: "POST",
        body: "{}",
        headers: { "content-type": "application/json" },
      });
      expect(mlflow.status).toBe(500);
      expect(await mlflow.json()).toEqual({ error_code: "INTERNAL_ERROR", message: "internal error" });
      await settle();
      for (const id of [body.error.request_id, mlflow.headers.get("x-request-id")!]) {
        const forRequest = lines().filter((l) => l.request_id === id);
        const failure = forRequest.find((l) => l.msg === "internal error");
        expect(failure?.level).toBe("error");
        expect(failure?.err?.message).toMatch(/experiments/);
        expect(failure?.err?.stack).toMatch(/\n\s+at /);
        expect(forRequest.find((l) => l.msg === "request completed")).toMatchObject({ level: "error", status: 500 });
      }
    } finally {
      const db2 = new Database(join(home, "tandem.db"));
      db2.exec("alter table experiments_gone rename to tracking_experiments");
      db2.close();
    }
  });

  it("never writes a token or secret: not the admin's, not a wrong one, not one in a URL", async () => {
    const wrong = "tdm_NotARealTokenButLooksLikeOne0123456789abcdef";
    expect((await call("/api/v1/users", { token: wrong })).status).toBe(401);
    await call(`/api/v1/projects/default/experiments?token=${token}`);
    await call("/api/v1/users", { token: null, headers: { authorization: `Basic ${btoa(`admin:${token}`)}` } });
    await settle();
    expect(lines().length).toBeGreaterThan(5);
    for (const secret of [token, wrong, SECRET_KEY, btoa(`admin:${token}`)]) expect(stderr).not.toContain(secret);
    expect(lines().find((l) => l.status === 401)).toMatchObject({ level: "info", url: "/api/v1/users" });
  });
});
