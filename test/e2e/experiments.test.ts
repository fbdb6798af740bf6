/**
 * Experiments page against a real server: runs logged through the MLflow API appear with the same
 * numbers, the MLflow filter box narrows them as the API does, and two runs compare side by side with
 * their metric curves overlaid.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { checkPage, ensureWebBuilt, openBrowser, signIn, type Browser } from "./browser.js";
import { formatNumber } from "../../web/src/lib/format.js";

interface Run {
  info: { run_id: string; run_name: string };
  data: { metrics: Array<{ key: string; value: number }>; params: Array<{ key: string; value: string }> };
}

describe("Experiments page (e2e, Chromium)", () => {
  let server: TestServer;
  let browser: Browser;
  let experimentId: string;
  const runIds: string[] = [];

  beforeAll(async () => {
    ensureWebBuilt();
    server = await startTestServer();
    browser = await openBrowser();
    const exp = await server.api<{ experiment_id: string }>("POST", "/api/2.0/mlflow/experiments/create", {
      name: "flights-delay",
    });
    experimentId = exp.body.experiment_id;
    for (const [name, lr, curve] of [
      ["run-a", "0.1", [0.61, 0.7, 0.78, 0.8123456789]],
      ["run-b", "0.3", [0.55, 0.64, 0.69, 0.71]],
      ["run-c", "0.05", [0.5, 0.52]],
    ] as const) {
      const run = await server.api<{ run: Run }>("POST", "/api/2.0/mlflow/runs/create", {
        experiment_id: experimentId,
        run_name: name,
      });
      const id = run.body.run.info.run_id;
      runIds.push(id);
      await server.api("POST", "/api/2.0/mlflow/runs/log-batch", {
        run_id: id,
        params: [
          { key: "learning_rate", value: lr },
          { key: "max_depth", value: "6" },
        ],
        metrics: curve.map((value, step) => ({ key: "roc_auc", value, step, timestamp: 1_700_000_000_000 + step })),
      });
      await server.api("POST", "/api/2.0/mlflow/runs/update", { run_id: id, status: "FINISHED", end_time: Date.now() });
    }
    await signIn(browser.page, server.url, server.adminToken);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const search = (filter?: string) =>
    server.api<{ runs: Run[] }>("POST", "/api/2.0/mlflow/runs/search", {
      experiment_ids: [experimentId],
      filter,
      order_by: ["attributes.start_time DESC"],
    });

  it("lists runs with the latest metric values the API returns", async () => {
    const { page } = browser;
    await page.getByRole("link", { name: "Experiments" }).click();
    const table = page.getByTestId("runs-table");
    await table.locator("tbody tr").nth(2).waitFor();
    const api = await search();
    for (const run of api.body.runs) {
      const row = table.locator(`tr[data-key="${run.info.run_id}"]`);
      const auc = run.data.metrics.find((m) => m.key === "roc_auc")!.value;
      await expect(row.locator('td[data-col="metrics.roc_auc"]').textContent()).resolves.toBe(formatNumber(auc));
      await expect(row.locator('td[data-col="name"]').textContent()).resolves.toBe(run.info.run_name);
    }
    expect(await checkPage(page, "experiments")).toEqual([]);
  });

  it("filters with MLflow's search syntax exactly as the API does, and shows a bad filter's error", async () => {
    const { page } = browser;
    await page.getByTestId("run-filter").fill("metrics.roc_auc > 0.7 and params.max_depth = '6'");
    await page.getByRole("button", { name: "Search" }).click();
    const api = await search("metrics.roc_auc > 0.7 and params.max_depth = '6'");
    expect(api.body.runs.length).toBe(2);
    const table = page.getByTestId("runs-table");
    await expect.poll(() => table.locator("tbody tr").count()).toBe(2);
    const keys = await table.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-key")));
    expect(keys).toEqual(api.body.runs.map((r) => r.info.run_id));

    await page.getByTestId("run-filter").fill("metrics.roc_auc >>> 1");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("alert").waitFor();
    expect(await page.getByRole("alert").textContent()).toMatch(/\S/);
    // Chromium logs every 4xx response to the console; this one is the refusal the test asked for.
    const refused = browser.errors.findIndex((e) => e.includes("status of 400") && e.includes("/runs/search"));
    expect(refused).toBeGreaterThanOrEqual(0);
    browser.errors.splice(refused, 1);
    await page.getByTestId("run-filter").fill("");
    await page.getByRole("button", { name: "Search" }).click();
    await expect.poll(() => table.locator("tbody tr").count()).toBe(3);
  });

  it("chooses columns, then compares two runs: params side by side and curves overlaid", async () => {
    const { page } = browser;
    await page.getByText(/^Columns/).click();
    await page.getByRole("checkbox", { name: "params.learning_rate" }).check();
    const table = page.getByTestId("runs-table");
    await expect(
      table.locator(`tr[data-key="${runIds[0]}"] td[data-col="params.learning_rate"]`).textContent(),
    ).resolves.toBe("0.1");

    await page.getByRole("checkbox", { name: "Select run-a" }).check();
    await page.getByRole("checkbox", { name: "Select run-b" }).check();
    await page.getByTestId("compare-link").click();
    await page.getByTestId("params-table").waitFor();
    const lr = page.getByTestId("params-table").locator('tr[data-key="learning_rate"]');
    await expect(lr.locator(`td[data-col="${runIds[0]}"]`).textContent()).resolves.toBe("0.1");
    await expect(lr.locator(`td[data-col="${runIds[1]}"]`).textContent()).resolves.toBe("0.3");
    await page.getByTestId("metric-chart").locator("canvas").waitFor();
    // Two overlaid series, one per run, in uPlot's legend.
    const legend = await page.getByTestId("metric-chart").locator(".u-legend .u-series").allTextContents();
    expect(legend.join(" ")).toContain("run-a");
    expect(legend.join(" ")).toContain("run-b");
    const history = await server.api<{ metrics: Array<{ step: number; value: number }> }>(
      "GET",
      `/api/2.0/mlflow/metrics/get-history?run_id=${runIds[0]}&metric_key=roc_auc`,
    );
    const rowsInChartData = await page.getByTestId("metric-chart").locator(".sr-only table tbody tr").count();
    expect(rowsInChartData).toBe(history.body.metrics.length + 4);
    expect(await checkPage(page, "experiments-compare")).toEqual([]);
    expect(browser.errors).toEqual([]);
  });
});
