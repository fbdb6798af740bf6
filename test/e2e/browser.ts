/**
 * End-to-end harness: Debian's Chromium driven by playwright-core against a real `tandem server`.
 * Each test gets a fresh browser profile; every page visited can be checked for accessibility
 * (axe-core), for horizontal scrolling at 375 px, for Tab reachability and for console errors.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { vi } from "vitest";

// The page updates after the server answers; on a loaded 2-core CI machine that can take longer than
// expect.poll's default 1 s, so the e2e files wait up to 15 s for a value to appear.
vi.setConfig({ expect: { poll: { timeout: 15_000, interval: 100 } } });

const ROOT = new URL("../../", import.meta.url).pathname;
export const SCREENSHOTS = join(ROOT, "test-output", "screenshots");
const CHROMIUM = "/usr/bin/chromium";

/**
 * CI builds the UI in `npm run build` before the tests; a developer running only the tests gets it
 * built here once, so the tests never run against a stale or missing UI silently.
 */
export function ensureWebBuilt(): void {
  const built = join(ROOT, "web", "dist", "index.html");
  // A bundle older than any UI source is stale too: a long-lived checkout would test yesterday's UI.
  if (existsSync(built) && newestMtime(join(ROOT, "web", "src")) <= statSync(built).mtimeMs) return;
  // Test files run in parallel: one builds, the others wait for its lock (mkdir is atomic).
  const lock = join(ROOT, "web", ".build-lock");
  try {
    mkdirSync(lock);
  } catch {
    // A lock left by a killed build is ignored after two minutes.
    for (let waited = 0; existsSync(lock) && waited < 240; waited++) execFileSync("sleep", ["0.5"]);
    return;
  }
  try {
    execFileSync(process.execPath, [join(ROOT, "web", "build.mjs")], { cwd: ROOT, stdio: "inherit" });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
  close(): Promise<void>;
}

export async function openBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (see .ci/run)`);
  const profile = mkdtempSync(join(tmpdir(), "tandem-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()} (${msg.location().url})`);
  });
  page.on("pageerror", (err) => errors.push(`page error: ${err.message}`));
  return {
    context,
    page,
    errors,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(baseUrl + "/");
  await page.getByLabel("API token", { exact: true }).fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the devtools protocol: a <script> tag would be refused by the UI's CSP, as it should be.
  if (!(await page.evaluate("typeof axe !== 'undefined'"))) await page.evaluate(`${AXE_SOURCE}\n;0`);
  const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as {
    violations: AxeViolation[];
  };
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} — ${v.nodes
          .slice(0, 3)
          .map((n) => n.target.join(" "))
          .join(", ")}`,
    );
}

/** How far the page scrolls sideways at 375 px (0 when it fits). */
export async function horizontalOverflowAt375(page: Page): Promise<number> {
  await page.setViewportSize({ width: 375, height: 800 });
  // Let layout and any resize observers (charts) settle at the new width.
  await page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))");
  return (await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")) as number;
}

/** The outermost elements that stick out past the viewport (outside any scroll box), to name the culprit. */
async function widestElements(page: Page): Promise<string[]> {
  return (await page.evaluate(`(() => {
    const w = document.documentElement.clientWidth;
    const inScrollBox = (el) => { for (let p = el.parentElement; p; p = p.parentElement) { const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; } return false; };
    return [...document.body.querySelectorAll('*')].filter((el) => el.getBoundingClientRect().right > w + 1 && !inScrollBox(el) && !(el.parentElement && el.parentElement.getBoundingClientRect().right > w + 1))
      .slice(0, 5).map((el) => el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') + ' ' + Math.round(el.getBoundingClientRect().right) + 'px');
  })()`)) as string[];
}

/** Interactive elements that Tab never reaches (by a short description). */
export async function unreachableByTab(page: Page): Promise<string[]> {
  const total = (await page.evaluate(`(() => {
    const els = [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')].filter((el) =>
      !el.disabled && el.getAttribute('tabindex') !== '-1' && el.checkVisibility({ visibilityProperty: true, contentVisibilityAuto: true }));
    els.forEach((el, i) => el.setAttribute('data-e2e-tab', String(i)));
    document.body.focus();
    return els.length;
  })()`)) as number;
  const seen = new Set<string>();
  for (let i = 0; i < total + 3; i++) {
    await page.keyboard.press("Tab");
    const idx = (await page.evaluate(
      "document.activeElement && document.activeElement.getAttribute('data-e2e-tab')",
    )) as string | null;
    if (idx !== null) seen.add(idx);
  }
  return (await page
    .evaluate(
      `[...document.querySelectorAll('[data-e2e-tab]')].map((el) =>
    [el.getAttribute('data-e2e-tab'), el.tagName.toLowerCase() + ': ' + (el.getAttribute('aria-label') || el.textContent || el.getAttribute('name') || '').trim().slice(0, 40)])`,
    )
    .then((pairs) => (pairs as Array<[string, string]>).filter(([i]) => !seen.has(i)).map(([, d]) => d))) as string[];
}

/**
 * Screenshots the page (desktop and 375 px) under test-output/screenshots and returns every problem
 * found: axe violations, sideways scrolling at 375 px, elements Tab cannot reach.
 */
export async function checkPage(page: Page, name: string): Promise<string[]> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const problems = (await axeViolations(page)).map((v) => `axe: ${v}`);
  const unreachable = await unreachableByTab(page);
  if (unreachable.length) problems.push(`not reachable with Tab: ${unreachable.join("; ")}`);
  const overflow = await horizontalOverflowAt375(page);
  if (overflow > 0)
    problems.push(`scrolls sideways by ${overflow}px at 375 px: ${(await widestElements(page)).join("; ")}`);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-375.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  return problems.map((p) => `${name}: ${p}`);
}
