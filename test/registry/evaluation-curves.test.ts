/**
 * `tandem/evaluate` on a binary classifier stores its ROC and PR curves (down-sampled, ends kept),
 * their areas and the confusion matrix, for the evaluated version and the champion it is compared
 * with; GET …/versions/{v}/evaluations (what the model page reads) returns them. A manual evaluation
 * and a regressor's have none. On SQLite and PostgreSQL, through a real server and ONNX models.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { linearClassifierOnnx } from "../helpers/onnx-models.js";
import { registerOnnxVersion } from "../helpers/model-upload.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";

const P = "/api/v1/projects/default";
const FEATURES = ["tenure", "charges", "calls"];
const ROWS = 600;

interface Curves {
  roc: { fpr: number[]; tpr: number[]; thresholds: number[] };
  pr: { precision: number[]; recall: number[]; thresholds: number[] };
  roc_auc: number;
  average_precision: number;
  positive_label: string;
  confusion: { threshold: number; matrix: number[][] };
}
interface Evals {
  evaluations: Array<{ dataset: string; metrics: Record<string, number>; curves: Curves | null; source: string }>;
}

/** Rows whose label leans on tenure and calls, with every score distinct (so the full curves are long). */
function churnCsv(): string {
  const lines = [`${FEATURES.join(",")},churned`];
  for (let i = 0; i < ROWS; i++) {
    const tenure = ((i * 37) % 101) / 10;
    const charges = ((i * 53) % 97) / 10 + i / 1000;
    const calls = (i * 11) % 7;
    const noise = ((i * 29) % 13) - 6;
    lines.push(`${tenure},${charges},${calls},${calls * 2 - tenure + noise > 0 ? "churn" : "stay"}`);
  }
  return `${lines.join("\n")}\n`;
}

const spec = (data: string) => `project: default
pipelines:
  check:
    steps:
      evaluate:
        uses: tandem/evaluate
        with:
          model: churn@candidate
          data: ${data}
          target: churned
          data_ref: churn-holdout@1
          compare: [champion]
          threshold: 0.4
`;

for (const kind of STORE_KINDS) {
  const run = kind === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`tandem/evaluate stores a classifier's curves [${kind}]`, () => {
    let server: TestServer;
    let workspace: string;

    async function register(weights: number[]): Promise<number> {
      const bytes = linearClassifierOnnx({ features: FEATURES, weights, bias: 0, classLabels: ["stay", "churn"] });
      const made = await registerOnnxVersion(server, P, "churn", bytes);
      expect(made.status).toBe(201);
      return made.version;
    }
    const evaluations = async (v: number) =>
      (await server.api<Evals>("GET", `${P}/models/churn/versions/${v}/evaluations`)).body.evaluations;

    beforeAll(async () => {
      server = await startTestServer({ store: kind });
      workspace = mkdtempSync(join(tmpdir(), "curves-eval-"));
      const data = join(workspace, "churn.csv");
      writeFileSync(data, churnCsv());
      await register([-0.2, 0.01, 0.3]);
      await register([-0.6, 0.0, 0.9]);
      expect((await server.api("PUT", `${P}/models/churn/aliases/champion`, { version: 1 })).status).toBe(200);
      expect((await server.api("PUT", `${P}/models/churn/aliases/candidate`, { version: 2 })).status).toBe(200);
      const pipelines = server.server.opened.services.pipelines;
      const source = spec("churn.csv");
      writeFileSync(join(workspace, "tandem.yaml"), source);
      await pipelines.specs.apply("admin", "default", { source, workspace, role: "admin" });
      const started = await pipelines.startRun("admin", "default", { pipeline: "check" });
      await pipelines.settled(started!.id);
      const done = await pipelines.getRun("default", started!.id);
      expect(done.status, JSON.stringify(done.steps.map((s) => [s.name, s.status, s.error]))).toBe("succeeded");
    });
    afterAll(async () => {
      await server?.stop();
      if (workspace) rmSync(workspace, { recursive: true, force: true });
    });

    it("keeps each version's ROC and PR curves, cut to 200 points with their ends, and areas equal to the metrics", async () => {
      for (const v of [2, 1]) {
        const [e] = await evaluations(v);
        const c = e!.curves!;
        expect(e!.source).toBe("pipeline");
        // ~600 distinct scores: the full curves are longer than what is stored.
        expect(c.roc.fpr.length).toBeLessThanOrEqual(200);
        expect(c.pr.recall).toHaveLength(200);
        expect(c.pr.thresholds).toHaveLength(199);
        expect([c.roc.fpr[0], c.roc.tpr[0], c.roc.fpr.at(-1), c.roc.tpr.at(-1)]).toEqual([0, 0, 1, 1]);
        expect([c.pr.recall[0], c.pr.recall.at(-1), c.pr.precision.at(-1)]).toEqual([1, 0, 1]);
        expect(c.roc.fpr).toEqual([...c.roc.fpr].sort((a, b) => a - b));
        expect(c.roc_auc).toBeCloseTo(e!.metrics.roc_auc!, 12);
        expect(c.average_precision).toBeGreaterThan(0);
        expect(c.average_precision).toBeLessThanOrEqual(1);
        // The matrix at the step's threshold covers every row once.
        expect(c.confusion.threshold).toBe(0.4);
        // The class whose probability the model outputs (its second class label), as the metrics use.
        expect(c.positive_label).toBe("churn");
        expect(c.confusion.matrix.flat().reduce((a, b) => a + b, 0)).toBe(ROWS);
      }
      // Two different models: two different curves.
      expect((await evaluations(2))[0]!.curves!.roc_auc).not.toBe((await evaluations(1))[0]!.curves!.roc_auc);
    });

    it("stores no curves for a manual evaluation", async () => {
      const posted = await server.api("POST", `${P}/models/churn/versions/1/evaluations`, {
        dataset: "by-hand@1",
        metrics: { roc_auc: 0.9 },
      });
      expect(posted.status).toBe(201);
      const [manual] = await evaluations(1);
      expect([manual!.dataset, manual!.curves]).toEqual(["by-hand@1", null]);
    });
  });
}
