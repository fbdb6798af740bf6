/**
 * Pipeline runs page against a real server running real steps: start a run from the page, watch the
 * DAG and logs arrive over server-sent events, open a failed step, retry it, and see the same
 * statuses and counts the API reports.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { checkPage, ensureWebBuilt, openBrowser, signIn, type Browser } from "./browser.js";

interface Run {
  id: string;
  status: string;
  steps: Array<{ id: string; name: string; status: string; cached: boolean }>;
}

describe("Pipeline runs page (e2e, Chromium)", () => {
  let server: TestServer;
  let browser: Browser;
  let workspace: string;
  let marker: string;

  beforeAll(async () => {
    ensureWebBuilt();
    server = await startTestServer();
    workspace = mkdtempSync(join(tmpdir(), "tandem-e2e-ws-"));
    marker = join(workspace, "ready.marker");
    const source = `project: default
pipelines:
  train:
    steps:
      prepare:
        run: |
          echo "preparing rows"
          sleep 1
          echo "prepared 42 rows"
      train:
        needs: [prepare]
        run: |
          echo "training"
      evaluate:
        needs: [prepare]
        run: |
          if [ ! -f ${marker} ]; then echo "labels are missing" >&2; exit 3; fi
          echo "evaluated"
`;
    writeFileSync(join(workspace, "tandem.yaml"), source);
    const applied = await server.api("POST", "/api/v1/projects/default/specs", {
      source,
      file: "tandem.yaml",
      workspace,
    });
    expect(applied.status).toBe(201);
    browser = await openBrowser();
    await signIn(browser.page, server.url, server.adminToken);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(workspace, { recursive: true, force: true });
  });

  const getRun = async (id: string) =>
    (await server.api<Run>("GET", `/api/v1/projects/default/pipeline-runs/${id}`)).body;

  it("starts a run from the page and follows its DAG and logs live until it fails", async () => {
    const { page } = browser;
    await page.getByRole("link", { name: "Pipeline runs" }).click();
    await page.getByRole("button", { name: "Run train" }).click();
    await page.getByTestId("run-dag").waitFor();
    const id = page.url().split("/").pop()!;
    // The log follows live: the first line arrives while the step still sleeps.
    await expect
      .poll(() => page.getByTestId("run-logs").textContent(), { timeout: 20_000 })
      .toContain("preparing rows");
    await expect.poll(() => page.getByTestId("run-status").textContent(), { timeout: 30_000 }).toBe("failed");
    const api = await getRun(id);
    expect(api.status).toBe("failed");
    await expect(page.getByTestId("run-steps").textContent()).resolves.toBe(String(api.steps.length));
    for (const step of api.steps) {
      await expect
        .poll(() => page.getByTestId("run-dag").locator(`[data-node="${step.id}"]`).getAttribute("data-tone"))
        .toBe(step.status);
    }
    await expect.poll(() => page.getByTestId("run-logs").textContent()).toContain("labels are missing");
    await expect(page.getByTestId("run-trigger").textContent()).resolves.toMatch(/^manual/);
    expect(await checkPage(page, "pipeline-run-failed")).toEqual([]);
  });

  it("shows a step's details and only its logs, then retries the failed step", async () => {
    const { page } = browser;
    const id = page.url().split("/").pop()!;
    const evaluate = (await getRun(id)).steps.find((s) => s.name === "evaluate")!;
    // With the keyboard, as the DAG's nodes are buttons: focus one and press Enter.
    await page.getByTestId("run-dag").locator(`[data-node="${evaluate.id}"]`).focus();
    await page.keyboard.press("Enter");
    await expect(page.getByTestId("step-details").textContent()).resolves.toContain("Exit code3");
    await expect.poll(() => page.getByTestId("run-logs").textContent()).not.toContain("prepared 42 rows");

    writeFileSync(marker, "ok");
    await page.getByRole("button", { name: "Retry failed steps" }).click();
    await expect.poll(() => page.getByTestId("run-status").textContent(), { timeout: 30_000 }).toBe("succeeded");
    const api = await getRun(id);
    expect(api.status).toBe("succeeded");
    await expect(page.getByTestId("run-cached").textContent()).resolves.toBe(
      String(api.steps.filter((s) => s.cached).length),
    );
    for (const step of api.steps) {
      await expect
        .poll(() => page.getByTestId("run-dag").locator(`[data-node="${step.id}"]`).getAttribute("data-tone"))
        .toBe(step.status);
    }
    expect(await checkPage(page, "pipeline-run")).toEqual([]);
  });

  it("lists runs with the statuses the API reports", async () => {
    const { page } = browser;
    await page.getByRole("link", { name: "All pipeline runs" }).click();
    await page.getByTestId("pipeline-runs-table").waitFor();
    const api = await server.api<{ runs: Run[] }>("GET", "/api/v1/projects/default/pipeline-runs?limit=50");
    const statuses = await page.getByTestId("pipeline-runs-table").locator("td[data-col=status]").allTextContents();
    expect(statuses).toEqual(api.body.runs.map((r) => r.status));
    expect(await checkPage(page, "pipeline-runs")).toEqual([]);
    expect(browser.errors).toEqual([]);
  });
  it("shows the references a step resolved and why its cache missed, part by part", async () => {
    const { page } = browser;
    const data = server.server.opened.services.data;
    const addRows = async (csv: string) => {
      const blob = await data.putBlob(Readable.from([Buffer.from(csv)]));
      await data.createVersion("admin", "cachep", "rows", {
        kind: "file",
        entries: [{ path: "rows.csv", sha256: blob.sha256, size: blob.size }],
      });
    };
    writeFileSync(join(workspace, "expect.yaml"), "rows: { min: 1 }\n");
    const source = `project: cachep
pipelines:
  check:
    steps:
      validate:
        uses: tandem/validate
        with:
          dataset: rows@latest
          expect: expect.yaml
`;
    expect((await server.api("POST", "/api/v1/projects/cachep/specs", { source, workspace })).status).toBe(201);
    const runOnce = async () => {
      const started = await server.api<{ id: string }>("POST", "/api/v1/projects/cachep/pipelines/check/runs", {});
      await server.server.opened.services.pipelines.settled(started.body.id);
      return started.body.id;
    };
    await addRows("a,b\n1,2\n");
    await runOnce();
    await addRows("a,b\n1,2\n3,4\n");
    const id = await runOnce();
    const step = (await server.api<Run>("GET", `/api/v1/projects/cachep/pipeline-runs/${id}`)).body.steps[0]!;
    await page.goto(`${server.url}/p/cachep/pipeline-runs/${id}`);
    await page.getByTestId("run-dag").locator(`[data-node="${step.id}"]`).click();
    await expect
      .poll(() => page.getByTestId("step-references").textContent())
      .toMatch(/dataset rows@latest → rows@2 \(sha256:[0-9a-f]{12}/);
    await expect
      .poll(() => page.getByTestId("cache-summary").textContent())
      .toMatch(/^miss: 1 part of \d+ differ from the nearest earlier key \(run \w+\): with\.dataset$/);
    const changed = page.getByTestId("cache-parts").locator("tr", { hasText: "with.dataset" });
    await expect(changed.textContent()).resolves.toContain("changed");
    await expect(changed.textContent()).resolves.toContain("rows@latest → rows@2 (was rows@latest → rows@1)");
    await expect(page.getByTestId("step-environment").textContent()).resolves.toMatch(/node\s*v\d+/);
    expect(await checkPage(page, "pipeline-run-cache")).toEqual([]);
    expect(browser.errors).toEqual([]);
  });

  it("draws a gradient-boosting step's feature importance (gain share) as bars, the values the API's", async () => {
    const { page } = browser;
    // y depends on a strongly, on b a little, and not at all on c.
    const rows = Array.from({ length: 200 }, (_, i) => {
      const [a, b, c] = [(i * 37) % 101, (i * 53) % 97, (i * 11) % 7];
      return `${a},${b},${c},${a + b / 10 > 55 ? 1 : 0}`;
    });
    writeFileSync(join(workspace, "train.csv"), ["a,b,c,y", ...rows].join("\n") + "\n");
    const source = `project: trainp
pipelines:
  fit:
    steps:
      train:
        uses: tandem/train
        with:
          algorithm: gradient_boosting
          task: binary_classification
          data: train.csv
          target: y
          params: { max_iter: 20 }
        outputs:
          model: dir
      register:
        needs: [train]
        uses: tandem/register
        with:
          model: fitted
          artifact: \${{ steps.train.outputs.model }}
`;
    expect((await server.api("POST", "/api/v1/projects/trainp/specs", { source, workspace })).status).toBe(201);
    const started = await server.api<{ id: string }>("POST", "/api/v1/projects/trainp/pipelines/fit/runs", {});
    await server.server.opened.services.pipelines.settled(started.body.id);
    type StepMetrics = { name: string; status: string; id: string; metrics: Record<string, number> };
    const run = (
      await server.api<{ steps: StepMetrics[] }>("GET", `/api/v1/projects/trainp/pipeline-runs/${started.body.id}`)
    ).body;
    const step = run.steps.find((st) => st.name === "train")!;
    expect(run.steps.map((st) => st.status)).toEqual(["succeeded", "succeeded"]);
    const importance = Object.entries(step.metrics)
      .filter(([k]) => k.startsWith("importance."))
      .map(([k, v]) => [k.slice("importance.".length), String(v)])
      .sort((x, y) => Number(y[1]) - Number(x[1]));
    expect(importance.map(([f]) => f)[0]).toBe("a");
    await page.goto(`${server.url}/p/trainp/pipeline-runs/${started.body.id}`);
    await page.getByTestId("run-dag").locator(`[data-node="${step.id}"]`).click();
    /** The drawn bars as [feature, value], top to bottom, once they are there. */
    const drawnBars = async () => {
      const bars = page.getByTestId("feature-importance").locator("g[data-bar]");
      await bars.first().waitFor();
      return bars.evaluateAll((gs) => gs.map((g) => [g.getAttribute("data-bar"), g.getAttribute("data-value")]));
    };
    // One bar per feature, largest first, each carrying the API's value.
    await expect(drawnBars()).resolves.toEqual(importance);
    expect(await checkPage(page, "pipeline-step-importance")).toEqual([]);
    // The version the run registered shows the same bars, from its pipeline run's train step.
    await page.goto(`${server.url}/p/trainp/models/fitted/1`);
    await expect(drawnBars()).resolves.toEqual(importance);
    expect(await checkPage(page, "model-version-importance")).toEqual([]);
    expect(browser.errors).toEqual([]);
  });
});
