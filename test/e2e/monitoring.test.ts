/**
 * Monitoring pages against a real server: an endpoint serving a real ONNX model gets traffic and
 * feedback through the public routes, first like its reference data and then shifted; the monitor's
 * drift statistic over time, per-feature reference vs current histograms, performance and fairness
 * by group and the alert appear with the numbers the API reports.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { linearClassifierOnnx } from "../helpers/onnx-models.js";
import { registerOnnx, setAlias, settle, startServingServer } from "../serving/helpers.js";
import { formatNumber } from "../../web/src/lib/format.js";
import { formatPerWeek, type DoraWire } from "../../web/src/api/portal.js";
import { checkPage, ensureWebBuilt, openBrowser, signIn, type Browser } from "./browser.js";

const P = "/api/v1/projects/default";
const FEATURES = ["distance", "hour", "segment"];
/** The monitor's window; traffic phases are this far apart so each window holds one phase. */
const WINDOW_MS = 2000;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function row(r: () => number, shift: number) {
  // The shifted traffic flies longer and later in the day: two of three features drift.
  return {
    distance: 200 + r() * 1800 + shift,
    hour: shift ? 18 + Math.floor(r() * 6) : Math.floor(r() * 24),
    segment: Math.floor(r() * 3),
  };
}

interface Result {
  id: string;
  status: string;
  rows: number;
  window_end: number;
  checks: Array<{
    check: string;
    passed: boolean;
    details: { columns?: Array<{ name: string; statistic: number; drift: boolean }> };
  }>;
}

describe("Monitoring pages (e2e, Chromium)", () => {
  let t: Awaited<ReturnType<typeof startServingServer>>;
  let browser: Browser;
  /** A stand-in for Alertmanager's webhook receiver: it keeps the notifications Tandem sends it. */
  let receiver: Server;
  const notifications: Array<{ alerts: Array<{ generatorURL: string; labels: Record<string, string> }> }> = [];

  async function traffic(seed: number, shift: number, n: number): Promise<void> {
    const r = rng(seed);
    for (let batch = 0; batch < n / 100; batch++) {
      const instances = Array.from({ length: 100 }, () => row(r, shift));
      const res = await t.api<{ prediction_ids: string[]; predictions: Array<{ label: string }> }>(
        "POST",
        "/v1/endpoints/flights/predict",
        { instances },
      );
      expect(res.status).toBe(200);
      const feedback = res.body.prediction_ids.map((id, i) => ({
        prediction_id: id,
        label: r() < 0.8 ? res.body.predictions[i]!.label : "0",
      }));
      expect((await t.api("POST", "/v1/endpoints/flights/feedback", feedback)).status).toBe(200);
    }
    await settle(t.services);
  }

  beforeAll(async () => {
    ensureWebBuilt();
    // The receiver listens on loopback, which the outbound (SSRF) guard refuses unless allowed.
    t = await startServingServer({ env: { TANDEM_OUTBOUND_ALLOW: "127.0.0.1" } });
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        notifications.push(JSON.parse(body) as (typeof notifications)[number]);
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    expect((await t.api("POST", `${P}/alert-receivers`, { url: receiverUrl })).status).toBe(201);
    const r = rng(1);
    const lines = ["distance,hour,segment,target"];
    for (let i = 0; i < 2000; i++) {
      const x = row(r, 0);
      lines.push(`${x.distance.toFixed(2)},${x.hour},${x.segment},${r() < 0.3 ? 1 : 0}`);
    }
    const blob = await fetch(`${t.url}${P}/datasets/flights-ref/blobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "application/octet-stream" },
      body: lines.join("\n") + "\n",
    });
    const { sha256, size } = (await blob.json()) as { sha256: string; size: number };
    await t.api("POST", `${P}/datasets/flights-ref/versions`, {
      entries: [{ path: "flights.csv", sha256, size }],
      kind: "file",
    });
    await registerOnnx(
      t.services,
      "default",
      "flights-delay",
      linearClassifierOnnx({ features: FEATURES, weights: [0.001, 0.05, 0.2], bias: -1.5, classLabels: ["0", "1"] }),
    );
    await setAlias(t.services, "default", "flights-delay", 1, "champion");
    expect((await t.api("PUT", `${P}/endpoints/flights`, { model: "flights-delay@champion" })).status).toBe(200);
    await settle(t.services);
    const put = await t.api("PUT", `${P}/monitors/flights-drift`, {
      endpoint: "flights",
      window: `${WINDOW_MS / 1000}s`,
      reference: "dataset://flights-ref@latest",
      checks: [
        "data_drift",
        { performance: { metric: "accuracy", min: 0.5 } },
        { fairness: { attribute: "segment", metric: "demographic_parity_difference", max: 0.95 } },
        { latency: { p95_ms: 5000 } },
        { error_rate: { max: 0.5 } },
      ],
    });
    expect(put.status).toBe(200);

    await traffic(2, 0, 300);
    await t.api("POST", `${P}/monitors/flights-drift/run`, { window_end: Date.now() + 1 });
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS + 200));
    await traffic(3, 1500, 300);
    await t.api("POST", `${P}/monitors/flights-drift/run`, { window_end: Date.now() + 1 });

    browser = await openBrowser();
    await signIn(browser.page, t.url, t.adminToken);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    receiver?.close();
  });

  const results = async () =>
    (await t.api<{ results: Result[] }>("GET", `${P}/monitors/flights-drift/results?limit=200`)).body.results;

  it("lists the monitor and its firing drift alert", async () => {
    const { page } = browser;
    await page.getByRole("link", { name: "Monitoring" }).click();
    await page.getByTestId("monitors-table").waitFor();
    const api = await results();
    expect(api.map((r) => r.status)).toEqual(["failing", "ok"]);
    await expect(page.getByTestId("monitors-table").locator("td[data-col=status]").first().textContent()).resolves.toBe(
      api[0]!.status,
    );
    const alerts = await t.api<{ alerts: Array<{ name: string; status: string }> }>("GET", `${P}/alerts`);
    expect(alerts.body.alerts.length).toBeGreaterThan(0);
    const shown = await page.getByTestId("alerts-table").locator("td[data-col=status]").allTextContents();
    expect(shown).toEqual(alerts.body.alerts.map((a) => a.status));
    expect(await checkPage(page, "monitoring")).toEqual([]);
  });

  it("sends Alertmanager notifications whose generatorURL opens the alert in the UI", async () => {
    await t.services.alerts.deliverDue();
    const firing = notifications.flatMap((n) => n.alerts).find((a) => a.labels.alertname === "flights-drift");
    expect(firing).toBeDefined();
    const alerts = await t.api<{ alerts: Array<{ id: string; name: string; annotations: { summary: string } }> }>(
      "GET",
      `${P}/alerts?status=firing`,
    );
    const alert = alerts.body.alerts.find((a) => a.name === "flights-drift")!;
    expect(firing!.generatorURL).toBe(`${t.url}/p/default/alerts/${alert.id}`);
    const { page } = browser;
    await page.goto(firing!.generatorURL);
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("Alert flights-drift firing");
    await expect(page.getByTestId("alert-summary").textContent()).resolves.toBe(alert.annotations.summary);
    await expect(
      page.getByTestId("alert-deliveries-table").locator("td[data-col=status]").allTextContents(),
    ).resolves.toContain("delivered");
    // No pipeline here has `triggers: [alert: flights-drift]`: the page says so, as the API does.
    const detail = await t.api<{ triggered_runs: unknown[]; triggered_at: number | null }>(
      "GET",
      `${P}/alerts/${alert.id}`,
    );
    expect(detail.body.triggered_runs).toEqual([]);
    await expect(page.locator("#alert-runs").textContent()).resolves.toContain(
      detail.body.triggered_at ? "No pipeline's triggers name this alert." : "The alert's triggers have not run yet.",
    );
    await page.getByRole("link", { name: "monitor flights-drift" }).click();
    await page.getByTestId("drift-chart").waitFor();
    expect(await checkPage(page, "alert")).toEqual([]);
  });

  it("draws the drift statistic over time and the shifted window's histograms, with the API's numbers", async () => {
    const { page } = browser;
    await page.goto(`${t.url}/p/default/monitoring/flights-drift`);
    await page.getByTestId("drift-chart").locator("canvas").waitFor();
    const api = await results();
    const statuses = await page.getByTestId("results-table").locator("td[data-col=status]").allTextContents();
    expect(statuses).toEqual(api.map((r) => r.status));
    const drift = api[0]!.checks.find((c) => c.check === "data_drift")!.details.columns!;
    expect(drift.find((c) => c.name === "distance")!.drift).toBe(true);
    for (const c of drift) {
      await expect(
        page.getByTestId("drift-columns").locator(`tr[data-key="${c.name}"] td[data-col=statistic]`).textContent(),
      ).resolves.toBe(formatNumber(c.statistic));
    }
    // The chart's data table holds one point per window per feature.
    await expect(page.getByTestId("drift-chart").locator(".sr-only table tbody tr").count()).resolves.toBe(
      api.length * drift.length,
    );
    await page.getByTestId("drift-histogram").locator("canvas").waitFor();
    await page.getByTestId("fairness-groups").waitFor();
    await expect(page.getByTestId("fairness-groups").locator("tbody tr").count()).resolves.toBe(3);
    expect(await checkPage(page, "monitor")).toEqual([]);
    expect(browser.errors).toEqual([]);
  });

  it("shows the endpoint's request rate, latency and errors over time from the monitor's windows", async () => {
    const { page } = browser;
    await page.goto(`${t.url}/p/default/endpoints/flights`);
    await page.getByTestId("endpoint-rate").locator("canvas").waitFor();
    const api = await results();
    const rates = await page
      .getByTestId("endpoint-rate")
      .locator(".sr-only table tbody tr td:last-child")
      .allTextContents();
    expect(rates.map(Number)).toEqual([...api].reverse().map((r) => r.rows / (WINDOW_MS / 1000)));
    // The drawn time axis spans exactly the windows' ends (ms, as the API gives them).
    const axis = page.getByTestId("endpoint-rate");
    await expect.poll(() => axis.getAttribute("data-x-min")).toBe(String(Math.min(...api.map((r) => r.window_end))));
    await expect(axis.getAttribute("data-x-max")).resolves.toBe(String(Math.max(...api.map((r) => r.window_end))));
    await page.getByTestId("endpoint-latency").locator("canvas").waitFor();
    await page.getByTestId("endpoint-errors").locator("canvas").waitFor();
    expect(await checkPage(page, "endpoint-traffic")).toEqual([]);
  });

  it("sums it up on the Overview, and finds everything in the Catalog", async () => {
    const { page } = browser;
    await page.getByRole("link", { name: "Overview" }).click();
    const endpoints = await t.api<{ endpoints: unknown[] }>("GET", `${P}/endpoints`);
    const firing = await t.api<{ alerts: unknown[] }>("GET", `${P}/alerts?status=firing`);
    await expect
      .poll(() => page.getByTestId("stat-endpoints").textContent())
      .toBe(String(endpoints.body.endpoints.length));
    await expect.poll(() => page.getByTestId("stat-alerts").textContent()).toBe(String(firing.body.alerts.length));
    // DORA's deployment frequency over 28 days: one definition with /dora (canary slots not counted).
    const dora = await t.api<DoraWire>("GET", `${P}/dora?since=28d`);
    await expect
      .poll(() => page.getByTestId("stat-deploy-frequency").textContent())
      .toBe(formatPerWeek(dora.body.groups.all.deployment_frequency.per_week));
    const maturity = await t.api<{ level: number; passed: number; total: number }>("GET", `${P}/maturity`);
    await expect.poll(() => page.getByTestId("stat-maturity").textContent()).toBe(String(maturity.body.level));
    await expect
      .poll(() => page.getByTestId("overview-maturity").textContent())
      .toContain(`(${maturity.body.passed}/${maturity.body.total} criteria met`);
    expect(await checkPage(page, "overview-live")).toEqual([]);

    await page.getByRole("link", { name: "Catalog" }).click();
    await page.getByTestId("catalog-table").locator("tbody tr").first().waitFor();
    await expect
      .poll(() =>
        page
          .getByTestId("catalog-table")
          .locator("tbody tr")
          .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-key"))),
      )
      .toEqual(expect.arrayContaining(["dataset:flights-ref", "model:flights-delay", "endpoint:flights"]));
    await page.getByTestId("catalog-search").fill("flights-delay");
    await page.getByRole("button", { name: "Search" }).click();
    await expect
      .poll(() =>
        page
          .getByTestId("catalog-table")
          .locator("tbody tr")
          .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-key"))),
      )
      .toEqual(["model:flights-delay", "endpoint:flights"]);
    expect(await checkPage(page, "catalog")).toEqual([]);
    expect(browser.errors).toEqual([]);
  });

  it("draws a lone window on a two-hour axis around it, not years away (issue 21)", async () => {
    const { page } = browser;
    const end = Date.UTC(2026, 2, 1, 12, 0, 0);
    expect((await t.api("PUT", `${P}/endpoints/solo`, { model: "flights-delay@champion" })).status).toBe(200);
    const put = await t.api("PUT", `${P}/monitors/solo-watch`, {
      endpoint: "solo",
      window: "600s",
      checks: [{ latency: { p95_ms: 5000 } }],
    });
    expect(put.status).toBe(200);
    expect((await t.api("POST", `${P}/monitors/solo-watch/run`, { window_end: end })).status).toBe(200);
    await page.goto(`${t.url}/p/default/endpoints/solo`);
    const axis = page.getByTestId("endpoint-rate");
    await axis.locator("canvas").waitFor();
    await expect(axis.locator(".sr-only table tbody tr td:nth-child(2)").allTextContents()).resolves.toEqual([
      "2026-03-01T12:00:00.000Z",
    ]);
    await expect.poll(() => axis.getAttribute("data-x-min")).toBe(String(Date.UTC(2026, 2, 1, 11)));
    await expect(axis.getAttribute("data-x-max")).resolves.toBe(String(Date.UTC(2026, 2, 1, 13)));
    expect(await checkPage(page, "endpoint-lone-window")).toEqual([]);
    expect(browser.errors).toEqual([]);
  });
});
