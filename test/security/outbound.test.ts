/**
 * The SSRF guard as an attacker uses it: URLs that name (or resolve to) loopback, link-local,
 * private and other non-public addresses in every spelling, a name that changes its answer between
 * the check and the call (DNS rebinding), a redirect into the private network, and the alert
 * receiver route of a real server.
 */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ForbiddenError, InvalidInputError } from "../../src/core/errors.js";
import { AddressOutboundGuard, type Resolver } from "../../src/stores/http/outbound-guard.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

/** A real HTTP listener on loopback that counts requests and answers with `answer`. */
async function listener(answer: (res: import("node:http").ServerResponse) => void) {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    req.resume();
    req.on("end", () => answer(res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return { port, hits: () => hits, close: () => new Promise((r) => server.close(r)) };
}

describe("outbound URL guard", () => {
  const guard = new AddressOutboundGuard();

  it.each([
    ["http://127.0.0.1:9/", "loopback"],
    ["http://localhost:9/", "loopback"],
    ["http://2130706433/", "loopback"], // 127.0.0.1 as one decimal number
    ["http://0x7f.1/", "loopback"], // and in hex shorthand
    ["http://[::1]/", "loopback"],
    ["http://[::ffff:127.0.0.1]/", "loopback"], // IPv4-mapped IPv6
    ["http://169.254.169.254/latest/meta-data/", "link-local"], // cloud metadata
    ["http://[fe80::1]/", "link-local"],
    ["http://10.1.2.3/", "private"],
    ["http://172.16.0.1/", "private"],
    ["http://192.168.1.1/", "private"],
    ["http://[fd00::1]/", "private"],
    ["http://100.64.0.1/", "carrier-grade NAT"],
    ["http://0.0.0.0:7300/", "unspecified"],
    ["https://user:pw@10.0.0.1/?token=x", "private"],
  ])("refuses %s (%s)", async (url, kind) => {
    const error = await guard.check(url, "alert receiver").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as Error).message).toContain(kind);
    expect((error as Error).message).toContain("TANDEM_OUTBOUND_ALLOW");
    // The message never repeats credentials or a query string that may hold a token.
    expect((error as Error).message).not.toMatch(/pw@|token=x/);
  });

  it("lets public addresses through and refuses what is not an http(s) URL", async () => {
    await expect(guard.check("https://93.184.216.34/hook", "alert receiver")).resolves.toBeUndefined();
    await expect(guard.check("file:///etc/passwd", "alert receiver")).rejects.toBeInstanceOf(InvalidInputError);
    await expect(guard.check("not a url", "alert receiver")).rejects.toThrow(/alert receiver is not a URL/);
    await expect(guard.check("http://no-such-host.invalid/", "alert receiver")).rejects.toThrow(/cannot resolve/);
  });

  it("checks every address a name resolves to", async () => {
    const resolver: Resolver = async () => [
      { address: "93.184.216.34", family: 4 },
      { address: "10.0.0.5", family: 4 },
    ];
    const g = new AddressOutboundGuard([], resolver);
    await expect(g.check("http://two-faced.example/", "webhook")).rejects.toThrow(/two-faced.example \(10.0.0.5\)/);
  });

  it("allows what TANDEM_OUTBOUND_ALLOW lists: addresses, ranges, names and suffixes", async () => {
    const g = new AddressOutboundGuard(["127.0.0.1", "10.0.0.0/8", "alertmanager.internal", "*.corp.example"]);
    await expect(g.check("http://127.0.0.1:9093/", "x")).resolves.toBeUndefined();
    await expect(g.check("http://10.200.0.1/", "x")).resolves.toBeUndefined();
    await expect(g.check("http://alertmanager.internal/", "x")).resolves.toBeUndefined();
    await expect(g.check("http://hooks.corp.example/", "x")).resolves.toBeUndefined();
    await expect(g.check("http://127.0.0.2/", "x")).rejects.toBeInstanceOf(ForbiddenError);
    await expect(g.check("http://192.168.0.1/", "x")).rejects.toBeInstanceOf(ForbiddenError);
    expect(() => loadConfig({ TANDEM_OUTBOUND_ALLOW: "10.0.0.0/8, bad/entry" })).toThrow(ConfigError);
    expect(loadConfig({ TANDEM_OUTBOUND_ALLOW: "10.0.0.0/8, a.example" }).outboundAllow).toEqual([
      "10.0.0.0/8",
      "a.example",
    ]);
  });

  it("refuses at connection time a name that resolved to a public address when checked (DNS rebinding)", async () => {
    const target = await listener((res) => res.end("secret"));
    try {
      let calls = 0;
      const rebinding: Resolver = async () =>
        calls++ === 0 ? [{ address: "93.184.216.34", family: 4 }] : [{ address: "127.0.0.1", family: 4 }];
      const g = new AddressOutboundGuard([], rebinding);
      const error = await g.fetch(`http://rebind.example:${target.port}/`, "webhook").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(String((error as Error).message)).toMatch(/refused: 127.0.0.1 is a loopback address/);
      expect(calls).toBe(2);
      expect(target.hits()).toBe(0);
    } finally {
      await target.close();
    }
  });

  it("never follows a redirect into the private network", async () => {
    const target = await listener((res) => {
      res.statusCode = 302;
      res.setHeader("location", "http://169.254.169.254/latest/meta-data/");
      res.end();
    });
    try {
      const g = new AddressOutboundGuard(["127.0.0.1"]);
      const res = await g.fetch(`http://127.0.0.1:${target.port}/hook`, "alert receiver", {
        method: "POST",
        body: "{}",
      });
      expect(res.status).toBe(302);
      expect(res.headers.get("location")).toContain("169.254.169.254");
      expect(target.hits()).toBe(1);
    } finally {
      await target.close();
    }
  });

  it("reads whole answers through the same guard (refusal, rebinding, size limit)", async () => {
    const target = await listener((res) => res.end("x".repeat(2048)));
    try {
      const refused = await new AddressOutboundGuard()
        .fetchBuffered(`http://127.0.0.1:${target.port}/`, "LLM upstream")
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ForbiddenError);
      let calls = 0;
      const rebinding: Resolver = async () =>
        calls++ === 0 ? [{ address: "93.184.216.34", family: 4 }] : [{ address: "127.0.0.1", family: 4 }];
      const rebound = await new AddressOutboundGuard([], rebinding)
        .fetchBuffered(`http://rebind.example:${target.port}/`, "LLM upstream")
        .catch((e: unknown) => e);
      expect(String((rebound as Error).message)).toMatch(/refused: 127.0.0.1 is a loopback address/);
      expect(target.hits()).toBe(0);

      const g = new AddressOutboundGuard(["127.0.0.1"]);
      const answer = await g.fetchBuffered(`http://127.0.0.1:${target.port}/`, "LLM upstream", {
        method: "POST",
        body: "{}",
      });
      expect(answer.status).toBe(200);
      expect(answer.body.length).toBe(2048);
      const tooLarge = await g
        .fetchBuffered(`http://127.0.0.1:${target.port}/`, "LLM upstream", { maxBytes: 1000 })
        .catch((e: unknown) => e);
      expect(String((tooLarge as Error).message)).toContain("larger than 1000 bytes");
      expect(target.hits()).toBe(2);
    } finally {
      await target.close();
    }
  });
});

describe("alert receivers over HTTP", () => {
  let guarded: TestServer;
  let allowed: TestServer;
  let receiver: Awaited<ReturnType<typeof listener>>;
  beforeAll(async () => {
    receiver = await listener((res) => res.end());
    guarded = await startTestServer();
    allowed = await startTestServer({ env: { TANDEM_OUTBOUND_ALLOW: "127.0.0.1" } });
  });
  afterAll(async () => {
    await guarded.stop();
    await allowed.stop();
    await receiver.close();
  });

  it("refuses a loopback receiver with 403 unless the admin allowed loopback", async () => {
    const url = `http://127.0.0.1:${receiver.port}/hook`;
    const refused = await guarded.api<{ error: { code: string; message: string } }>(
      "POST",
      "/api/v1/projects/default/alert-receivers",
      { url },
    );
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(
      /alert receiver .*127\.0\.0\.1 is a loopback address.*TANDEM_OUTBOUND_ALLOW/,
    );
    const listed = await guarded.api<{ receivers: unknown[] }>("GET", "/api/v1/projects/default/alert-receivers");
    expect(listed.body.receivers).toEqual([]);

    const ok = await allowed.api<{ id: string }>("POST", "/api/v1/projects/default/alert-receivers", { url });
    expect(ok.status).toBe(201);
    const fired = await allowed.api("POST", "/api/v1/projects/default/alerts", {
      alerts: [{ status: "firing", labels: { alertname: "Probe" } }],
    });
    expect(fired.status).toBe(200);
    await allowed.server.opened.services.alerts.deliverDue();
    expect(receiver.hits()).toBe(1);
  });
});
