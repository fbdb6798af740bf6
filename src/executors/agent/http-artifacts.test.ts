/**
 * The agent's artifact client while its run's token has expired (every server was down longer than
 * the token's window): it waits for the server that takes the run over to revive the token, and
 * fails at once on a revoked one. The server here is a stand-in answering as Tandem's error handler
 * does (the revival itself is tested against the real store in test/security/run-token-lifetime).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { HttpRunArtifactStore } from "./http-artifacts.js";

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** Answers the first `refusals` requests with 401 and `message`, then stores the upload. */
async function standIn(refusals: number, message: string): Promise<{ url: string; calls: () => number }> {
  let calls = 0;
  server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      calls++;
      res.setHeader("content-type", "application/json");
      if (calls <= refusals) {
        res.statusCode = 401;
        return res.end(JSON.stringify({ error: { code: "unauthenticated", message } }));
      }
      res.end(JSON.stringify({ sha256: "ab".repeat(32), size: 2 }));
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, calls: () => calls };
}

describe("HttpRunArtifactStore with an expired run token", () => {
  it("tries again until the token is revived, then uploads", async () => {
    const s = await standIn(2, "the token has expired");
    const store = new HttpRunArtifactStore(s.url, "t", "p", "run-1", 30_000);
    expect(await store.putBlob("hi")).toEqual({ sha256: "ab".repeat(32), size: 2 });
    expect(s.calls()).toBe(3);
  });

  it("fails at once on a revoked token (the run ended)", async () => {
    const s = await standIn(5, "the token was revoked");
    const store = new HttpRunArtifactStore(s.url, "t", "p", "run-1", 30_000);
    await expect(store.putBlob("hi")).rejects.toThrow(/HTTP 401: the token was revoked/);
    expect(s.calls()).toBe(1);
  });

  it("gives up after its bound, saying why", async () => {
    const s = await standIn(1000, "the token has expired");
    const store = new HttpRunArtifactStore(s.url, "t", "p", "run-1", 600);
    await expect(store.putBlob("hi")).rejects.toThrow(/HTTP 401: the token has expired/);
  });
});
