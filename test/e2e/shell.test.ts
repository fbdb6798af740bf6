/**
 * The UI's shell against a real server: sign-in and sign-out through the session cookie, the Audit
 * and Settings pages showing exactly what the API returns, and what a viewer is not offered.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { checkPage, ensureWebBuilt, openBrowser, signIn, type Browser } from "./browser.js";

interface AuditEvents {
  events: Array<{ seq: number; action: string }>;
}

describe("web UI shell (e2e, Chromium)", () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    ensureWebBuilt();
    server = await startTestServer();
    browser = await openBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("signs in with a token; the cookie is HttpOnly and the token is not kept by the page", async () => {
    const { page } = browser;
    await signIn(page, server.url, server.adminToken);
    expect(new URL(page.url()).pathname).toBe("/p/default");
    const cookies = await browser.context.cookies();
    const session = cookies.find((c) => c.name === "tandem_session");
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
    expect(session!.value).not.toBe(server.adminToken);
    const stored = await page.evaluate(
      "JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie",
    );
    expect(stored).not.toContain(server.adminToken);
    await expect.poll(() => page.getByTestId("who").textContent()).toBe("admin · admin");
    expect(await checkPage(page, "overview")).toEqual([]);
  });

  it("shows the audit log as the API returns it", async () => {
    const { page } = browser;
    // Some events in the project: members added through the API.
    await server.api("POST", "/api/v1/users", { name: "ana" });
    await server.api("PUT", "/api/v1/projects/default/members/ana", { role: "member" });
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByTestId("audit-table").locator("tbody tr").first().waitFor();
    const api = await server.api<AuditEvents>("GET", "/api/v1/projects/default/audit?limit=50");
    const seqs = await page.getByTestId("audit-table").locator("tbody tr td[data-col=seq]").allTextContents();
    expect(seqs.map(Number)).toEqual(api.body.events.map((e) => e.seq));
    const actions = await page.getByTestId("audit-table").locator("tbody tr td[data-col=action]").allTextContents();
    expect(actions).toEqual(api.body.events.map((e) => e.action));
    await page.getByRole("button", { name: "Verify the hash chain" }).click();
    const verify = await server.api<{ events: number }>("GET", "/api/v1/audit/verify");
    await expect(page.getByTestId("audit-verify").textContent()).resolves.toBe(
      `Chain intact: ${verify.body.events} events`,
    );
    expect(await checkPage(page, "audit")).toEqual([]);
  });

  it("manages members and tokens on Settings, matching the API", async () => {
    const { page } = browser;
    await page.getByRole("link", { name: "Settings" }).click();
    await page.getByTestId("members-table").locator("tbody tr").first().waitFor();
    const members = await server.api<{ members: Array<{ user: string; role: string }> }>(
      "GET",
      "/api/v1/projects/default/members",
    );
    const shownUsers = await page.getByTestId("members-table").locator("td[data-col=user]").allTextContents();
    expect(shownUsers).toEqual(members.body.members.map((m) => m.user));

    await page.getByLabel("Role of ana").selectOption("approver");
    await expect
      .poll(
        async () =>
          (
            await server.api<{ members: Array<{ user: string; role: string }> }>(
              "GET",
              "/api/v1/projects/default/members",
            )
          ).body.members.find((m) => m.user === "ana")?.role,
      )
      .toBe("approver");

    await page.getByLabel("New token name").fill("from-the-ui");
    await page.getByRole("button", { name: "Create token" }).click();
    const shown = await page.getByTestId("new-token").textContent();
    expect(shown).toMatch(/^tdm_/);
    const who = await fetch(server.url + "/api/v1/whoami", { headers: { authorization: `Bearer ${shown}` } });
    expect(who.status).toBe(200);
    const tokens = await server.api<{ tokens: Array<{ id: string; name: string }> }>("GET", "/api/v1/tokens");
    await page
      .getByTestId("tokens-table")
      .locator("tbody tr")
      .nth(tokens.body.tokens.length - 1)
      .waitFor();
    const names = await page.getByTestId("tokens-table").locator("td[data-col=name]").allTextContents();
    expect(names).toEqual(tokens.body.tokens.map((t) => t.name));
    await page.getByRole("button", { name: "Revoke from-the-ui" }).click();
    await expect
      .poll(
        async () =>
          (await fetch(server.url + "/api/v1/whoami", { headers: { authorization: `Bearer ${shown}` } })).status,
      )
      .toBe(401);
    expect(await checkPage(page, "settings")).toEqual([]);
  });

  it("offers a viewer no admin actions", async () => {
    await server.api("POST", "/api/v1/users", { name: "vic" });
    await server.api("PUT", "/api/v1/projects/default/members/vic", { role: "viewer" });
    const made = await server.api<{ token: string }>("POST", "/api/v1/tokens", { name: "vic", user: "vic" });
    const viewer = await openBrowser();
    try {
      await signIn(viewer.page, server.url, made.body.token);
      await viewer.page.goto(server.url + "/p/default/settings");
      await viewer.page.getByTestId("members-table").locator("tbody tr").first().waitFor();
      await expect(viewer.page.getByTestId("your-role").textContent()).resolves.toBe("viewer");
      expect(await viewer.page.getByRole("button", { name: "Add member" }).count()).toBe(0);
      expect(await viewer.page.getByRole("heading", { name: /Users/ }).count()).toBe(0);
      expect(await viewer.page.locator("select[aria-label^='Role of']").count()).toBe(0);
      expect(viewer.errors).toEqual([]);
    } finally {
      await viewer.close();
    }
  });

  it("signs out: the session ends and the sign-in form returns", async () => {
    const { page } = browser;
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API token", { exact: true }).waitFor();
    expect((await browser.context.cookies()).find((c) => c.name === "tandem_session")).toBeUndefined();
    await page.reload();
    await page.getByLabel("API token", { exact: true }).waitFor();
    expect(await checkPage(page, "sign-in")).toEqual([]);
    expect(browser.errors).toEqual([]);
  });
});
