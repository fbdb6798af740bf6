/**
 * Serving end to end on a real listening server with real onnxruntime sessions: deploy, both
 * protocols, canary (sticky), shadow, feedback, rollout through the canary and its automatic
 * rollback on an injected error rate, manual rollback, deployment records and /metrics.
 */
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { brokenClassifierOnnx, linearClassifierOnnx, linearRegressorOnnx } from "../helpers/onnx-models.js";
import { postgresAvailable, type StoreKind } from "../helpers/stores.js";
import { cli } from "../pipelines/cli.js";
import { predict, registerOnnx, setAlias, settle, startServingServer } from "./helpers.js";

const FEATURES = ["tenure", "charges", "calls"];
const v1Bytes = linearClassifierOnnx({
  features: FEATURES,
  weights: [0.5, -0.2, 0.1],
  bias: 0,
  classLabels: ["stay", "churn"],
});
const v2Bytes = linearClassifierOnnx({
  features: FEATURES,
  weights: [-0.5, 0.2, 0.3],
  bias: 0.1,
  classLabels: ["stay", "churn"],
});
const brokenBytes = brokenClassifierOnnx({ features: FEATURES });
const row = { tenure: 3, charges: 1, calls: 2 };

for (const kind of ["sqlite", "postgres"] as StoreKind[]) {
  const run = kind === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`serving [${kind}]`, () => {
    let t: Awaited<ReturnType<typeof startServingServer>>;
    const P = "churn-team";

    beforeAll(async () => {
      t = await startServingServer({ store: kind });
      await t.api("PUT", `/api/v1/projects/${P}/members/admin`, { role: "admin" });
      expect(await registerOnnx(t.services, P, "churn", v1Bytes)).toBe(1);
      expect(await registerOnnx(t.services, P, "churn", v2Bytes)).toBe(2);
      expect(await registerOnnx(t.services, P, "churn", brokenBytes)).toBe(3);
      await setAlias(t.services, P, "churn", 1, "champion");
    }, 60_000);
    afterAll(async () => {
      await t?.stop();
    });

    it("deploys an alias-following endpoint and answers the v1 protocol", async () => {
      const res = await t.api<Record<string, unknown>>("PUT", `/api/v1/projects/${P}/endpoints/churn`, {
        model: "churn@champion",
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        name: "churn",
        primary: "churn@champion",
        primary_version: 1,
        status: "serving",
      });
      await t.services.serving.runtime.sync();

      const r = await predict(t, P, "churn", [row, [3, 1, 2]]);
      expect(r.status).toBe(200);
      expect(r.body.model_version).toBe(1);
      const predictions = r.body.predictions as Array<{ label: string; probabilities: Record<string, number> }>;
      expect(predictions).toHaveLength(2);
      expect(predictions[0]).toEqual(predictions[1]);
      // sigmoid(0.5*3 - 0.2*1 + 0.1*2) = sigmoid(1.5)
      expect(predictions[0]!.label).toBe("churn");
      expect(predictions[0]!.probabilities.churn).toBeCloseTo(1 / (1 + Math.exp(-1.5)), 5);
      expect(Object.keys(predictions[0]!.probabilities)).toEqual(["stay", "churn"]);
      expect((r.body.prediction_ids as string[]).length).toBe(2);
      expect(typeof r.body.request_id).toBe("string");
    });

    it("answers 422 naming the instance and feature, 404 for an unknown endpoint", async () => {
      const missing = await predict(t, P, "churn", [row, { tenure: 1, charges: 2 }]);
      expect(missing.status).toBe(422);
      expect(JSON.stringify(missing.body)).toContain('instances[1]: missing feature \\"calls\\"');
      const wrong = await predict(t, P, "churn", [{ ...row, charges: "high" }]);
      expect(wrong.status).toBe(422);
      expect(JSON.stringify(wrong.body)).toMatch(/charges.*numeric/);
      expect((await predict(t, P, "nope", [row])).status).toBe(404);
      const noToken = await fetch(`${t.url}/v1/endpoints/churn/predict`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      expect(noToken.status).toBe(401);
    });

    it("speaks the Open Inference Protocol v2", async () => {
      const auth = {
        authorization: `Bearer ${t.adminToken}`,
        "x-tandem-project": P,
        "content-type": "application/json",
      };
      expect(await (await fetch(`${t.url}/v2/health/live`)).json()).toEqual({ live: true });
      expect(await (await fetch(`${t.url}/v2/health/ready`)).json()).toEqual({ ready: true });
      const ready = await fetch(`${t.url}/v2/models/churn/ready`, { headers: { "x-tandem-project": P } });
      expect(ready.status).toBe(200);
      const meta = (await (await fetch(`${t.url}/v2/models/churn`, { headers: auth })).json()) as Record<
        string,
        unknown
      >;
      expect(meta).toMatchObject({ name: "churn", versions: ["1"], platform: "onnxruntime_onnx" });
      expect(meta.inputs).toEqual([{ name: "features", datatype: "FP32", shape: [-1, 3] }]);

      const whole = await fetch(`${t.url}/v2/models/churn/infer`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({
          id: "req-1",
          inputs: [{ name: "features", shape: [2, 3], datatype: "FP32", data: [3, 1, 2, 0, 0, 0] }],
        }),
      });
      expect(whole.status).toBe(200);
      const body = (await whole.json()) as {
        id: string;
        model_version: string;
        outputs: Array<{ name: string; shape: number[]; data: unknown[]; datatype: string }>;
      };
      expect(body.id).toBe("req-1");
      expect(body.model_version).toBe("1");
      const label = body.outputs.find((o) => o.name === "label")!;
      const probs = body.outputs.find((o) => o.name === "probabilities")!;
      expect(label).toMatchObject({ datatype: "BYTES", shape: [2], data: ["churn", "stay"] });
      expect(probs.shape).toEqual([2, 2]);
      expect(probs.data[1] as number).toBeCloseTo(1 / (1 + Math.exp(-1.5)), 5);

      const columns = await fetch(`${t.url}/v2/models/churn/infer`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({
          inputs: FEATURES.map((f) => ({ name: f, shape: [1], datatype: "FP32", data: [row[f as keyof typeof row]] })),
        }),
      });
      expect(columns.status).toBe(200);
      const bad = await fetch(`${t.url}/v2/models/churn/infer`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ inputs: [{ name: "tenure", shape: [1], datatype: "FP32", data: [1] }] }),
      });
      expect(bad.status).toBe(422);
      // The tensor's values are checked once, by the codec: a value that is not a number names its
      // instance and feature; data that is not an array is refused before that.
      const infer = (data: unknown) =>
        fetch(`${t.url}/v2/models/churn/infer`, {
          method: "POST",
          headers: auth,
          body: JSON.stringify({ inputs: [{ name: "features", shape: [2, 3], datatype: "FP32", data }] }),
        });
      const notNumber = await infer([3, 1, 2, 0, "x", 0]);
      expect(notNumber.status).toBe(422);
      expect(JSON.stringify(await notNumber.json())).toMatch(/instances\[1\]: feature \\"charges\\" is numeric/);
      const nested = await infer([
        [3, 1, 2],
        [0, 0, 0],
      ]);
      expect(nested.status).toBe(200);
      expect((await infer("3,1,2")).status).toBe(400);
    });

    it("splits traffic to a canary, sticky per routing key", async () => {
      await setAlias(t.services, P, "churn", 2, "challenger");
      const res = await t.api<Record<string, unknown>>("PUT", `/api/v1/projects/${P}/endpoints/churn`, {
        model: "churn@champion",
        canary: { selector: "challenger", percent: 50 },
      });
      expect(res.body).toMatchObject({ primary_version: 1, canary_version: 2 });
      await t.services.serving.runtime.sync();
      const seen = new Map<string, Set<unknown>>();
      for (let i = 0; i < 40; i++) {
        const key = `user-${i % 10}`;
        const r = await predict(t, P, "churn", [row], { "x-tandem-routing-key": key });
        expect(r.status).toBe(200);
        if (!seen.has(key)) seen.set(key, new Set());
        seen.get(key)!.add(r.body.model_version);
      }
      for (const versions of seen.values()) expect(versions.size).toBe(1);
      const all = new Set([...seen.values()].flatMap((s) => [...s]));
      expect(all).toEqual(new Set([1, 2]));
    });

    it("answers OIP v2 server metadata, and one served version by name: no split, logged under it", async () => {
      const headers = {
        authorization: `Bearer ${t.adminToken}`,
        "x-tandem-project": P,
        "content-type": "application/json",
      };
      const get = async (path: string) => {
        const res = await fetch(`${t.url}${path}`, { headers });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      const infer = async (version: number, routingKey: string) => {
        const res = await fetch(`${t.url}/v2/models/churn/versions/${version}/infer`, {
          method: "POST",
          headers: { ...headers, "x-tandem-routing-key": routingKey },
          body: JSON.stringify({ inputs: [{ name: "features", shape: [1, 3], datatype: "FP32", data: [3, 1, 2] }] }),
        });
        return {
          status: res.status,
          slot: res.headers.get("x-tandem-slot"),
          body: (await res.json()) as {
            model_version: string;
            parameters: { request_id: string };
            outputs: Array<{ name: string; data: number[] }>;
            error?: { message: string };
          },
        };
      };
      expect((await get("/v2")).body).toEqual({ name: "tandem", version: "0.1.0", extensions: ["tandem_routing_key"] });
      // The endpoint serves v1 (primary) and v2 (canary at 50%), as the previous test left it.
      expect((await get("/v2/models/churn")).body.versions).toEqual(["1", "2"]);
      expect((await get("/v2/models/churn/versions/2")).body).toMatchObject({ name: "churn", versions: ["2"] });
      expect(await get("/v2/models/churn/versions/2/ready")).toEqual({
        status: 200,
        body: { name: "churn", ready: true },
      });
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => infer(2, `user-${i}`)));
      for (const a of answers) {
        expect(a).toMatchObject({ status: 200, slot: "canary", body: { model_version: "2" } });
        // v2's own weights: sigmoid(-0.5*3 + 0.2*1 + 0.3*2 + 0.1)
        const probabilities = a.body.outputs.find((o) => o.name === "probabilities")!.data;
        expect(probabilities[1]).toBeCloseTo(1 / (1 + Math.exp(0.6)), 5);
      }
      expect(await infer(1, "user-1")).toMatchObject({ status: 200, slot: "primary", body: { model_version: "1" } });
      const unserved = await infer(3, "user-1");
      expect(unserved.status).toBe(404);
      expect(unserved.body.error!.message).toBe(
        "endpoint churn does not serve version 3; it serves 1 (primary), 2 (canary)",
      );
      expect((await get("/v2/models/churn/versions/3/ready")).status).toBe(404);
      expect((await get("/v2/models/churn/versions/3")).status).toBe(404);

      await t.services.serving.logger.flush();
      const log = await t.services.serving.log.recent(P, "churn", 200);
      const direct = log.filter((e) => answers.some((a) => a.body.parameters.request_id === e.requestId));
      expect(direct).toHaveLength(10);
      expect(new Set(direct.map((e) => `${e.version}/${e.slot}`))).toEqual(new Set(["2/canary"]));
    });

    it("mirrors requests to a shadow: logged, never returned", async () => {
      const deployed = await t.api<{ shadow: string; shadow_percent: number }>(
        "PUT",
        `/api/v1/projects/${P}/endpoints/churn`,
        { model: "churn@champion", shadow: "2" },
      );
      expect(deployed.body).toMatchObject({ shadow: "churn@2", shadow_percent: 100 });
      await t.services.serving.runtime.sync();
      const r = await predict(t, P, "churn", [row]);
      expect(r.body.model_version).toBe(1);
      await new Promise((resolve) => setImmediate(resolve));
      await t.services.serving.logger.flush();
      await t.services.serving.logger.flush();
      const log = await t.services.serving.log.recent(P, "churn", 20);
      const mine = log.filter((e) => e.requestId === r.body.request_id);
      expect(mine.map((e) => e.slot).sort()).toEqual(["primary", "shadow"]);
      expect(mine.find((e) => e.slot === "shadow")!.version).toBe(2);
      expect(mine.find((e) => e.slot === "primary")!.features).toEqual(row);
    });

    it("takes feedback for logged predictions", async () => {
      const r = await predict(t, P, "churn", [row, row]);
      const ids = r.body.prediction_ids as string[];
      const fb = await fetch(`${t.url}/v1/endpoints/churn/feedback`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.adminToken}`, "x-tandem-project": P, "content-type": "application/json" },
        body: JSON.stringify([
          { prediction_id: ids[0], label: "churn" },
          { prediction_id: ids[1], label: "stay" },
          { prediction_id: "not-a-prediction", label: "stay" },
        ]),
      });
      expect(fb.status).toBe(200);
      expect(await fb.json()).toEqual({ accepted: 2, unknown_prediction_ids: ["not-a-prediction"] });
    });

    it("rolls a moved alias out through the canary and rolls it back automatically on an injected error rate", async () => {
      await t.api("PUT", `/api/v1/projects/${P}/endpoints/churn`, {
        model: "churn@champion",
        canary: { selector: "challenger", percent: 50 },
        slo: { min_requests: 5, window_seconds: 600, max_error_rate_increase: 0.1 },
      });
      // The broken model becomes champion: the endpoint rolls it out on the canary slot first.
      await setAlias(t.services, P, "churn", 3, "champion");
      await settle(t.services);
      const rolling = await t.api<Record<string, unknown>>("GET", `/api/v1/projects/${P}/endpoints/churn`);
      expect(rolling.body).toMatchObject({ primary_version: 1, canary_version: 3, status: "rolling_out" });

      // Every request still succeeds: a failing canary falls back to the primary.
      for (let i = 0; i < 30; i++) {
        const r = await predict(t, P, "churn", [row], { "x-tandem-routing-key": `k${i}` });
        expect(r.status).toBe(200);
        expect(r.body.model_version).toBe(1);
      }
      await settle(t.services);
      const after = await t.api<{
        primary_version: number;
        canary_version: number | null;
        events: Array<{ kind: string; severity: string; message: string; details: Record<string, unknown> }>;
        deployments: Array<{ version: number; outcome: string }>;
      }>("GET", `/api/v1/projects/${P}/endpoints/churn`);
      expect(after.body.primary_version).toBe(1);
      // The broken version left the canary slot; the canary alias (challenger@2) has it again.
      expect(after.body.canary_version).toBe(2);
      const breach = after.body.events.find((e) => e.kind === "slo_breach" && e.severity === "critical");
      // The event names the SLO, both values, the sample sizes and the p-value; so does the CLI.
      expect(breach?.message).toMatch(
        /^rollout of churn@3 broke its error rate SLO: canary 100\.0% \((\d+) of \1 requests\) vs primary 0\.0% \(0 of \d+\), two-proportion p = [\d.e-]+: more than the allowed \+10\.0 points; traffic returned to churn@1$/,
      );
      expect(breach?.details).toMatchObject({
        slo: "error_rate",
        canary_value: 1,
        primary_value: 0,
        significance: 0.05,
      });
      const shown = await cli(["endpoints", "show", "churn", "--project", P], {
        cwd: tmpdir(),
        env: { TANDEM_URL: t.url, TANDEM_TOKEN: t.adminToken },
      });
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toContain(breach!.message);
      expect(after.body.deployments.find((d) => d.version === 3)!.outcome).toBe("failed");
      // Alias and traffic agree again.
      expect((await t.services.registry.resolve(P, "churn@champion")).version).toBe(1);
      await settle(t.services);
      const settled = await t.api<Record<string, unknown>>("GET", `/api/v1/projects/${P}/endpoints/churn`);
      expect(settled.body).toMatchObject({ status: "serving", primary_version: 1 });
    });

    it("follows an alias move without a canary, and `rollback` moves traffic and alias back together", async () => {
      await t.api("PUT", `/api/v1/projects/${P}/endpoints/churn`, { model: "churn@champion" });
      await setAlias(t.services, P, "churn", 2, "champion");
      await settle(t.services);
      expect((await predict(t, P, "churn", [row])).body.model_version).toBe(2);
      const rb = await t.api<Record<string, unknown>>("POST", `/api/v1/projects/${P}/endpoints/churn/rollback`);
      expect(rb.status).toBe(200);
      expect(rb.body).toMatchObject({ rolled_back_from: 2, rolled_back_to: 1, primary_version: 1 });
      expect((await t.services.registry.resolve(P, "churn@champion")).version).toBe(1);
      await t.services.serving.runtime.sync();
      expect((await predict(t, P, "churn", [row])).body.model_version).toBe(1);
    });

    it("promotes the canary under the policy, and refuses a deploy the policy refuses", async () => {
      await setAlias(t.services, P, "churn", 2, "challenger");
      await t.api("PUT", `/api/v1/projects/${P}/endpoints/churn`, {
        model: "churn@champion",
        canary: { selector: "challenger", percent: 10 },
      });
      const promoted = await t.api<Record<string, unknown>>("POST", `/api/v1/projects/${P}/endpoints/churn/promote`);
      expect(promoted.status).toBe(200);
      expect(promoted.body).toMatchObject({ primary_version: 2, canary_version: null });
      expect((await t.services.registry.resolve(P, "churn@champion")).version).toBe(2);

      await t.services.registry.changePolicies({ actor: "admin", user: "admin", role: "admin" }, P, {
        strict: { accept_manual: false, require: [{ metric: "roc_auc >= 0.99" }] },
      });
      const refused = await t.api<{ error: { code: string; message: string } }>(
        "PUT",
        `/api/v1/projects/${P}/endpoints/strict`,
        { model: "churn@1", policy: "strict" },
      );
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe("POLICY_REFUSED");
      expect(refused.body.error.message).toContain("roc_auc");
      expect((await t.api("GET", `/api/v1/projects/${P}/endpoints/strict`)).status).toBe(404);
      await t.services.registry.changePolicies({ actor: "admin", user: "admin", role: "admin" }, P, {});
    });

    it("never drops an in-flight request while switching versions", async () => {
      await t.api("PUT", `/api/v1/projects/${P}/endpoints/churn`, { model: "churn@1" });
      await t.services.serving.runtime.sync();
      const inFlight = Array.from({ length: 150 }, (_, i) =>
        predict(t, P, "churn", [row], { "x-request-id": `switch-${i}` }),
      );
      // Switch twice while those requests are queued or running; old sessions close only once drained.
      await t.api("PUT", `/api/v1/projects/${P}/endpoints/churn`, { model: "churn@2" });
      await t.services.serving.runtime.sync();
      await t.api("PUT", `/api/v1/projects/${P}/endpoints/churn`, { model: "churn@1" });
      await t.services.serving.runtime.sync();
      const results = await Promise.all(inFlight);
      expect(results.filter((r) => r.status !== 200)).toEqual([]);
      expect(new Set(results.map((r) => r.body.model_version)).size).toBeGreaterThanOrEqual(1);
      await t.api("PUT", `/api/v1/projects/${P}/endpoints/churn`, { model: "churn@champion" });
      await t.services.serving.runtime.sync();
    });

    it("records deployments of models and software services", async () => {
      const rec = await t.api<Record<string, unknown>>("POST", `/api/v1/projects/${P}/deployments`, {
        service: "web",
        commit: "abc123",
        environment: "production",
      });
      expect(rec.status).toBe(201);
      const list = await t.api<{
        deployments: Array<{ kind: string; target: string; outcome: string; commit: string | null }>;
      }>("GET", `/api/v1/projects/${P}/deployments`);
      expect(list.body.deployments.some((d) => d.kind === "service" && d.commit === "abc123")).toBe(true);
      expect(list.body.deployments.filter((d) => d.kind === "model" && d.target === "churn").length).toBeGreaterThan(3);
    });

    it("exports per-endpoint, per-version request counts and latency on /metrics", async () => {
      const text = await (await fetch(`${t.url}/metrics`)).text();
      expect(text).toMatch(
        /tandem_serving_requests_total\{project="churn-team",endpoint="churn",version="1",slot="primary",outcome="ok"\} \d+/,
      );
      expect(text).toMatch(/tandem_serving_requests_total\{[^}]*version="3",slot="canary",outcome="error"\} \d+/);
      expect(text).toContain("tandem_serving_latency_seconds_bucket");
    });
  });
}

describe("regressors", () => {
  it("answer {value}", async () => {
    const t = await startServingServer();
    try {
      const bytes = linearRegressorOnnx({ features: ["x", "y"], weights: [2, 3], bias: 1 });
      await registerOnnx(t.services, "default", "price", bytes);
      await t.api("PUT", `/api/v1/projects/default/endpoints/price`, { model: "price@1" });
      await t.services.serving.runtime.sync();
      const r = await predict(t, "default", "price", [{ x: 1, y: 1 }]);
      expect(r.body.predictions).toEqual([{ value: 6 }]);
    } finally {
      await t.stop();
    }
  });
});
