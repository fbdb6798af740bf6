/**
 * The DORA page and the role-aware Overview against a real server with real onnxruntime models: an
 * endpoint with a canary (so the deployment records hold a canary slot, which DORA does not count),
 * service deployments CI recorded, a firing alert, a policy change and a promotion held for approval.
 * Every figure the pages print is compared with the API's, printed by the same functions; each page
 * passes axe and fits 375 px. The Overview's first view follows the caller's role (viewer → summary,
 * member → operations, approver → governance) and the buttons switch it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AlertWire } from "../../web/src/api/monitoring.js";
import { formatPerWeek, type DoraGroup, type DoraWire } from "../../web/src/api/portal.js";
import type { EndpointWire } from "../../web/src/api/serving.js";
import { doraFigure } from "../../web/src/lib/dora-format.js";
import { formatDuration, formatPercent } from "../../web/src/lib/format.js";
import { incidentsSince, modelsInProduction } from "../../web/src/pages/overview-views.js";
import { linearClassifierOnnx } from "../helpers/onnx-models.js";
import { predict, registerOnnx, setAlias, settle, startServingServer } from "../serving/helpers.js";
import { checkPage, ensureWebBuilt, openBrowser, signIn, type Browser } from "./browser.js";

const FEATURES = ["tenure", "charges", "calls"];
const model = (w: number[]) =>
  linearClassifierOnnx({ features: FEATURES, weights: w, bias: 0, classLabels: ["stay", "churn"] });
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const P = "default";
const A = `/api/v1/projects/${P}`;

describe("DORA page and role-aware Overview (e2e, Chromium)", () => {
  let t: Awaited<ReturnType<typeof startServingServer>>;
  let browser: Browser;
  const tokens: Record<"viewer" | "member" | "approver", string> = { viewer: "", member: "", approver: "" };

  beforeAll(async () => {
    ensureWebBuilt();
    t = await startServingServer();
    await registerOnnx(t.services, P, "churn", model([0.5, -0.2, 0.1]));
    await registerOnnx(t.services, P, "churn", model([-0.5, 0.2, 0.3]));
    await registerOnnx(t.services, P, "churn", model([0.1, 0.1, 0.1]));
    await setAlias(t.services, P, "churn", 1, "champion");
    await setAlias(t.services, P, "churn", 3, "challenger");
    // v1 deployed, v3 on a 20% canary slot (a check, not a deployment), then v2 deployed.
    await t.api("PUT", `${A}/endpoints/churn`, {
      model: "churn@champion",
      canary: { selector: "challenger", percent: 20 },
    });
    await settle(t.services);
    await setAlias(t.services, P, "churn", 2, "champion");
    await settle(t.services);
    await predict(t, P, "churn", [{ tenure: 1, charges: 1, calls: 2 }]);
    // Services as a CI records them: lead times 2 h and 30 min; a failed deploy fixed an hour later.
    const now = Date.now();
    const post = async (body: Record<string, unknown>) =>
      expect((await t.api("POST", `${A}/deployments`, { service: "api", ...body })).status).toBe(201);
    await post({ at: now - 40 * DAY, commit: "a1", commit_at: now - 40 * DAY - 2 * HOUR });
    await post({ at: now - 10 * DAY, commit: "a2", commit_at: now - 10 * DAY - 30 * 60_000, outcome: "failed" });
    await post({ at: now - 10 * DAY + HOUR, commit: "a3", commit_at: now - 10 * DAY + 30 * 60_000 });
    const fired = await t.api("POST", `${A}/alerts`, {
      alerts: [{ status: "firing", labels: { alertname: "ChurnDrift", severity: "warning" } }],
    });
    expect(fired.status).toBe(200);
    // A policy change, then a promotion it holds for an approver.
    const policies = await t.api("PUT", `${A}/policies`, {
      policies: { release: { require: [{ approvals: { role: "approver", count: 1, for_alias: "champion" } }] } },
    });
    expect(policies.status).toBe(200);
    expect((await t.api("PUT", `${A}/models/churn/aliases/champion`, { version: 3 })).status).toBe(409);
    for (const role of ["viewer", "member", "approver"] as const) {
      const user = `${role}-user`;
      await t.api("POST", "/api/v1/users", { name: user });
      expect((await t.api("PUT", `${A}/members/${user}`, { role })).status).toBe(200);
      tokens[role] = (await t.api<{ token: string }>("POST", "/api/v1/tokens", { name: user, user })).body.token;
    }
    browser = await openBrowser();
    await signIn(browser.page, t.url, t.adminToken);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  const dora = async (since: string) => (await t.api<DoraWire>("GET", `${A}/dora?since=${since}`)).body;
  const switchUser = async (token: string) => {
    const { page } = browser;
    await page.getByRole("button", { name: "Sign out" }).click();
    await signIn(page, t.url, token);
  };

  it("the DORA page shows the API's figures and bands per group, the report year, charts and definitions", async () => {
    const { page } = browser;
    const d = await dora("90d");
    expect(d.groups.model.deployments).toBeGreaterThan(0);
    expect(d.groups.service.deployments).toBe(3);
    await page.goto(`${t.url}/p/${P}/dora`);
    await page.getByTestId("dora-summary").waitFor();
    await expect(page.getByTestId("dora-source").textContent()).resolves.toContain(
      `DORA's ${d.report_year} Accelerate State of DevOps report`,
    );
    for (const g of ["all", "model", "service"] as DoraGroup[])
      for (const m of d.definitions) {
        const cell = page.getByTestId(`dora-${g}-${m.id}`);
        await expect(cell.textContent()).resolves.toContain(doraFigure(d.groups[g], m.id));
        await expect(cell.getAttribute("data-band")).resolves.toBe(d.groups[g][m.id].band ?? "");
      }
    // Services by hand: three deployments in 90 days, one of them failed.
    expect(doraFigure(d.groups.service, "change_fail_rate")).toBe("33.3333% (1)");
    await expect(page.locator("[data-definition]").count()).resolves.toBe(5);
    await expect(page.getByTestId("dora-bands").locator("tbody tr").count()).resolves.toBe(4);
    for (const m of d.definitions.filter((x) => x.bands))
      await expect(page.getByTestId("dora-bands").locator(`tr[data-key="${m.id}"]`).textContent()).resolves.toContain(
        m.bands!.elite,
      );
    for (const m of d.definitions) await page.getByTestId(`dora-chart-${m.id}`).waitFor();
    await expect(page.getByTestId("dora-deployments").locator("tbody tr").count()).resolves.toBe(d.deployments.length);
    expect(await checkPage(page, "dora")).toEqual([]);
    // A shorter period asks the API again, and the address keeps it.
    await page.getByTestId("dora-since").selectOption("28d");
    await expect.poll(() => new URL(page.url()).searchParams.get("since")).toBe("28d");
    const d28 = await dora("28d");
    await expect
      .poll(() => page.getByTestId("dora-all-deployment_frequency").textContent())
      .toContain(doraFigure(d28.groups.all, "deployment_frequency"));
  });

  it("the Overview's deployments/week is DORA's: canary slots are not deployments", async () => {
    const { page } = browser;
    const listed = await t.api<{ deployments: Array<{ reason: string; outcome: string; started_at: number }> }>(
      "GET",
      `${A}/deployments?limit=1000`,
    );
    const canarySlots = listed.body.deployments.filter((x) => /canary \d+%/.test(x.reason));
    expect(canarySlots.length).toBeGreaterThan(0);
    const d28 = await dora("28d");
    expect(d28.deployments.some((x) => /canary \d+%/.test(x.reason))).toBe(false);
    // What the Overview counted before (succeeded records, canary slots among them) differs.
    const old =
      listed.body.deployments.filter((x) => x.outcome === "succeeded" && x.started_at > Date.now() - 28 * DAY).length /
      4;
    expect(old).not.toBe(d28.groups.all.deployment_frequency.per_week);
    await page.goto(`${t.url}/p/${P}`);
    await expect
      .poll(() => page.getByTestId("stat-deploy-frequency").textContent())
      .toBe(formatPerWeek(d28.groups.all.deployment_frequency.per_week));
  });

  it("an approver first sees governance: pending approvals, policy changes, audit status", async () => {
    const { page } = browser;
    await switchUser(tokens.approver);
    await page.goto(`${t.url}/p/${P}`);
    await expect.poll(() => page.getByTestId("overview-view").textContent()).toContain("Governance view");
    const pending = (await t.api<{ requests: unknown[] }>("GET", `${A}/promotion-requests?status=pending`)).body;
    expect(pending.requests.length).toBe(1);
    await expect.poll(() => page.getByTestId("stat-pending-approvals").textContent()).toBe("1");
    await expect(page.getByTestId("overview-approvals").locator("tbody tr").textContent()).resolves.toContain(
      "churn v3",
    );
    const audit = (
      await t.api<{ events: Array<{ seq: number; action: string }> }>(
        "GET",
        `${A}/audit?limit=1000`,
        undefined,
        tokens.approver,
      )
    ).body.events;
    const changes = audit.filter((e) => e.action === "policy.change").length;
    await expect.poll(() => page.getByTestId("stat-policy-changes").textContent()).toBe(String(changes));
    await expect(page.getByTestId("overview-policies").locator("tbody tr").count()).resolves.toBe(changes);
    await expect(page.getByTestId("audit-latest").textContent()).resolves.toContain(`#${audit[0]!.seq}`);
    expect(await checkPage(page, "overview-governance")).toEqual([]);
  });

  it("a member first sees operations: endpoints with their SLOs and open alerts", async () => {
    const { page } = browser;
    await switchUser(tokens.member);
    await page.goto(`${t.url}/p/${P}`);
    await expect.poll(() => page.getByTestId("overview-view").textContent()).toContain("Operations view");
    const endpoints = (await t.api<{ endpoints: EndpointWire[] }>("GET", `${A}/endpoints`)).body.endpoints;
    const firing = (await t.api<{ alerts: AlertWire[] }>("GET", `${A}/alerts?status=firing`)).body.alerts;
    await expect.poll(() => page.getByTestId("overview-endpoints").locator("tbody tr").count()).toBe(endpoints.length);
    const row = page.getByTestId("overview-endpoints").locator('tr[data-key="churn"]');
    await expect(row.locator('[data-col="version"]').textContent()).resolves.toBe(`v${endpoints[0]!.primary_version}`);
    await expect(row.locator('[data-col="slo_p95"]').textContent()).resolves.toBe(
      String(endpoints[0]!.slo.max_p95_ratio),
    );
    await expect(page.getByTestId("overview-alerts").locator("tbody tr").count()).resolves.toBe(firing.length);
    expect(await checkPage(page, "overview-operations")).toEqual([]);
  });

  it("a viewer first sees the leaders' summary, and may switch view", async () => {
    const { page } = browser;
    await switchUser(tokens.viewer);
    await page.goto(`${t.url}/p/${P}`);
    await expect.poll(() => page.getByTestId("overview-view").textContent()).toContain("Summary view");
    const d = await dora("90d");
    const endpoints = (await t.api<{ endpoints: EndpointWire[] }>("GET", `${A}/endpoints`)).body.endpoints;
    const alerts = (await t.api<{ alerts: AlertWire[] }>("GET", `${A}/alerts?limit=1000`)).body.alerts;
    const maturity = (await t.api<{ level: number }>("GET", `${A}/maturity`)).body;
    await expect
      .poll(() => page.getByTestId("stat-models-in-production").textContent())
      .toBe(String(modelsInProduction(endpoints).length));
    await expect
      .poll(() => page.getByTestId("stat-incidents").textContent())
      .toBe(String(incidentsSince(alerts, d.until).length));
    expect(incidentsSince(alerts, d.until).length).toBe(1);
    await expect
      .poll(() => page.getByTestId("stat-lead-time").textContent())
      .toBe(formatDuration(d.groups.all.change_lead_time.median_ms));
    await expect(page.getByTestId("stat-maturity").textContent()).resolves.toBe(String(maturity.level));
    await expect
      .poll(() => page.getByTestId("stat-fail-rate").textContent())
      .toBe(formatPercent(d.groups.all.change_fail_rate.rate));
    await page.getByTestId("overview-trend-chart").waitFor();
    expect(await checkPage(page, "overview-summary")).toEqual([]);
    await page.getByRole("button", { name: "Activity" }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get("view")).toBe("activity");
    await page.getByTestId("overview-runs").waitFor();
    await expect(page.getByRole("button", { name: "Activity" }).getAttribute("aria-pressed")).resolves.toBe("true");
    expect(browser.errors).toEqual([]);
  });
});
