/**
 * The quickstart ends where a newcomer can look: with `--keep` (the default on a terminal outside
 * CI) its server keeps running after the summary, and every link the summary prints opens, in
 * Chromium, a page that shows the quickstart's own objects; Ctrl-C (SIGINT) then stops it with exit
 * 0. A run on a smaller sample than test/quickstart/quickstart.test.ts: the links, not the numbers,
 * are under test here.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keepsServing } from "../../src/quickstart/summary.js";
import { ensureWebBuilt, openBrowser, signIn, type Browser } from "../e2e/browser.js";
import { cli, startCli } from "../pipelines/cli.js";

describe("the quickstart's ending", () => {
  it("keeps serving only on a terminal outside CI, unless --keep or --exit says otherwise", () => {
    expect(keepsServing({ stdoutIsTTY: true, ci: false })).toBe(true);
    expect(keepsServing({ stdoutIsTTY: false, ci: false })).toBe(false);
    expect(keepsServing({ stdoutIsTTY: true, ci: true })).toBe(false);
    expect(keepsServing({ keep: true, stdoutIsTTY: false, ci: true })).toBe(true);
    expect(keepsServing({ exit: true, stdoutIsTTY: true, ci: false })).toBe(false);
  });

  it("refuses --keep with --exit before doing any work", async () => {
    const home = join(mkdtempSync(join(tmpdir(), "tandem-qs-flags-")), "home");
    const res = await cli(["quickstart", "--keep", "--exit"], { cwd: tmpdir(), env: { TANDEM_HOME: home } });
    expect(res.stderr).toBe("error: --keep and --exit contradict each other: give one\n");
    expect(res.code).toBe(2);
    expect(existsSync(home)).toBe(false);
  });
});

describe("tandem quickstart --keep: every printed link opens a page with the quickstart's objects", () => {
  const root = mkdtempSync(join(tmpdir(), "tandem-qs-links-"));
  const home = join(root, "home");
  let run: ReturnType<typeof startCli>;
  let browser: Browser;
  const links: Record<string, string> = {};

  beforeAll(async () => {
    ensureWebBuilt();
    run = startCli(["quickstart", "--rows", "8000", "--replay-rows", "1000", "--months", "1", "--keep"], {
      cwd: tmpdir(),
      env: { TANDEM_HOME: home, CI: "true" },
    });
    const deadline = Date.now() + 300_000;
    while (!run.output().stderr.includes("Ctrl-C stops it")) {
      const exited = await Promise.race([run.done, new Promise((r) => setTimeout(() => r(null), 250))]);
      if (exited) throw new Error(`the quickstart exited before serving: ${JSON.stringify(exited)}`);
      if (Date.now() > deadline) throw new Error(`no 'Ctrl-C stops it' in 300 s:\n${run.output().stderr}`);
    }
    for (const m of run.output().stdout.matchAll(/^ {2}(pipeline runs|models|endpoint|monitoring) +(http\S+)$/gm))
      links[m[1]!] = m[2]!;
    browser = await openBrowser();
  }, 330_000);

  afterAll(async () => {
    await browser?.close();
    if (run && run.child.exitCode === null) run.child.kill("SIGTERM");
    rmSync(root, { recursive: true, force: true });
  });

  it("prints the four UI links at the running server, and says Ctrl-C stops it", () => {
    const { stdout, stderr } = run.output();
    expect(Object.keys(links).sort()).toEqual(["endpoint", "models", "monitoring", "pipeline runs"]);
    const served = /The server keeps running at (http:\/\/127\.0\.0\.1:\d+) — Ctrl-C stops it/.exec(stderr)?.[1];
    expect(served).toBeDefined();
    for (const url of Object.values(links)) expect(url.startsWith(`${served}/p/flights/`)).toBe(true);
    expect(stdout).toContain("Look around while the server runs");
  });

  it("opens each link in Chromium on a page that names the quickstart's objects", async () => {
    const { page } = browser;
    const token = readFileSync(join(home, "admin.token"), "utf8").trim();
    await signIn(page, new URL(links.models!).origin, token);
    const expected: Record<string, RegExp[]> = {
      "pipeline runs": [/Pipeline runs/, /\btrain\b/, /succeeded/],
      models: [/flights-delay/, /champion/],
      endpoint: [/flights-delay/, /primary/i],
      monitoring: [/Monitoring/, /flights-drift/],
    };
    for (const [name, url] of Object.entries(links)) {
      await page.goto(url);
      for (const pattern of expected[name]!)
        await expect.poll(() => page.locator("main").innerText(), { message: `${name}: ${url}` }).toMatch(pattern);
      await expect(page.locator("main").innerText()).resolves.not.toMatch(/not found|does not exist/i);
    }
    // The HTML report is a file path in the summary; it is there and names the monitor.
    const report = /^ {2}HTML report +(\S+)/m.exec(run.output().stdout)?.[1];
    expect(readFileSync(report!, "utf8")).toContain("flights-drift");
    expect(browser.errors).toEqual([]);
  });

  it("stops on Ctrl-C (SIGINT) with exit 0", async () => {
    run.child.kill("SIGINT");
    const done = await run.done;
    expect(done.code).toBe(0);
  });
});
