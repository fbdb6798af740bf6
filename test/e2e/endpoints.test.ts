/**
 * Endpoints page against a real server with real onnxruntime models: the traffic split and versions
 * the page shows are the API's, and rolling back from the page moves traffic back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { linearClassifierOnnx } from "../helpers/onnx-models.js";
import { predict, registerOnnx, setAlias, settle, startServingServer } from "../serving/helpers.js";
import { checkPage, ensureWebBuilt, openBrowser, signIn, type Browser } from "./browser.js";

const FEATURES = ["tenure", "charges", "calls"];
const model = (w: number[]) =>
  linearClassifierOnnx({ features: FEATURES, weights: w, bias: 0, classLabels: ["stay", "churn"] });

interface Endpoint {
  primary_version: number | null;
  canary_version: number | null;
  canary: { percent: number } | null;
  status: string;
  deployments: Array<{ id: string; version: number | null }>;
  events: Array<{ id: string }>;
  canary_judgement: {
    verdict: string;
    canary_requests: number;
    primary_requests: number;
    slos: Array<{ slo: string; p_value: number; canary_requests: number; primary_requests: number }>;
  } | null;
}

describe("Endpoints page (e2e, Chromium)", () => {
  let t: Awaited<ReturnType<typeof startServingServer>>;
  let browser: Browser;
  const P = "default";

  beforeAll(async () => {
    ensureWebBuilt();
    t = await startServingServer();
    await registerOnnx(t.services, P, "churn", model([0.5, -0.2, 0.1]));
    await registerOnnx(t.services, P, "churn", model([-0.5, 0.2, 0.3]));
    await registerOnnx(t.services, P, "churn", model([0.1, 0.1, 0.1]));
    await setAlias(t.services, P, "churn", 1, "champion");
    await setAlias(t.services, P, "churn", 3, "challenger");
    await t.api("PUT", `/api/v1/projects/${P}/endpoints/churn`, {
      model: "churn@champion",
      canary: { selector: "challenger", percent: 20 },
      // A small minimum so the page has a judged canary to show after 30 requests.
      slo: { min_requests: 3 },
    });
    await settle(t.services);
    await setAlias(t.services, P, "churn", 2, "champion");
    await settle(t.services);
    for (let i = 0; i < 30; i++)
      await predict(t, P, "churn", [{ tenure: i, charges: 1, calls: 2 }], { "x-tandem-routing-key": `k${i}` });
    await settle(t.services);
    browser = await openBrowser();
    browser.page.on("dialog", (d) => void d.accept());
    await signIn(browser.page, t.url, t.adminToken);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  const endpoint = async () => (await t.api<Endpoint>("GET", `/api/v1/projects/${P}/endpoints/churn`)).body;

  it("lists endpoints and shows the traffic split and versions the API reports", async () => {
    const { page } = browser;
    await page.getByRole("link", { name: "Endpoints" }).click();
    await page.getByTestId("endpoints-table").waitFor();
    expect(await checkPage(page, "endpoints")).toEqual([]);
    await page.getByRole("link", { name: "churn", exact: true }).click();
    await page.getByTestId("endpoint-primary").waitFor();
    const api = await endpoint();
    await expect(page.getByTestId("endpoint-primary").textContent()).resolves.toBe(String(api.primary_version));
    await expect(page.getByTestId("endpoint-status").textContent()).resolves.toBe(api.status);
    const canaryPercent = api.canary && api.canary_version !== null ? api.canary.percent : 0;
    await expect(page.getByTestId("traffic-split").locator('[data-slot="primary"] strong').textContent()).resolves.toBe(
      `${100 - canaryPercent}%`,
    );
    if (canaryPercent > 0) {
      await expect(
        page.getByTestId("traffic-split").locator('[data-slot="canary"] strong').textContent(),
      ).resolves.toBe(`${canaryPercent}%`);
    }
    const shownDeployments = await page
      .getByTestId("endpoint-deployments")
      .locator("tbody tr")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-key")));
    expect(shownDeployments).toEqual(api.deployments.map((d) => d.id));
    // The canary judge's table: one row per SLO with the API's sample sizes and p-values.
    const judged = api.canary_judgement!;
    expect(judged.verdict).toBe("healthy");
    const rows = await page
      .getByTestId("canary-slos")
      .locator("tbody tr")
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));
    expect(rows.map((r) => [r[3], r[4]])).toEqual(
      judged.slos.map((j) => [
        `${j.canary_requests} / ${j.primary_requests}`,
        j.p_value < 0.001 ? j.p_value.toExponential(1) : j.p_value.toFixed(3),
      ]),
    );
    await expect(page.getByTestId("canary-judgement").textContent()).resolves.toContain(
      `${judged.canary_requests} canary and ${judged.primary_requests} primary requests`,
    );
    expect(await checkPage(page, "endpoint")).toEqual([]);
  });

  it("promotes the rolling-out canary, then rolls back: traffic follows, as the API says", async () => {
    const { page } = browser;
    const before = await endpoint();
    expect(before.canary_version).not.toBeNull();
    await page.getByRole("button", { name: "Promote canary" }).click();
    await page.getByTestId("endpoint-message").waitFor();
    const promoted = await endpoint();
    expect(promoted.primary_version).toBe(before.canary_version);
    await expect.poll(() => page.getByTestId("endpoint-primary").textContent()).toBe(String(promoted.primary_version));

    await page.getByRole("button", { name: "Roll back" }).click();
    await expect.poll(() => page.getByTestId("endpoint-message").textContent()).toMatch(/^Rolled back/);
    const rolledBack = await endpoint();
    expect(rolledBack.primary_version).toBe(before.primary_version);
    await expect
      .poll(() => page.getByTestId("endpoint-primary").textContent())
      .toBe(String(rolledBack.primary_version));
    await expect(page.getByTestId("endpoint-message").textContent()).resolves.toBe(
      `Rolled back from v${promoted.primary_version} to v${rolledBack.primary_version}.`,
    );
    expect(await checkPage(page, "endpoint-rolled-back")).toEqual([]);
    expect(browser.errors).toEqual([]);
  });

  it("offers a viewer no rollback or promote, and the server refuses them anyway", async () => {
    await t.api("POST", "/api/v1/users", { name: "val" });
    await t.api("PUT", `/api/v1/projects/${P}/members/val`, { role: "viewer" });
    const token = (await t.api<{ token: string }>("POST", "/api/v1/tokens", { name: "val", user: "val" })).body.token;
    const viewer = await openBrowser();
    try {
      await signIn(viewer.page, t.url, token);
      await viewer.page.goto(`${t.url}/p/${P}/endpoints/churn`);
      await viewer.page.getByTestId("endpoint-primary").waitFor();
      await expect.poll(() => viewer.page.getByTestId("who").textContent()).toBe("val · viewer");
      expect(await viewer.page.getByRole("button", { name: "Roll back" }).count()).toBe(0);
      expect(await viewer.page.getByRole("button", { name: "Promote canary" }).count()).toBe(0);
      expect((await t.api("POST", `/api/v1/projects/${P}/endpoints/churn/rollback`, undefined, token)).status).toBe(
        403,
      );
      expect(viewer.errors).toEqual([]);
    } finally {
      await viewer.close();
    }
  });
});
