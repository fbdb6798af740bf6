/**
 * `tandem monitors drift` as a user runs it (a real process, real files), and its HTML report opened
 * offline in headless Chromium: no console errors, no network, accessible, fits a phone screen.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { checkPage, openBrowser } from "../e2e/browser.js";
import { mulberry32 } from "../helpers/seeded.js";

const BIN = join(process.cwd(), "bin", "tandem.js");
const dir = mkdtempSync(join(tmpdir(), "tandem-drift-cli-"));
const env = { ...process.env, TANDEM_HOME: join(dir, "home"), TANDEM_URL: "", TANDEM_TOKEN: "" };
const run = (args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const tandem = (args: string[]) => run(["monitors", "drift", ...args]);

/** A CSV with a numeric, a small-integer, a categorical, a text and a datetime column. */
function writeCsv(name: string, rows: number, seed: number, shift: number, colors: string[]): string {
  const u = mulberry32(seed);
  const lines = ["amount,level,color,comment,day"];
  for (let i = 0; i < rows; i++) {
    const amount = shift + (u() + u() + u() + u() - 2) * 10;
    lines.push(
      `${amount.toFixed(3)},${Math.floor(u() * 4)},${colors[Math.floor(u() * colors.length)]},"note ${i}, seed ${seed}",2024-03-${String(1 + (i % 28)).padStart(2, "0")}`,
    );
  }
  const path = join(dir, name);
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

const ref = writeCsv("ref.csv", 700, 1, 0, ["red", "green", "blue"]);
const same = writeCsv("same.csv", 500, 2, 0, ["red", "green", "blue"]);
const shifted = writeCsv("shifted.csv", 500, 3, 4, ["red", "blue", "blue", "blue"]);
const cleanup: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const f of cleanup) await f();
});

// Each case spawns the CLI several times; on a loaded 2-core machine one spawn can take seconds.
describe("tandem monitors drift", { timeout: 180_000 }, () => {
  it("exit 0 and the wire shape when nothing drifted", () => {
    const r = tandem(["--reference", ref, "--current", same, "--json"]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      dataset_drift: boolean;
      share_drifted: number;
      columns: Array<Record<string, unknown>>;
    };
    expect(out.dataset_drift).toBe(false);
    expect(out.columns.map((c) => [c.name, c.type, c.test])).toEqual([
      ["amount", "numeric", "ks"],
      ["level", "categorical", "chisquare"],
      ["color", "categorical", "chisquare"],
    ]);
    expect(Object.keys(out.columns[0]!)).toEqual([
      "name",
      "type",
      "test",
      "statistic",
      "p_value",
      "threshold",
      "drift",
    ]);
  });

  it("exit 1 with dataset drift; PSI on request; clear errors (exit 2) for bad input", () => {
    const r = tandem(["--reference", ref, "--current", shifted, "--json"]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { dataset_drift: boolean; columns: Array<{ name: string; drift: boolean }> };
    expect(out.dataset_drift).toBe(true);
    expect(out.columns.filter((c) => c.drift).map((c) => c.name)).toEqual(["amount", "color"]);
    // --json: the verdict is in the JSON and the exit code alone (issue 23); stderr stays empty.
    expect(r.stderr).toBe("");
    const table = tandem(["--reference", ref, "--current", shifted]);
    expect(table.code).toBe(1);
    expect(table.stderr).toMatch(/dataset drift: 2 of 3 columns drifted/);

    const psi = tandem(["--reference", ref, "--current", shifted, "--json", "--test", "psi", "--columns", "amount"]);
    const p = JSON.parse(psi.stdout) as { columns: Array<{ test: string; p_value: unknown; threshold: number }> };
    expect(p.columns).toHaveLength(1);
    expect(p.columns[0]).toMatchObject({ test: "psi", p_value: null, threshold: 0.1 });

    const missing = tandem(["--reference", join(dir, "nope.csv"), "--current", same]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--reference: .*nope\.csv/);
    writeFileSync(join(dir, "ragged.csv"), "a,b\n1,2\n3\n");
    const ragged = tandem(["--reference", join(dir, "ragged.csv"), "--current", same]);
    expect(ragged.code).toBe(2);
    expect(ragged.stderr).toMatch(/ragged\.csv \(row 2, line 3\)/);
    expect(tandem(["--reference", ref, "--current", same, "--test", "nope"]).code).toBe(2);
  });

  it("writes a self-contained HTML report that renders offline in Chromium without errors", async () => {
    const html = join(dir, "report.html");
    const r = tandem(["--reference", ref, "--current", shifted, "--html", html]);
    expect(r.code).toBe(1);
    expect(existsSync(html)).toBe(true);
    const text = readFileSync(html, "utf8");
    expect(text).not.toMatch(/<script|<link|https?:\/\//);

    const browser = await openBrowser();
    cleanup.push(() => browser.close());
    const requests: string[] = [];
    browser.page.on("request", (req) => requests.push(req.url()));
    await browser.page.goto(pathToFileURL(html).href);
    expect(await browser.page.locator("tbody tr").count()).toBe(3);
    expect(await browser.page.locator("svg.chart").count()).toBe(3);
    expect(await browser.page.getByText("Dataset drift detected").count()).toBe(1);
    const problems = await checkPage(browser.page, "drift-report");
    expect(problems).toEqual([]);
    expect(browser.errors).toEqual([]);
    expect(requests.filter((u) => !u.startsWith("file:"))).toEqual([]);
  });

  it("reads dataset versions (dataset://NAME@V) through the API", () => {
    expect(run(["data", "add", ref, "--name", "baseline"]).code).toBe(0);
    const r = tandem(["--reference", "dataset://baseline@1", "--current", shifted, "--json"]);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as { columns: unknown[] }).columns).toHaveLength(3);
    expect(tandem(["--reference", "dataset://baseline@latest", "--current", ref]).code).toBe(0);
    const missing = tandem(["--reference", "dataset://nope@1", "--current", ref]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/no dataset nope/);
  });
});
