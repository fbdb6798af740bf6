/**
 * Lineage as a user meets it: a pipeline reads a dataset version, trains (here: ships a prepared ONNX
 * file) and registers the model with tandem/register; the model version's page draws the lineage
 * graph (version → step run → pipeline run → steps) with exactly the nodes the API reports.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { linearClassifierOnnx } from "../helpers/onnx-models.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { checkPage, ensureWebBuilt, openBrowser, signIn, type Browser } from "./browser.js";

const P = "/api/v1/projects/default";

describe("Model lineage page (e2e, Chromium)", () => {
  let server: TestServer;
  let browser: Browser;
  let workspace: string;

  beforeAll(async () => {
    ensureWebBuilt();
    server = await startTestServer();
    workspace = mkdtempSync(join(tmpdir(), "tandem-e2e-lineage-"));
    const onnx = join(workspace, "model.onnx");
    writeFileSync(
      onnx,
      linearClassifierOnnx({
        features: ["distance", "hour"],
        weights: [0.001, 0.05],
        bias: -1,
        classLabels: ["0", "1"],
      }),
    );
    const csv =
      "distance,hour,delayed\n" +
      Array.from({ length: 50 }, (_, i) => `${100 + i * 10},${i % 24},${i % 3 === 0 ? 1 : 0}`).join("\n") +
      "\n";
    const blob = await fetch(`${server.url}${P}/datasets/flights/blobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/octet-stream" },
      body: csv,
    });
    const { sha256, size } = (await blob.json()) as { sha256: string; size: number };
    await server.api("POST", `${P}/datasets/flights/versions`, {
      entries: [{ path: "flights.csv", sha256, size }],
      kind: "file",
    });
    const source = `project: default
pipelines:
  train:
    steps:
      prepare:
        inputs:
          raw: dataset://flights@latest
        outputs:
          table: dir
        run: |
          cp \${{ inputs.raw }} "$TANDEM_OUTPUT_TABLE/flights.csv"
      train:
        needs: [prepare]
        inputs:
          table: \${{ steps.prepare.outputs.table }}
        outputs:
          model: dir
        run: |
          test -s \${{ inputs.table }}/flights.csv
          cp ${onnx} "$TANDEM_OUTPUT_MODEL/model.onnx"
      register:
        needs: [train]
        uses: tandem/register
        with:
          model: flights-delay
          artifact: \${{ steps.train.outputs.model }}
`;
    expect((await server.api("POST", `${P}/specs`, { source, file: "tandem.yaml", workspace })).status).toBe(201);
    const run = await server.api<{ id: string }>("POST", `${P}/pipelines/train/runs`, {});
    expect(run.status).toBe(202);
    // Hooks cannot use expect.poll: wait for the run by hand.
    for (let i = 0; i < 300; i++) {
      const status = (await server.api<{ status: string }>("GET", `${P}/pipeline-runs/${run.body.id}`)).body.status;
      if (status !== "queued" && status !== "running") {
        expect(status).toBe("succeeded");
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    browser = await openBrowser();
    await signIn(browser.page, server.url, server.adminToken);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(workspace, { recursive: true, force: true });
  });

  it("draws the version's lineage through its pipeline run, node for node as the API reports it", async () => {
    const { page } = browser;
    await page.goto(`${server.url}/p/default/models/flights-delay/1`);
    await page.getByTestId("lineage-graph").locator("[data-node]").first().waitFor();
    const lineage = await server.api<{ nodes: Array<{ id: string; kind: string }>; dataset_versions: string[] }>(
      "GET",
      `${P}/models/flights-delay/versions/1/lineage`,
    );
    // The registry follows the version to its pipeline run and steps. (The steps' dataset inputs do not
    // reach the lineage yet; the page shows whatever the API reports, checked node by node below.)
    expect(lineage.body.nodes.map((n) => n.kind)).toEqual(
      expect.arrayContaining(["model_version", "pipeline_run", "step_run"]),
    );
    const shown = await page
      .getByTestId("lineage-graph")
      .locator("[data-node]")
      .evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-node")));
    expect(shown.sort()).toEqual(lineage.body.nodes.map((n) => n.id).sort());
    await expect(page.getByTestId("lineage-datasets").textContent()).resolves.toBe(
      lineage.body.dataset_versions.join(", ") || "—",
    );
    expect(await checkPage(page, "model-lineage")).toEqual([]);
    expect(browser.errors).toEqual([]);
  });
});
