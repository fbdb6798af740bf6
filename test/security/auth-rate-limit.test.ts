/**
 * Guessing tokens: after the limit of failed authentications from one address within a minute,
 * that address gets 429 (with Retry-After) for every credentialed request, a valid token included,
 * while other addresses and requests without credentials are untouched; and it ends with the minute.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FailedAuthLimiter } from "../../src/server/auth-limit.js";
import { RateLimitedError } from "../../src/core/errors.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/** GET from a chosen loopback source address (the server sees it as the client's address). */
function get(
  t: TestServer,
  path: string,
  from: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  const url = new URL(t.url + path);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname, localAddress: from, headers },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () =>
          resolve({ status: res.statusCode!, retryAfter: res.headers["retry-after"] as string | undefined, body }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("failed authentication is rate-limited per client address", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { TANDEM_AUTH_FAILURES_PER_MINUTE: "5" } });
  });
  afterAll(async () => {
    await t.stop();
  });

  it("answers 429 to a guesser after 5 failures, even for a right token, and leaves others alone", async () => {
    const attacker = "127.0.0.2";
    for (let i = 0; i < 5; i++) {
      const guess = await get(t, "/api/v1/whoami", attacker, { authorization: `Bearer tdm_guess${i}` });
      expect(guess.status).toBe(401);
    }
    const limited = await get(t, "/api/v1/whoami", attacker, { authorization: "Bearer tdm_guess6" });
    expect(limited.status).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    expect(JSON.parse(limited.body).error.message).toMatch(/too many failed authentication attempts from 127\.0\.0\.2/);
    // Guessing right now does not help: the right token is refused too while the limit lasts.
    const right = await get(t, "/api/v1/whoami", attacker, { authorization: `Bearer ${t.adminToken}` });
    expect(right.status).toBe(429);
    // MLflow clients get MLflow's error shape.
    const mlflow = await get(t, "/api/2.0/mlflow/experiments/search", attacker, { authorization: "Bearer x" });
    expect(mlflow.status).toBe(429);
    expect(JSON.parse(mlflow.body).error_code).toBe("REQUEST_LIMIT_EXCEEDED");
    // Another address signs in as usual; a request without credentials is no guess.
    expect((await get(t, "/api/v1/whoami", "127.0.0.3", { authorization: `Bearer ${t.adminToken}` })).status).toBe(200);
    expect((await get(t, "/api/v1/whoami", attacker)).status).toBe(401);
  });
});

describe("FailedAuthLimiter", () => {
  it("lets an address try again once its failures are a minute old", () => {
    const limiter = new FailedAuthLimiter(3);
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) limiter.fail("10.0.0.1", t0 + i * 1000);
    expect(() => limiter.check("10.0.0.1", t0 + 5000)).toThrow(RateLimitedError);
    expect(() => limiter.check("10.0.0.1", t0 + 60_001)).not.toThrow();
    expect(() => limiter.check("10.0.0.2", t0 + 5000)).not.toThrow();
    const off = new FailedAuthLimiter(0);
    for (let i = 0; i < 100; i++) off.fail("10.0.0.1", t0);
    expect(() => off.check("10.0.0.1", t0)).not.toThrow();
  });
});
