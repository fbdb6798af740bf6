/**
 * The whole closed loop against a real `tandem server` over HTTP, with its background loops on:
 * a champion trained by a pipeline serves traffic; the world changes (the label's relation to the
 * features and its share both move); feedback labels come back; the scheduled monitor fires its
 * alert; the alert starts the retrain pipeline, which exports the labelled traffic as a new dataset
 * version, trains and evaluates a challenger against the champion on it, registers it under a
 * policy with no humans, and deploys it as a canary; the canary is promoted under the policy.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";

const SPEC = `project: default
pipelines:
  train:
    steps:
      train:
        uses: tandem/train
        inputs:
          raw: dataset://toy@latest
        with:
          algorithm: logistic_regression
          task: binary_classification
          data: \${{ inputs.raw }}
          target: label
          features: [x1, x2]
        outputs:
          model: dir
      evaluate:
        uses: tandem/evaluate
        inputs:
          raw: dataset://toy@latest
        with:
          model: \${{ steps.train.outputs.model }}
          data: \${{ inputs.raw }}
          target: label
      register:
        needs: [evaluate]
        uses: tandem/register
        with:
          model: toy
          artifact: \${{ steps.train.outputs.model }}
          alias: champion
          policy: auto
      deploy:
        needs: [register]
        uses: tandem/deploy
        with:
          model: toy@champion
          endpoint: toy
          policy: auto
  retrain:
    triggers:
      - alert: toy-drift
    steps:
      export:
        cache: false
        uses: tandem/export-traffic
        with:
          endpoint: toy
          since: 1d
          dataset: toy-traffic
      train:
        needs: [export]
        uses: tandem/train
        inputs:
          fresh: dataset://toy-traffic@latest
        with:
          algorithm: logistic_regression
          task: binary_classification
          data: \${{ inputs.fresh }}
          target: target
          features: [x1, x2]
        outputs:
          model: dir
      evaluate:
        uses: tandem/evaluate
        inputs:
          fresh: dataset://toy-traffic@latest
        with:
          model: \${{ steps.train.outputs.model }}
          model_name: toy
          data: \${{ inputs.fresh }}
          target: target
          compare: [champion]
      register:
        needs: [evaluate]
        uses: tandem/register
        with:
          model: toy
          artifact: \${{ steps.train.outputs.model }}
          alias: challenger
          policy: retrain
      deploy:
        needs: [register]
        cache: false
        uses: tandem/deploy
        with:
          model: toy@champion
          endpoint: toy
          canary: challenger:50
          policy: serve
policies:
  auto:
    require:
      - metric: accuracy >= 0.5
  retrain:
    require:
      - metric: accuracy >= 0.5
      - beats: { alias: champion, metric: accuracy }
  # What may take traffic after a retrain: the champion being replaced scores badly on the fresh
  # data (that is why it is replaced), so this bar only keeps out models worse than a coin.
  serve:
    require:
      - metric: accuracy >= 0.3
monitors:
  toy-drift:
    endpoint: toy
    schedule: "*/2 * * * * *"
    window: 1h
    reference: dataset://toy@1
    columns:
      features: [x1, x2]
      target: label
    min_rows: 100
    checks:
      - data_drift
      - target_drift: { test: z }
`;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Before: late when x1 > 0.6 (20%). After: late when x1 < -0.2 (40%) — the features stay put. */
const labelBefore = (x1: number) => (x1 > 0.6 ? 1 : 0);
const labelAfter = (x1: number) => (x1 < -0.2 ? 1 : 0);

function referenceCsv(rows: number): string {
  const r = rng(7);
  const lines = ["x1,x2,label"];
  for (let i = 0; i < rows; i++) {
    const x1 = r() * 2 - 1;
    lines.push(`${x1.toFixed(4)},${["a", "b", "c"][Math.floor(r() * 3)]},${labelBefore(x1)}`);
  }
  return `${lines.join("\n")}\n`;
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

type Run = { id: string; pipeline: string; status: string; trigger: Record<string, unknown>; error: string | null };

for (const kind of STORE_KINDS)
  describe.skipIf(kind === "postgres" && !postgresAvailable())(`the closed loop over HTTP [${kind}]`, () => {
    let t: TestServer;
    const runs = async (pipeline: string) =>
      (await t.api<{ runs: Run[] }>("GET", `/api/v1/projects/default/pipeline-runs?pipeline=${pipeline}`)).body.runs;

    beforeAll(async () => {
      t = await startTestServer({ background: true, store: kind });
      const blob = await t.server.opened.services.artifacts.putBlob(referenceCsv(2000));
      await t.server.opened.services.data.createVersion("admin", "default", "toy", {
        kind: "file",
        entries: [{ path: "toy.csv", sha256: blob.sha256, size: blob.size }],
      });
      const workspace = mkdtempSync(join(tmpdir(), "tandem-loop-"));
      expect((await t.api("POST", "/api/v1/projects/default/specs", { source: SPEC, workspace })).status).toBe(201);
    });
    afterAll(async () => {
      await t?.stop();
    });

    it("retrains, gates and canaries by itself when the monitor's alert fires", async () => {
      // 1. The first champion, trained and deployed by a pipeline.
      const started = await t.api<Run>("POST", "/api/v1/projects/default/pipelines/train/runs", {});
      expect(started.status).toBe(202);
      const trained = await waitFor("the train run", async () => {
        const [run] = await runs("train");
        return run && ["succeeded", "failed"].includes(run.status) ? run : null;
      });
      if (trained.error) {
        const logs = await fetch(`${t.url}/api/v1/projects/default/pipeline-runs/${trained.id}/logs`, {
          headers: { authorization: `Bearer ${t.adminToken}` },
        });
        throw new Error(`train run failed: ${trained.error}\n${await logs.text()}`);
      }
      expect(trained.status).toBe("succeeded");
      await waitFor(
        "the endpoint to answer",
        async () =>
          (await t.api("POST", "/v1/endpoints/toy/predict", { instances: [{ x1: 0, x2: "a" }] })).status === 200,
      );

      // 2. The world changes: traffic whose true labels follow another rule, with feedback.
      const r = rng(11);
      for (let batch = 0; batch < 6; batch++) {
        const xs = Array.from({ length: 50 }, () => ({ x1: r() * 2 - 1, x2: ["a", "b", "c"][Math.floor(r() * 3)]! }));
        const predicted = await t.api<{ prediction_ids: string[] }>("POST", "/v1/endpoints/toy/predict", {
          instances: xs,
        });
        expect(predicted.status).toBe(200);
        const feedback = predicted.body.prediction_ids.map((id, i) => ({
          prediction_id: id,
          label: labelAfter(xs[i]!.x1),
        }));
        expect((await t.api("POST", "/v1/endpoints/toy/feedback", feedback)).status).toBe(200);
      }

      // 3. The scheduled monitor (every 2 s) sees the label share move and fires its alert.
      type Alert = { id: string; name: string; status: string; evidence: { result_id: string } };
      const alert = await waitFor("the monitor's alert", async () => {
        const { alerts } = (await t.api<{ alerts: Alert[] }>("GET", "/api/v1/projects/default/alerts?status=firing"))
          .body;
        return alerts.find((a) => a.name === "toy-drift");
      });
      const result = await t.api<{ status: string; checks: Array<{ check: string; passed: boolean }> }>(
        "GET",
        `/api/v1/projects/default/monitor-results/${alert.evidence.result_id}`,
      );
      expect(result.body.status).toBe("failing");
      expect(result.body.checks.find((c) => c.check === "target_drift")?.passed).toBe(false);
      expect(result.body.checks.find((c) => c.check === "data_drift")?.passed).toBe(true);

      // 4. The alert started the retrain pipeline, which names it as its trigger.
      const retrain = await waitFor(
        "the retrain run to finish",
        async () => {
          const [run] = await runs("retrain");
          return run && ["succeeded", "failed", "cancelled"].includes(run.status) ? run : null;
        },
        120_000,
      );
      expect(JSON.stringify(retrain.trigger)).toContain("toy-drift");
      if (retrain.error) {
        const logs = await fetch(`${t.url}/api/v1/projects/default/pipeline-runs/${retrain.id}/logs`, {
          headers: { authorization: `Bearer ${t.adminToken}` },
        });
        throw new Error(`retrain run failed: ${retrain.error}\n${await logs.text()}`);
      }
      expect(retrain.status).toBe("succeeded");

      // 5. A new version whose lineage reaches the newest dataset version: the exported traffic.
      const traffic = await t.api<{ versions: Array<{ version: number }> }>(
        "GET",
        "/api/v1/projects/default/datasets/toy-traffic/versions",
      );
      const newest = Math.max(...traffic.body.versions.map((v) => v.version));
      const challenger = await t.api<{ version: number }>(
        "GET",
        "/api/v1/projects/default/models/toy/versions/challenger",
      );
      expect(challenger.status).toBe(200);
      expect(challenger.body.version).toBe(2);
      const lineage = await t.api<{
        dataset_versions: string[];
        pipeline_run: { tags: Record<string, string> } | null;
      }>("GET", "/api/v1/projects/default/models/toy/versions/2/lineage");
      expect(lineage.body.dataset_versions.join(" ")).toMatch(new RegExp(`toy-traffic@(${newest}|sha256:)`));

      // 6. The policy decision record: every check, the value found, the threshold, pass.
      type Check = { policy: string; kind: string; value: number; threshold: number; outcome: string };
      const decisions = await t.api<{
        decisions: Array<{ verdict: string; target: { kind: string; name: string }; checks: Check[] }>;
      }>("GET", "/api/v1/projects/default/models/toy/versions/2/decisions");
      const gate = decisions.body.decisions.find((d) => d.target.kind === "alias" && d.target.name === "challenger")!;
      expect(gate.verdict).toBe("pass");
      const beats = gate.checks.find((c) => c.kind === "beats")!;
      expect(beats).toMatchObject({ policy: "retrain", outcome: "pass" });
      expect(beats.value).toBeGreaterThan(beats.threshold); // the challenger's accuracy over the champion's, same data

      // 7. The canary takes its share, and is promoted under the endpoint's policy.
      const endpoint = await waitFor("the canary", async () => {
        const e = await t.api<{ canary_version: number | null }>("GET", "/api/v1/projects/default/endpoints/toy");
        return e.body.canary_version === 2 ? e.body : null;
      });
      expect(endpoint.canary_version).toBe(2);
      // The canary's model loads in the serving runtime within moments; then it gets its share.
      let answers = 0;
      const canaryAnswer = await waitFor("an answer from the canary", async () => {
        const res = await t.api<{ model_version: number }>("POST", "/v1/endpoints/toy/predict", {
          instances: [{ x1: -0.5, x2: "a" }],
        });
        answers++;
        return res.status === 200 && res.body.model_version === 2 ? res.body : null;
      });
      expect(canaryAnswer.model_version).toBe(2);
      expect(answers).toBeGreaterThan(0);
      expect((await t.api("POST", "/api/v1/projects/default/endpoints/toy/promote", {})).status).toBe(200);
      const champion = await t.api<{ version: number }>("GET", "/api/v1/projects/default/models/toy/versions/champion");
      expect(champion.body.version).toBe(2);
      const deployments = await t.api<{ deployments: Array<{ version: number | null; outcome: string }> }>(
        "GET",
        "/api/v1/projects/default/deployments",
      );
      expect(deployments.body.deployments.some((d) => d.version === 2 && d.outcome === "succeeded")).toBe(true);
    });
  });
