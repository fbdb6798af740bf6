/**
 * The API reference at /api/docs in real Chromium: it loads every operation of the server's own
 * OpenAPI document with its operationId, loads nothing from anywhere but this server, and its
 * "Try it out" calls the API with a bearer token.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { openBrowser, type Browser } from "./browser.js";

describe("API reference page (e2e, Chromium)", () => {
  let t: TestServer;
  let browser: Browser;
  const requested: string[] = [];

  beforeAll(async () => {
    t = await startTestServer();
    browser = await openBrowser();
    browser.page.on("request", (r) => requested.push(r.url()));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it("loads every operation with its operationId, grouped by area, from this server only", async () => {
    const { page } = browser;
    const doc = (
      await t.api<{ paths: Record<string, Record<string, { operationId: string; tags: string[] }>> }>(
        "GET",
        "/api/v1/openapi.json",
      )
    ).body;
    const operations = Object.values(doc.paths).flatMap((ops) => Object.values(ops));
    await page.goto(`${t.url}/api/docs`);
    await page.locator(".opblock-tag").first().waitFor();
    // Swagger UI's own model of the document: every operation, by its operationId.
    type SwaggerUi = { specSelectors: { operations(): { toJS(): Array<{ operation: { operationId: string } }> } } };
    const loaded = await page.evaluate(() =>
      (globalThis as unknown as { ui: SwaggerUi }).ui.specSelectors
        .operations()
        .toJS()
        .map((o) => o.operation.operationId),
    );
    expect(loaded.sort()).toEqual(operations.map((o) => o.operationId).sort());
    const tags = [...new Set(operations.flatMap((o) => o.tags))];
    await expect.poll(() => page.locator(".opblock-tag").count()).toBe(tags.length);
    await page.locator(".operation-filter-input").fill("tracking");
    await expect.poll(() => page.locator(".opblock-tag").allTextContents()).toEqual(["tracking"]);
    await page.locator(".opblock-tag").first().click();
    await expect
      .poll(() => page.locator(".opblock-summary-operation-id").allTextContents())
      .toEqual(expect.arrayContaining(["listRuns", "getRun", "createRun"]));
    expect(requested.filter((u) => !u.startsWith(t.url) && !u.startsWith("data:"))).toEqual([]);
    expect(browser.errors).toEqual([]);
  });

  it("tries an operation with a bearer token", async () => {
    const { page } = browser;
    // A deep link opens one operation (a fresh load: a changed hash alone does not).
    await page.goto("about:blank");
    await page.goto(`${t.url}/api/docs#/access/getWhoami`);
    const whoami = page.locator("#operations-access-getWhoami");
    await whoami.waitFor();
    await page.locator(".auth-wrapper button.authorize").click();
    // The first scheme is the bearer token (the second, webhooks' signature header, stays empty).
    const bearer = page.locator(".modal-ux .auth-container").first();
    await bearer.locator("input").fill(t.adminToken);
    await bearer.locator("button.authorize").click();
    await bearer.locator("button.btn-done").click();
    await whoami.getByRole("button", { name: "Try it out" }).click();
    await whoami.getByRole("button", { name: "Execute" }).click();
    const body = whoami.locator(".live-responses-table .response-col_description pre").first();
    await expect.poll(() => body.textContent()).toMatch(/"user": "admin"/);
    expect(requested.filter((u) => !u.startsWith(t.url) && !u.startsWith("data:"))).toEqual([]);
  });
});
