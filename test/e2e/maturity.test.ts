/**
 * The maturity page against a real server: a push webhook's CI run and a scheduled pipeline's spec
 * give some criteria their evidence; the page shows the level and counts the API grades, each
 * criterion's evidence links (which lead to the record) and the next step of each failed one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MaturityWire } from "../../web/src/api/portal.js";
import { pushGradeProject } from "../helpers/pushed-project.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { checkPage, ensureWebBuilt, openBrowser, signIn, type Browser } from "./browser.js";

const SECRET = "maturity-page-secret";

describe("Maturity page (e2e, Chromium)", () => {
  let server: TestServer;
  let browser: Browser;
  let runId: string;

  beforeAll(async () => {
    ensureWebBuilt();
    server = await startTestServer();
    ({ runId } = await pushGradeProject(server, SECRET));
    browser = await openBrowser();
    await signIn(browser.page, server.url, server.adminToken);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("shows the API's level, counts, evidence and next steps, and its evidence links lead to the record", async () => {
    const { page } = browser;
    const api = await server.api<MaturityWire>("GET", "/api/v1/projects/grade/maturity");
    const m = api.body;
    expect(m.criteria.some((c) => c.passed) && m.criteria.some((c) => !c.passed)).toBe(true);
    await page.goto(`${server.url}/p/grade`);
    await expect.poll(() => page.getByTestId("overview-maturity").textContent()).toContain("criteria met");
    await page.getByRole("link", { name: "each criterion and its evidence" }).click();
    await page.getByTestId("maturity-level").waitFor();
    await expect(page.getByTestId("maturity-level").textContent()).resolves.toBe(String(m.level));
    await expect(page.getByTestId("maturity-passed").textContent()).resolves.toBe(`${m.passed}/${m.total}`);
    for (const c of m.criteria) {
      const item = page.locator(`li[data-criterion="${c.id}"]`);
      await expect(item.getAttribute("data-passed")).resolves.toBe(String(c.passed));
      await expect(item.locator("[data-evidence]").count()).resolves.toBe(c.evidence.length);
      for (const [i, e] of c.evidence.entries()) {
        const link = item.locator("li[data-evidence]").nth(i).locator("a");
        await expect(item.locator("li[data-evidence]").nth(i).getAttribute("data-evidence")).resolves.toBe(
          `${e.kind}:${e.id}`,
        );
        await expect(link.getAttribute("href")).resolves.toBe(e.href);
        await expect(link.textContent()).resolves.toBe(e.note);
      }
      if (c.next_step) await expect(page.getByTestId(`next-${c.id}`).textContent()).resolves.toContain(c.next_step);
      else await expect(page.getByTestId(`next-${c.id}`).count()).resolves.toBe(0);
    }
    await expect(page.locator("li[data-sign]").count()).resolves.toBe(m.signs.length);
    expect(await checkPage(page, "maturity")).toEqual([]);

    await page.locator(`li[data-criterion="pipeline_ci"] li[data-evidence="run:${runId}"] a`).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/p/grade/pipeline-runs/${runId}`);
    expect(browser.errors).toEqual([]);
  });
});
