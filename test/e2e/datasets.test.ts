/**
 * Datasets pages against a real server: versions made through the data API, their schema and profile
 * statistics as the API computes them, a column's histogram, and the diff between two versions.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { formatNumber } from "../../web/src/lib/format.js";
import { checkPage, ensureWebBuilt, openBrowser, signIn, type Browser } from "./browser.js";

const P = "/api/v1/projects/default";

function csv(rows: number, shift: number): string {
  const lines = ["origin,distance,delay,day"];
  for (let i = 0; i < rows; i++) {
    const day = `2024-01-${String((i % 28) + 1).padStart(2, "0")}`;
    lines.push(`${["JFK", "SFO", "ORD"][i % 3]},${100 + ((i * 37) % 900)},${((i * 13) % 60) - 10 + shift},${day}`);
  }
  return lines.join("\n") + "\n";
}

interface Column {
  name: string;
  kind: string;
  count: number;
  mean: number | null;
  std: number | null;
  min: number | string | null;
  max: number | string | null;
  distinct: number;
}

/** What the page should show for a profile statistic: a datetime column's epoch ms as an ISO date. */
function shown(value: number | string | null, kind: string): string {
  if (value === null) return "—";
  if (typeof value === "string") return value;
  return kind === "datetime" ? new Date(value).toISOString().replace(/\.\d+Z$/, "Z") : formatNumber(value);
}

describe("Datasets pages (e2e, Chromium)", () => {
  let server: TestServer;
  let browser: Browser;

  async function addVersion(content: string): Promise<number> {
    const res = await fetch(`${server.url}${P}/datasets/flights/blobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/octet-stream" },
      body: content,
    });
    const { sha256, size } = (await res.json()) as { sha256: string; size: number };
    const made = await server.api<{ created: boolean; version: { version: number } }>(
      "POST",
      `${P}/datasets/flights/versions`,
      {
        entries: [{ path: "flights.csv", sha256, size }],
        kind: "file",
        message: "nightly export",
      },
    );
    expect(made.body.created).toBe(true);
    return made.body.version.version;
  }

  beforeAll(async () => {
    ensureWebBuilt();
    server = await startTestServer();
    await addVersion(csv(300, 0));
    await addVersion(csv(360, 25));
    browser = await openBrowser();
    await signIn(browser.page, server.url, server.adminToken);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("shows a version's schema and profile statistics as the API computes them", async () => {
    const { page } = browser;
    await page.getByRole("link", { name: "Datasets" }).click();
    await page.getByTestId("datasets-table").waitFor();
    expect(await checkPage(page, "datasets")).toEqual([]);
    await page.getByRole("link", { name: "flights", exact: true }).click();
    await page.getByRole("link", { name: "flights@2" }).click();
    await page.getByTestId("profile-table").waitFor();
    const api = await server.api<{
      profile: { files: Record<string, { profile: { row_count: number; columns: Column[] } }> };
    }>("GET", `${P}/datasets/flights/versions/2`);
    const profile = api.body.profile.files["flights.csv"]!.profile;
    await expect(page.getByTestId("dataset-rows").textContent()).resolves.toBe(String(profile.row_count));
    for (const c of profile.columns) {
      const row = page.getByTestId("profile-table").locator(`tr[data-key="${c.name}"]`);
      await expect(row.locator("td[data-col=count]").textContent()).resolves.toBe(String(c.count));
      for (const stat of ["mean", "min", "max"] as const)
        await expect(row.locator(`td[data-col=${stat}]`).textContent(), `${c.name} ${stat}`).resolves.toBe(
          shown(c[stat], c.kind),
        );
    }
    // The day column is a date: its mean reads as one, as `tandem data show` prints it.
    expect(profile.columns.find((c) => c.name === "day")?.kind).toBe("datetime");
    await expect(
      page.getByTestId("profile-table").locator('tr[data-key="day"] td[data-col=mean]').textContent(),
    ).resolves.toMatch(/^\d{4}-\d\d-\d\dT/);
    // Its spread reads in days, and says the API's milliseconds (to the shown precision).
    const daySpread = await page
      .getByTestId("profile-table")
      .locator('tr[data-key="day"] td[data-col=std]')
      .textContent();
    expect(daySpread).toMatch(/^[\d.]+ d$/);
    const dayStd = profile.columns.find((c) => c.name === "day")!.std!;
    expect(Math.abs(parseFloat(daySpread!) * 86_400_000 - dayStd) / dayStd).toBeLessThan(0.01);
    await page.getByRole("button", { name: "delay", exact: true }).click();
    await page.getByTestId("column-histogram").locator("canvas").waitFor();
    expect(await checkPage(page, "dataset-version")).toEqual([]);
  });

  it("previews a version with SQL: a viewer's SELECT as a table, the row limit, and the server's errors", async () => {
    const { page } = browser;
    const section = page.locator("#sql-preview");
    await section.getByRole("heading", { name: "SQL preview" }).waitFor();
    const sql = "SELECT origin, count(*) AS flights, max(delay) AS worst FROM dataset GROUP BY origin ORDER BY origin";
    await page.getByTestId("query-sql").fill(sql);
    await section.getByRole("button", { name: "Run query" }).click();
    await page.getByTestId("query-result").waitFor();
    const api = await server.api<{ rows: unknown[][]; columns: { name: string }[] }>(
      "POST",
      `${P}/datasets/flights/versions/2/query`,
      { sql },
    );
    expect(api.body.rows).toHaveLength(3);
    const headers = await page.getByTestId("query-result").locator("thead th").allTextContents();
    expect(headers.map((h) => h.split(" ")[0])).toEqual(api.body.columns.map((c) => c.name));
    for (const [i, row] of api.body.rows.entries()) {
      const cells = await page.getByTestId("query-result").locator(`tr[data-key="${i}"] td`).allTextContents();
      expect(cells).toEqual(row.map(String));
    }
    await expect(page.getByTestId("query-summary").textContent()).resolves.toBe("3 rows from flights@2");

    // The row limit: 360 rows match, 7 are shown and the summary says the rest were cut off.
    await page.getByTestId("query-sql").fill("SELECT * FROM dataset");
    await page.getByTestId("query-limit").fill("7");
    await section.getByRole("button", { name: "Run query" }).click();
    await page.getByText("7 rows from flights@2 (stopped at the limit of 7; more rows match)").waitFor();
    await expect(page.getByTestId("query-result").locator("tbody tr").count()).resolves.toBe(7);
    expect(await checkPage(page, "dataset-query")).toEqual([]);

    // A statement that writes: the server refuses it, and the page shows its message quoting the SQL.
    await page.getByTestId("query-sql").fill("DELETE FROM dataset");
    await section.getByRole("button", { name: "Run query" }).click();
    const alert = section.getByRole("alert");
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toMatch(/DELETE FROM dataset/);
    await expect(page.getByTestId("query-result").count()).resolves.toBe(0);
    // Chromium logs the expected 400 as a console error: take exactly that one off the page's error list.
    const refused = browser.errors.findIndex((e) => /status of 400 .*\/versions\/2\/query/.test(e));
    expect(refused).toBeGreaterThanOrEqual(0);
    browser.errors.splice(refused, 1);
    // A limit the route would refuse is caught before asking.
    await page.getByTestId("query-sql").fill("SELECT 1");
    await page.getByTestId("query-limit").fill("0");
    await section.getByRole("button", { name: "Run query" }).click();
    await expect(alert.textContent()).resolves.toBe('Row limit must be a whole number from 1 to 10000, not "0".');
    expect(await checkPage(page, "dataset-query-error")).toEqual([]);
  });

  it("diffs two versions as the API does", async () => {
    const { page } = browser;
    await page.getByRole("link", { name: "Dataset flights" }).click();
    await page.getByTestId("diff-stats").waitFor();
    const api = await server.api<{
      diff: {
        stats: Array<{
          column: string;
          kind_to: string;
          rows_from: number;
          rows_to: number;
          mean_from: number;
          mean_to: number;
          drift: { drifted: boolean } | null;
        }>;
      };
    }>("GET", `${P}/datasets/flights/diff?from=1&to=2`);
    for (const s of api.body.diff.stats) {
      const row = page.getByTestId("diff-stats").locator(`tr[data-key="flights.csv/${s.column}"]`);
      await expect(row.locator("td[data-col=rows]").textContent()).resolves.toBe(`${s.rows_from} → ${s.rows_to}`);
    }
    // A datetime column's means are dates, as the API's epoch milliseconds are not.
    const day = api.body.diff.stats.find((s) => s.column === "day")!;
    expect(day.kind_to).toBe("datetime");
    const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
    await expect(
      page.getByTestId("diff-stats").locator('tr[data-key="flights.csv/day"] td[data-col=mean]').textContent(),
    ).resolves.toBe(`${iso(day.mean_from)} → ${iso(day.mean_to)}`);
    const delay = api.body.diff.stats.find((s) => s.column === "delay")!;
    expect(delay.drift?.drifted).toBe(true);
    await expect(
      page.getByTestId("diff-stats").locator('tr[data-key="flights.csv/delay"] td[data-col=drift]').textContent(),
    ).resolves.toContain("(drifted)");
    expect(await checkPage(page, "dataset")).toEqual([]);
    expect(browser.errors).toEqual([]);
  });
});
