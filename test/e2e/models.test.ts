/**
 * Models pages against a real server: versions and aliases as the API lists them, the lineage graph,
 * the model card, the policy decision table, and an approver approving a held version from the page
 * and seeing the alias move.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { linearClassifierOnnx } from "../helpers/onnx-models.js";
import { registerOnnxVersion } from "../helpers/model-upload.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { formatNumber } from "../../web/src/lib/format.js";
import { checkPage, ensureWebBuilt, openBrowser, signIn, type Browser } from "./browser.js";

const FEATURES = ["tenure", "charges", "calls"];
const P = "/api/v1/projects/default";

interface Model {
  aliases: Record<string, number>;
  versions: Array<{ version: number; aliases?: string[] }>;
}

describe("Models pages (e2e, Chromium)", () => {
  let server: TestServer;
  let browser: Browser;
  let approverToken: string;

  async function register(weights: number[]): Promise<number> {
    const bytes = linearClassifierOnnx({ features: FEATURES, weights, bias: 0, classLabels: ["stay", "churn"] });
    const made = await registerOnnxVersion(server, P, "churn", bytes, {
      description: "Churn classifier",
      intended_use: "Ranking retention offers",
    });
    expect(made.status).toBe(201);
    return made.version;
  }

  beforeAll(async () => {
    ensureWebBuilt();
    server = await startTestServer();
    await register([0.5, -0.2, 0.1]);
    await register([-0.5, 0.2, 0.3]);
    await server.api("PUT", `${P}/models/churn/aliases/champion`, { version: 1 });
    const policies = await server.api("PUT", `${P}/policies`, {
      policies: { release: { require: [{ approvals: { role: "approver", count: 1, for_alias: "champion" } }] } },
    });
    expect(policies.status).toBe(200);
    // admin (the author) asks for champion → v2: held until someone else approves.
    const held = await server.api<{ error: { details: { status: string } } }>(
      "PUT",
      `${P}/models/churn/aliases/champion`,
      { version: 2 },
    );
    expect(held.status).toBe(409);
    expect(held.body.error.details.status).toBe("pending");
    await server.api("POST", "/api/v1/users", { name: "pat" });
    await server.api("PUT", `${P}/members/pat`, { role: "approver" });
    approverToken = (await server.api<{ token: string }>("POST", "/api/v1/tokens", { name: "pat", user: "pat" })).body
      .token;
    browser = await openBrowser();
    await signIn(browser.page, server.url, approverToken);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const model = async () => (await server.api<Model>("GET", `${P}/models/churn`)).body;

  it("lists models and versions with the aliases the API reports", async () => {
    const { page } = browser;
    await page.getByRole("link", { name: "Models" }).click();
    await page.getByTestId("models-table").waitFor();
    expect(await checkPage(page, "models")).toEqual([]);
    await page.getByRole("link", { name: "churn", exact: true }).click();
    await page.getByTestId("versions-table").waitFor();
    const api = await model();
    const shown = await page
      .getByTestId("versions-table")
      .locator("tbody tr")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-key")));
    expect(shown).toEqual(api.versions.map((v) => String(v.version)));
    await expect(page.getByTestId("model-aliases").textContent()).resolves.toBe(
      Object.entries(api.aliases)
        .map(([a, v]) => `${a} → v${v}`)
        .join(", "),
    );
    expect(await checkPage(page, "model")).toEqual([]);
  });

  it("shows the held version's lineage, card and decision table, then approves it and the alias moves", async () => {
    const { page } = browser;
    await page.getByRole("link", { name: "v2", exact: true }).click();
    await page.getByTestId("decision-checks").waitFor();
    const decisions = await server.api<{
      decisions: Array<{ verdict: string; checks: Array<{ check: string; outcome: string }> }>;
    }>("GET", `${P}/models/churn/versions/2/decisions`);
    const latest = decisions.body.decisions[0]!;
    await expect(page.getByTestId("decision-verdict").textContent()).resolves.toBe(latest.verdict);
    const outcomes = await page.getByTestId("decision-checks").locator("td[data-col=outcome]").allTextContents();
    expect(outcomes).toEqual(latest.checks.map((c) => c.outcome));
    await page.getByTestId("lineage-graph").locator("[data-node]").first().waitFor();
    const lineage = await server.api<{ nodes: Array<{ id: string }> }>("GET", `${P}/models/churn/versions/2/lineage`);
    await expect(page.getByTestId("lineage-graph").locator("[data-node]").count()).resolves.toBe(
      lineage.body.nodes.length,
    );
    await expect(page.locator("#card").textContent()).resolves.toContain("Ranking retention offers");
    expect(await checkPage(page, "model-version-held")).toEqual([]);

    await page.getByLabel("Comment").fill("Checked the offline evaluation.");
    await page.getByRole("button", { name: "Approve v2" }).click();
    await expect(page.getByTestId("review-result").textContent()).resolves.toBe("Approved. Moved: champion → v2.");
    const after = await model();
    expect(after.aliases.champion).toBe(2);
    await expect.poll(() => page.getByTestId("version-aliases").textContent()).toContain("champion → v2");
    await expect(
      page.getByTestId("approvals-table").locator("td[data-col=comment]").first().textContent(),
    ).resolves.toBe("Checked the offline evaluation.");
    expect(await checkPage(page, "model-version")).toEqual([]);

    // The alias's history on the model page: every move, as the API records it.
    await page.getByRole("link", { name: "Model churn" }).click();
    const history = await server.api<{ events: Array<{ to_version: number | null; actor: string }> }>(
      "GET",
      `${P}/models/churn/aliases/champion/history`,
    );
    const table = page.getByTestId("alias-history-champion");
    await expect.poll(() => table.locator("tbody tr").count()).toBe(history.body.events.length);
    expect(await table.locator("td[data-col=to]").allTextContents()).toEqual(
      history.body.events.map((e) => (e.to_version === null ? "—" : `v${e.to_version}`)),
    );
    expect(history.body.events.at(-1)!.to_version).toBe(2);
    expect(await checkPage(page, "model-history")).toEqual([]);
    expect(browser.errors).toEqual([]);
  });

  it("lists each version's evaluation metrics and compares two versions side by side", async () => {
    const { page } = browser;
    const evaluate = (v: number, metrics: Record<string, number>) =>
      server.api("POST", `${P}/models/churn/versions/${v}/evaluations`, { dataset: "churn-holdout@1", metrics });
    expect((await evaluate(1, { roc_auc: 0.7125, accuracy: 0.81, log_loss: 0.44 })).status).toBe(201);
    expect((await evaluate(2, { roc_auc: 0.7431, accuracy: 0.8 })).status).toBe(201);
    await page.goto(`${server.url}/p/default/models/churn`);
    const table = page.getByTestId("version-metrics");
    await table.locator("tbody tr").first().waitFor();
    type Evals = { evaluations: Array<{ metrics: Record<string, number> }> };
    const api = await Promise.all(
      [2, 1].map(async (v) => (await server.api<Evals>("GET", `${P}/models/churn/versions/${v}/evaluations`)).body),
    );
    // Rows are versions, newest first; each metric cell is the API's number as formatNumber prints it.
    expect(await table.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-key")))).toEqual([
      "2",
      "1",
    ]);
    const cells = (col: string) => table.locator(`td[data-col=m-${col}]`).allTextContents();
    await expect(cells("roc_auc")).resolves.toEqual(api.map((e) => formatNumber(e.evaluations[0]!.metrics.roc_auc)));
    await expect(cells("log_loss")).resolves.toEqual(["—", formatNumber(api[1]!.evaluations[0]!.metrics.log_loss)]);
    // The comparison: v1 against v2 by default, with v2 − v1; a metric v2 lacks has no difference.
    const compare = page.getByTestId("version-compare");
    const row = (metric: string) => compare.locator(`tr[data-key=${metric}] td`).allTextContents();
    await expect(row("roc_auc")).resolves.toEqual([
      "roc_auc",
      formatNumber(0.7125),
      formatNumber(0.7431),
      formatNumber(0.7431 - 0.7125),
    ]);
    await expect(row("log_loss")).resolves.toEqual(["log_loss", formatNumber(0.44), "—", "—"]);
    // Choosing the same version on both sides gives zero differences.
    await page.getByLabel("Compare").selectOption("2");
    await expect
      .poll(() => row("accuracy"))
      .toEqual(["accuracy", formatNumber(0.8), formatNumber(0.8), formatNumber(0)]);
    expect(await checkPage(page, "model-metrics")).toEqual([]);
    expect(browser.errors).toEqual([]);
  });

  it("draws each version's ROC and PR curves and confusion matrix from tandem/evaluate, overlaid in the comparison", async () => {
    const { page } = browser;
    // tandem/evaluate scores both versions on 300 rows: a real pipeline run stores their curves.
    const workspace = mkdtempSync(join(tmpdir(), "curves-e2e-"));
    const rows = Array.from({ length: 300 }, (_, i) => {
      const [tenure, charges, calls] = [((i * 37) % 101) / 10, ((i * 53) % 97) / 10, (i * 11) % 7];
      return `${tenure},${charges},${calls},${calls - tenure / 3 + (((i * 29) % 13) - 6) / 3 > 0 ? "churn" : "stay"}`;
    });
    writeFileSync(join(workspace, "holdout.csv"), [`${FEATURES.join(",")},churned`, ...rows].join("\n") + "\n");
    const step = (v: number) =>
      `      v${v}:\n        uses: tandem/evaluate\n        with: { model: churn@${v}, data: holdout.csv, target: churned, data_ref: churn-holdout@2 }\n`;
    const source = `project: default\npipelines:\n  score:\n    steps:\n${step(1)}${step(2)}`;
    writeFileSync(join(workspace, "tandem.yaml"), source);
    const pipelines = server.server.opened.services.pipelines;
    await pipelines.specs.apply("admin", "default", { source, workspace, role: "admin" });
    const started = await pipelines.startRun("admin", "default", { pipeline: "score" });
    await pipelines.settled(started!.id);
    expect((await pipelines.getRun("default", started!.id)).status).toBe("succeeded");
    rmSync(workspace, { recursive: true, force: true });
    type Evals = {
      evaluations: Array<{
        metrics: Record<string, number>;
        curves: { roc_auc: number; positive_label: string; confusion: { matrix: number[][] } };
      }>;
    };
    const [v1, v2] = await Promise.all(
      [1, 2].map(
        async (v) =>
          (await server.api<Evals>("GET", `${P}/models/churn/versions/${v}/evaluations`)).body.evaluations[0]!,
      ),
    );

    await page.goto(`${server.url}/p/default/models/churn`);
    const roc = page.getByTestId("roc-chart");
    await roc.locator("polyline").first().waitFor();
    // v1 against v2 (the default comparison): both curves on each chart, the legend's AUC the API's.
    await expect(
      roc.locator("polyline").evaluateAll((ls) => ls.map((l) => l.getAttribute("data-series"))),
    ).resolves.toEqual([
      `v1 (AUC ${formatNumber(v1!.curves.roc_auc)})`,
      `v2 (AUC ${formatNumber(v2!.curves.roc_auc)})`,
    ]);
    expect(v2!.curves.roc_auc).toBeCloseTo(v2!.metrics.roc_auc!, 12);
    await expect(roc.locator(".curve-legend li").allTextContents()).resolves.toContain(
      `v2 (AUC ${formatNumber(v2!.metrics.roc_auc)})`,
    );
    await expect(page.getByTestId("pr-chart").locator("polyline").count()).resolves.toBe(2);
    // Each polyline has one vertex per stored point.
    const vertices = await roc.locator("polyline").first().getAttribute("points");
    expect(vertices!.split(" ").length).toBeGreaterThan(2);
    // The confusion matrices: the API's [[TN, FP], [FN, TP]], cell by cell.
    for (const [v, e] of [
      [1, v1!],
      [2, v2!],
    ] as const) {
      const cells = page.getByTestId(`confusion-v${v}`).locator("td[data-cell]");
      const m = e.curves.confusion.matrix;
      await expect(page.getByTestId(`confusion-v${v}`).locator("caption").textContent()).resolves.toContain(
        `(positive: ${e.curves.positive_label})`,
      );
      await expect(
        cells.evaluateAll((cs) => cs.map((c) => [c.getAttribute("data-cell"), c.textContent])),
      ).resolves.toEqual([
        ["tn", String(m[0]![0])],
        ["fp", String(m[0]![1])],
        ["fn", String(m[1]![0])],
        ["tp", String(m[1]![1])],
      ]);
    }
    // Comparing v2 with itself draws it once.
    await page.getByLabel("Compare").selectOption("2");
    await expect.poll(() => roc.locator("polyline").count()).toBe(1);
    expect(await checkPage(page, "model-curves")).toEqual([]);
    expect(browser.errors).toEqual([]);
  });
});
