/**
 * The maturity page against a real server: a push webhook's CI run and a scheduled pipeline's spec
 * give some criteria their evidence; the page shows the level and counts the API grades, each
 * criterion's evidence links (which lead to the record) and the next step of each failed one.
 */
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MaturityWire } from "../../web/src/api/portal.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { checkPage, ensureWebBuilt, openBrowser, signIn, type Browser } from "./browser.js";

const SECRET = "maturity-page-secret";
const SPEC = `project: grade
pipelines:
  ci:
    triggers:
      - git: { branch: main }
    steps:
      unit-tests:
        run: test -f tandem.yaml
      build:
        needs: [unit-tests]
        run: echo built
  train:
    triggers:
      - schedule: "0 3 * * *"
    steps:
      validate:
        run: echo valid
      train:
        needs: [validate]
        run: echo trained
`;

describe("Maturity page (e2e, Chromium)", () => {
  let server: TestServer;
  let browser: Browser;
  let runId: string;

  beforeAll(async () => {
    ensureWebBuilt();
    server = await startTestServer();
    const work = mkdtempSync(join(tmpdir(), "maturity-page-"));
    writeFileSync(join(work, "tandem.yaml"), SPEC);
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", work, "-c", "user.email=t@t", "-c", "user.name=t", ...args], { encoding: "utf8" });
    git("init", "-q", "-b", "main");
    git("add", "tandem.yaml");
    git("commit", "-q", "-m", "one");
    const commit = git("rev-parse", "HEAD").trim();
    expect((await server.api("POST", "/api/v1/projects/grade/specs", { source: SPEC, workspace: work })).status).toBe(
      201,
    );
    await server.api("PUT", "/api/v1/projects/grade/secrets/GIT_WEBHOOK_SECRET", { value: SECRET });
    const body = JSON.stringify({ ref: "refs/heads/main", after: commit, repository: { full_name: "acme/grade" } });
    const res = await fetch(`${server.url}/api/v1/hooks/git?project=grade`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`,
      },
      body,
    });
    expect(res.status).toBe(200);
    const fired = (await res.json()) as { runs: Array<{ pipeline: string; run_id: string | null }> };
    runId = fired.runs.find((r) => r.pipeline === "ci")!.run_id!;
    await server.server.opened.services.pipelines.settled(runId);
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
