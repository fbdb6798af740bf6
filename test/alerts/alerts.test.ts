import { createServer, type Server } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLog } from "../../src/core/governance/audit.js";
import type { Alert } from "../../src/core/monitoring/alerts/model.js";
import { AlertService, MAX_DELIVERY_ATTEMPTS } from "../../src/core/monitoring/alerts/service.js";
import { FileAuditHeadKeeper } from "../../src/stores/files/audit-head-file.js";
import { FetchWebhookSender } from "../../src/stores/http/webhook-sender.js";
import { AddressOutboundGuard } from "../../src/stores/http/outbound-guard.js";
import { SqlAlertStore } from "../../src/stores/metadata/alert-store.js";
import { SqlAuditStore } from "../../src/stores/metadata/audit-store.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { describeStores } from "../helpers/stores.js";

/** A real HTTP receiver that answers with the statuses given, in order, then 200. */
async function startReceiver(statuses: number[]) {
  const received: Array<{
    body: { status: string; alerts: Array<{ labels: Record<string, string> }> };
    auth?: string;
  }> = [];
  const server: Server = createServer((req, res) => {
    let data = "";
    req.on("data", (c) => (data += c));
    req.on("end", () => {
      received.push({ body: JSON.parse(data), auth: req.headers.authorization });
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}/hook`, received, close: () => new Promise((r) => server.close(r)) };
}

describeStores("alert service", (getStore) => {
  function makeService() {
    const audit = new AuditLog(
      new SqlAuditStore(getStore()),
      new FileAuditHeadKeeper(join(mkdtempSync(join(tmpdir(), "tandem-al-")), "head")),
    );
    // The receivers below listen on loopback, which the SSRF guard refuses unless allowed.
    const outbound = new AddressOutboundGuard(["127.0.0.1"]);
    const service = new AlertService({
      metadata: getStore(),
      store: new SqlAlertStore(getStore()),
      audit,
      sender: new FetchWebhookSender(outbound, 2000),
      outbound,
      externalUrl: () => "http://tandem.test",
    });
    const fired: Alert[] = [];
    service.triggerSink = { alertFired: async (a) => void fired.push(a) };
    return { service, fired };
  }

  it("deduplicates by fingerprint, resolves, and starts triggers once per alert", async () => {
    const { service, fired } = makeService();
    const report = {
      project: "p1",
      name: "flights-drift",
      source: "monitor" as const,
      status: "firing" as const,
      labels: { monitor: "m" },
    };
    const first = await service.report("system", { ...report, evidence: { share: 0.6 } });
    const second = await service.report("system", { ...report, evidence: { share: 0.7 } });
    expect(first.opened).toBe(true);
    expect(second.opened).toBe(false);
    expect(second.alert!.id).toBe(first.alert!.id);
    expect(second.alert!.fireCount).toBe(2);
    expect(fired.map((a) => a.id)).toEqual([first.alert!.id]);
    expect((await service.get("p1", first.alert!.id)).triggeredAt).not.toBeNull();
    expect(second.alert!.resolution).toBeNull();
    const resolved = await service.report("system", { ...report, status: "resolved", evidence: { share: 0.1 } });
    expect(resolved.alert!.status).toBe("resolved");
    // What fired it stays (the latest firing report's evidence); what resolved it is kept beside it.
    const stored = await service.get("p1", first.alert!.id);
    expect(stored.evidence).toEqual({ share: 0.7 });
    expect(stored.resolution).toEqual({ share: 0.1 });
    const reopened = await service.report("system", report);
    expect(reopened.opened).toBe(true);
    expect(reopened.alert!.id).not.toBe(first.alert!.id);
    expect(await service.list("p1", { status: "firing" })).toHaveLength(1);
  });

  it("sweeps alerts whose triggers never started (a crash between firing and starting)", async () => {
    const { service, fired } = makeService();
    service.triggerSink = null;
    const { alert } = await service.report("system", {
      project: "p2",
      name: "lost",
      source: "monitor",
      status: "firing",
    });
    expect(alert!.triggeredAt).toBeNull();
    service.triggerSink = { alertFired: async (a) => void fired.push(a) };
    const swept: Alert[] = [];
    expect(await service.sweepUntriggered(swept)).toBeGreaterThanOrEqual(1);
    expect(fired.map((a) => a.id)).toContain(alert!.id);
    // The loop logs each swept alert by id.
    expect(swept.map((a) => a.id)).toContain(alert!.id);
    expect(await service.sweepUntriggered()).toBe(0);
  });

  it("delivers Alertmanager webhooks with retries and backoff, and records each attempt", async () => {
    const { service } = makeService();
    const receiver = await startReceiver([500, 503]);
    try {
      await service.addReceiver("admin", "p3", receiver.url, "s3cret");
      const { alert } = await service.report("system", {
        project: "p3",
        name: "latency",
        source: "serving",
        status: "firing",
        severity: "critical",
      });
      let now = Date.now();
      for (let i = 0; i < 3; i++) {
        await service.deliverDue(now);
        now += 60_000;
      }
      const deliveries = await service.deliveries(alert!.id);
      expect(deliveries).toHaveLength(1);
      expect(deliveries[0]).toMatchObject({ status: "delivered", attempts: 3 });
      expect(receiver.received).toHaveLength(3);
      expect(receiver.received[2]!.auth).toBe("Bearer s3cret");
      expect(receiver.received[2]!.body.status).toBe("firing");
      expect(receiver.received[2]!.body.alerts[0]!.labels).toMatchObject({
        alertname: "latency",
        severity: "critical",
        project: "p3",
      });
    } finally {
      await receiver.close();
    }
  });

  it("gives up on a receiver after the maximum attempts", async () => {
    const { service } = makeService();
    await service.addReceiver("admin", "p4", "http://127.0.0.1:9/unreachable", null);
    const { alert } = await service.report("system", { project: "p4", name: "x", source: "manual", status: "firing" });
    let now = Date.now();
    for (let i = 0; i < MAX_DELIVERY_ATTEMPTS + 2; i++) {
      await service.deliverDue(now);
      now += 10 * 60_000;
    }
    const [delivery] = await service.deliveries(alert!.id);
    expect(delivery).toMatchObject({ status: "failed", attempts: MAX_DELIVERY_ATTEMPTS });
    expect(delivery!.lastError).toBeTruthy();
  });
});

describe("alerts over HTTP", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.stop();
  });

  it("accepts Alertmanager's webhook payload, lists, shows, acks, and exposes a gauge", async () => {
    const payload = {
      version: "4",
      status: "firing",
      receiver: "tandem",
      alerts: [
        {
          status: "firing",
          labels: { alertname: "HighErrorRate", severity: "critical", service: "api" },
          annotations: { summary: "5xx > 5%" },
          startsAt: new Date().toISOString(),
        },
      ],
    };
    const posted = await t.api<{ opened: number; alerts: Array<{ id: string }> }>(
      "POST",
      "/api/v1/projects/default/alerts",
      payload,
    );
    expect(posted.status).toBe(200);
    expect(posted.body.opened).toBe(1);
    const id = posted.body.alerts[0]!.id;
    const list = await t.api<{
      alerts: Array<{ id: string; name: string; status: string; labels: Record<string, string> }>;
    }>("GET", "/api/v1/projects/default/alerts?status=firing");
    expect(list.body.alerts.find((a) => a.id === id)).toMatchObject({
      name: "HighErrorRate",
      status: "firing",
      labels: { service: "api" },
    });
    const acked = await t.api<{ acked_by: string }>("POST", `/api/v1/projects/default/alerts/${id}/ack`, {
      comment: "looking",
    });
    expect(acked.body.acked_by).toBe("admin");
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(
      /tandem_alerts_firing\{project="default",alertname="HighErrorRate",severity="critical"\} 1/,
    );
    const bad = await t.api<{ error: { code: string } }>("POST", "/api/v1/projects/default/alerts", { alerts: [] });
    expect(bad.status).toBe(400);
  });

  it("starts the pipelines whose triggers name a firing alert, once per alert (the closed loop)", async () => {
    const workspace = mkdtempSync(join(tmpdir(), "tandem-loop-"));
    const source = [
      "project: default",
      "pipelines:",
      "  retrain:",
      "    triggers:",
      "      - alert: LoopAlert",
      "    steps:",
      "      hello:",
      "        run: |",
      "          echo retraining",
      "",
    ].join("\n");
    const applied = await t.api("POST", "/api/v1/projects/default/specs", { source, workspace });
    expect(applied.status).toBe(201);
    const payload = { alerts: [{ status: "firing", labels: { alertname: "LoopAlert" } }] };
    const first = await t.api<{ alerts: Array<{ id: string }> }>("POST", "/api/v1/projects/default/alerts", payload);
    // The same condition reported again is the same alert: no second run.
    await t.api("POST", "/api/v1/projects/default/alerts", payload);
    type Run = { id: string; pipeline: string; status: string; trigger: Record<string, unknown> };
    let runs: Run[] = [];
    for (let i = 0; i < 100; i++) {
      runs = (await t.api<{ runs: Run[] }>("GET", "/api/v1/projects/default/pipeline-runs")).body.runs.filter(
        (r) => r.pipeline === "retrain",
      );
      if (runs.length && runs.every((r) => r.status === "succeeded")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(runs).toHaveLength(1);
    expect(runs[0]!.status).toBe("succeeded");
    expect(JSON.stringify(runs[0]!.trigger)).toContain("LoopAlert");
    const alert = await t.api<{ triggered_at: number | null; triggered_runs: unknown[] }>(
      "GET",
      `/api/v1/projects/default/alerts/${first.body.alerts[0]!.id}`,
    );
    expect(alert.body.triggered_at).not.toBeNull();
    // The alert names the run it started (kept with the event key, in the run's own transaction).
    expect(alert.body.triggered_runs).toEqual([{ pipeline: "retrain", run_id: runs[0]!.id }]);
  });
});
