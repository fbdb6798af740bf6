import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

/** Checks Prometheus text exposition format line by line. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const sample =
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?(?:[0-9.e+-]+|NaN|\+Inf|-Inf))( \d+)?$/;
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const m = sample.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
    samples.set(m[1]! + (m[2] ?? ""), Number(m[3]));
  }
  return samples;
}

describe("tandem server", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.stop();
  });

  it("answers health and readiness", async () => {
    expect(await t.api("GET", "/healthz", undefined, null)).toEqual({ status: 200, body: { status: "ok" } });
    expect(await t.api("GET", "/readyz", undefined, null)).toEqual({ status: 200, body: { status: "ready" } });
  });

  it("serves /metrics as Prometheus text with per-route counts", async () => {
    await t.api("GET", "/healthz", undefined, null);
    const res = await fetch(`${t.url}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/text\/plain/);
    const samples = parsePrometheus(await res.text());
    const key = [...samples.keys()].find(
      (k) => k.startsWith("tandem_http_requests_total{") && k.includes('route="/healthz"'),
    );
    expect(key).toBeDefined();
    expect(samples.get(key!)).toBeGreaterThanOrEqual(1);
    // Process and Node.js metrics under the standard names that stock dashboards query
    // (Prometheus client conventions; Grafana's Node.js dashboards), never renamed.
    const names = new Set([...samples.keys()].map((k) => k.replace(/\{.*$/, "")));
    for (const standard of [
      "process_cpu_seconds_total",
      "process_cpu_user_seconds_total",
      "process_resident_memory_bytes",
      "process_start_time_seconds",
      "process_open_fds",
      "nodejs_eventloop_lag_seconds",
      "nodejs_heap_size_used_bytes",
      "nodejs_active_handles_total",
      "nodejs_version_info",
    ]) {
      expect(names, standard).toContain(standard);
    }
    expect([...names].filter((n) => /^tandem_(process|nodejs)_/.test(n))).toEqual([]);
  });

  it("refuses a write without a token with 401 in the error shape", async () => {
    const res = await t.api("POST", "/api/v1/tokens", { name: "x" }, null);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      error: { code: "UNAUTHENTICATED", message: expect.any(String), request_id: expect.any(String) },
    });
  });

  it("answers bad input with 400 naming the field, never a stack trace", async () => {
    const res = await t.api<{ error: { code: string; message: string } }>("POST", "/api/v1/users", { name: 42 });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("INVALID_INPUT");
    expect(res.body.error.message).toMatch(/name/);
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+/);
  });

  it("answers malformed JSON with 400 and unknown routes with 404", async () => {
    const res = await fetch(`${t.url}/api/v1/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("INVALID_INPUT");
    expect((await t.api("GET", "/api/v1/nothing-here")).status).toBe(404);
  });

  it("refuses __proto__ and constructor keys in JSON bodies, spelled plainly or with \\u escapes", async () => {
    const post = (body: string) =>
      fetch(`${t.url}/api/v1/users`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "application/json" },
        body,
      });
    for (const body of [
      '{"name": "x", "__proto__": {"isAdmin": true}}',
      '{"name": "x", "\\u005f_proto__": {"isAdmin": true}}',
      '{"name": "x", "constructor": {"prototype": {"isAdmin": true}}}',
      '{"name": "x", "\\u0063onstructor": {"prototype": {"isAdmin": true}}}',
    ]) {
      const res = await post(body);
      expect(res.status, body).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("INVALID_INPUT");
    }
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    // An empty body is the same 400 as before.
    expect((await post("")).status).toBe(400);
  });

  it("answers an oversized body with 413", async () => {
    const res = await fetch(`${t.url}/api/v1/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "x".repeat(17 * 1024 * 1024) }),
    });
    expect(res.status).toBe(413);
  });

  it("publishes an OpenAPI document listing its routes", async () => {
    const res = await t.api<{ openapi: string; paths: Record<string, unknown> }>(
      "GET",
      "/api/v1/openapi.json",
      undefined,
      null,
    );
    expect(res.body.openapi).toBe("3.1.0");
    expect(Object.keys(res.body.paths)).toContain("/api/v1/tokens");
    expect(Object.keys(res.body.paths)).toContain("/api/v1/projects/{project}/members");
  });

  it("creates tokens shown once and stored hashed; a revoked token stops working", async () => {
    const made = await t.api<{ id: string; token: string }>("POST", "/api/v1/tokens", { name: "short-lived" });
    expect(made.status).toBe(201);
    expect((await t.api("GET", "/api/v1/whoami", undefined, made.body.token)).status).toBe(200);
    const listed = await t.api<{ tokens: Array<Record<string, unknown>> }>("GET", "/api/v1/tokens");
    expect(JSON.stringify(listed.body)).not.toContain(made.body.token);
    expect((await t.api("DELETE", `/api/v1/tokens/${made.body.id}`)).status).toBe(200);
    expect((await t.api("GET", "/api/v1/whoami", undefined, made.body.token)).status).toBe(401);
  });

  it("caps a token's role below its user's", async () => {
    await t.api("POST", "/api/v1/users", { name: "carol" });
    await t.api("PUT", "/api/v1/projects/default/members/carol", { role: "admin" });
    const capped = await t.api<{ token: string }>("POST", "/api/v1/tokens", {
      name: "ro",
      user: "carol",
      role: "viewer",
    });
    const res = await t.api("PUT", "/api/v1/projects/default/members/carol", { role: "member" }, capped.body.token);
    expect(res.status).toBe(403);
    expect((await t.api("GET", "/api/v1/projects/default/members", undefined, capped.body.token)).status).toBe(200);
  });

  it("records every change in a verifiable audit chain", async () => {
    const verdict = await t.api<{ ok: boolean; events: number }>("GET", "/api/v1/audit/verify");
    expect(verdict.body.ok).toBe(true);
    expect(verdict.body.events).toBeGreaterThan(3);
    const log = await t.api<{ events: Array<{ action: string }> }>("GET", "/api/v1/audit?limit=100");
    expect(log.body.events.map((e) => e.action)).toEqual(
      expect.arrayContaining(["token.create", "token.revoke", "user.create", "member.set"]),
    );
  });
});
