/**
 * The registry's "done when", end to end over HTTP on a real server, on SQLite and on Postgres:
 * a version registered from a run that carries the lineage tags is held by the policy while an
 * approval is missing (the reasons shown), its author cannot approve it, an approver (a second
 * user) approves and the alias moves; a later version follows; a rollback moves the alias back; the
 * lineage is read back to the dataset version and git commit; the audit trail has every step.
 *
 * The runs are made through the MLflow-compatible tracking API with the lineage tags a pipeline's
 * steps carry (see src/core/registry/ports.ts); the pipeline-driven path is in builtins tests.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tinyOnnx } from "../helpers/onnx.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";

const PROJECT = "flights";
const P = `/api/v1/projects/${PROJECT}`;

interface Check {
  policy: string;
  kind: string;
  check: string;
  value: number | string | null;
  threshold: number | string | null;
  outcome: string;
  detail: string;
}

for (const kind of STORE_KINDS) {
  const run = kind === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`registry: policy, approval, alias, rollback, lineage, audit [${kind}]`, () => {
    let srv: TestServer;
    let alice: string;
    let bob: string;
    const runs: Record<string, string> = {};

    async function call<T = Record<string, unknown>>(
      method: string,
      path: string,
      body?: unknown,
      token?: string,
      headers: Record<string, string> = {},
    ) {
      const h: Record<string, string> = { ...headers, authorization: `Bearer ${token ?? srv.adminToken}` };
      let payload: string | Uint8Array | undefined;
      if (body instanceof Uint8Array) {
        h["content-type"] = "application/octet-stream";
        payload = body;
      } else if (body !== undefined) {
        h["content-type"] = "application/json";
        payload = JSON.stringify(body);
      }
      const res = await fetch(srv.url + path, { method, headers: h, body: payload as RequestInit["body"] });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    }

    async function mlflowRun(
      name: string,
      tags: Record<string, string>,
      metrics: Record<string, number> = {},
    ): Promise<string> {
      const hdr = { "x-tandem-project": PROJECT };
      const created = await call<{ run: { info: { run_id: string } } }>(
        "POST",
        "/api/2.0/mlflow/runs/create",
        {
          experiment_id: "0",
          run_name: name,
          start_time: Date.now(),
          tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
        },
        alice,
        hdr,
      );
      expect(created.status).toBe(200);
      const id = created.body.run.info.run_id;
      if (Object.keys(metrics).length) {
        const logged = await call(
          "POST",
          "/api/2.0/mlflow/runs/log-batch",
          {
            run_id: id,
            metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, timestamp: Date.now(), step: 0 })),
          },
          alice,
          hdr,
        );
        expect(logged.status).toBe(200);
      }
      return id;
    }

    async function register(bytes: Uint8Array, runId: string, token: string) {
      const up = await call<{ sha256: string }>("POST", `${P}/model-blobs`, bytes, token);
      expect(up.status).toBe(201);
      return call<{
        version: { version: number; ref: string; lineage: { dataset_versions: string[]; git_commit: string | null } };
        created: boolean;
      }>(
        "POST",
        `${P}/models/flights-delay/versions`,
        {
          artifact: { kind: "blob", sha256: up.body.sha256, file_name: "model.onnx" },
          run_id: runId,
          intended_use: "Predict departure delays over 15 minutes.",
        },
        token,
      );
    }

    beforeAll(async () => {
      srv = await startTestServer({ store: kind });
      for (const [user, role] of [
        ["alice", "member"],
        ["bob", "approver"],
      ] as const) {
        expect((await call("POST", "/api/v1/users", { name: user })).status).toBe(201);
        expect((await call("PUT", `${P}/members/${user}`, { role })).status).toBe(200);
      }
      alice = (await call<{ token: string }>("POST", "/api/v1/tokens", { name: "t", user: "alice" })).body.token;
      bob = (await call<{ token: string }>("POST", "/api/v1/tokens", { name: "t", user: "bob" })).body.token;
      const policies = await call("PUT", `${P}/policies`, {
        policies: {
          release: {
            // The runs and evaluations here are logged by hand (MLflow API, REST): manual evidence.
            accept_manual: true,
            require: [
              { metric: "roc_auc >= 0.70" },
              { beats: "champion" },
              { approvals: { role: "approver", count: 1, for_alias: "champion" } },
            ],
          },
        },
      });
      expect(policies.status).toBe(200);
      // A pipeline run and its steps, tagged as the pipelines engine tags them.
      runs.pipeline = await mlflowRun("train", {
        "tandem.pipeline": "train",
        "tandem.git_commit": "0123456789abcdef0123456789abcdef01234567",
      });
      runs.prepare = await mlflowRun("prepare", {
        "mlflow.parentRunId": runs.pipeline,
        "tandem.step": "prepare",
        "tandem.dataset_versions": '["flights@3"]',
      });
      runs.train = await mlflowRun(
        "train",
        {
          "mlflow.parentRunId": runs.pipeline,
          "tandem.pipeline_run_id": runs.pipeline,
          "tandem.step": "train",
          "tandem.env_digest": "sha256:feedface",
        },
        { roc_auc: 0.75 },
      );
      runs.train2 = await mlflowRun(
        "train",
        { "mlflow.parentRunId": runs.pipeline, "tandem.step": "train" },
        { roc_auc: 0.8 },
      );
    });

    afterAll(async () => {
      await srv?.stop();
    });

    it("registers a version from a run with its lineage and signature", async () => {
      const res = await register(
        tinyOnnx({ features: ["distance", "hour"], weights: [0.01, 0.1] }),
        runs.train!,
        alice,
      );
      expect(res.status).toBe(201);
      expect(res.body.version.version).toBe(1);
      expect(res.body.version.lineage.dataset_versions).toEqual(["flights@3"]);
      expect(res.body.version.lineage.git_commit).toBe("0123456789abcdef0123456789abcdef01234567");
      const v = await call<{
        author: string;
        signature: { source: string; model: { features: Array<{ name: string }> } };
      }>("GET", `${P}/models/flights-delay/versions/1`);
      expect(v.body.author).toBe("alice");
      expect(v.body.signature.source).toBe("metadata");
      expect(v.body.signature.model.features.map((f) => f.name)).toEqual(["distance", "hour"]);
    });

    it("holds the alias while an approval is missing, and says why", async () => {
      const held = await call<{
        error: { code: string; message: string; details: { status: string; checks: Check[]; request_id: string } };
      }>("PUT", `${P}/models/flights-delay/aliases/champion`, { version: 1 }, alice);
      expect(held.status).toBe(409);
      expect(held.body.error.code).toBe("POLICY_REFUSED");
      expect(held.body.error.message).toMatch(/policy release: awaiting 1 approval by approver \(not alice\)/);
      const checks = held.body.error.details.checks;
      expect(checks.map((c) => [c.kind, c.outcome])).toEqual([
        ["metric", "pass"],
        ["beats", "pass"],
        ["approvals", "pending"],
      ]);
      expect(checks[0]).toMatchObject({
        check: "roc_auc >= 0.7",
        value: 0.75,
        threshold: 0.7,
        detail: `source run ${runs.train} (manual)`,
      });
      expect(held.body.error.details.status).toBe("pending");
      expect((await call("GET", `${P}/models/flights-delay/aliases`)).body).toEqual({ aliases: [] });
    });

    it("does not let the author approve, nor a member", async () => {
      const self = await call<{ error: { code: string } }>(
        "POST",
        `${P}/models/flights-delay/versions/1/approve`,
        { comment: "mine" },
        alice,
      );
      expect(self.status).toBe(403);
    });

    it("moves the alias once an approver approves", async () => {
      const ok = await call<{ outcomes: Array<{ status: string; alias: { alias: string; version: number } }> }>(
        "POST",
        `${P}/models/flights-delay/versions/1/approve`,
        { comment: "metrics look right" },
        bob,
      );
      expect(ok.status).toBe(200);
      expect(ok.body.outcomes).toHaveLength(1);
      expect(ok.body.outcomes[0]).toMatchObject({ status: "applied", alias: { alias: "champion", version: 1 } });
      expect((await call<{ version: number }>("GET", `${P}/models/flights-delay/versions/champion`)).body.version).toBe(
        1,
      );
      const decisions = await call<{ decisions: Array<{ verdict: string }>; approvals: Array<{ user: string }> }>(
        "GET",
        `${P}/models/flights-delay/versions/1/decisions`,
      );
      expect(decisions.body.decisions.map((d) => d.verdict)).toEqual(["pass", "pending"]);
      expect(decisions.body.approvals.map((a) => a.user)).toEqual(["bob"]);
    });

    it("refuses a version that is worse than the champion, with the failed checks", async () => {
      const reg = await register(
        tinyOnnx({ features: ["distance", "hour"], weights: [0.5, 0.5] }),
        runs.train2!,
        alice,
      );
      expect(reg.body.version.version).toBe(2);
      for (const [v, auc] of [
        [1, 0.75],
        [2, 0.72],
      ] as const) {
        expect(
          (
            await call(
              "POST",
              `${P}/models/flights-delay/versions/${v}/evaluations`,
              { dataset: "flights@4", metrics: { roc_auc: auc } },
              alice,
            )
          ).status,
        ).toBe(201);
      }
      const refused = await call<{ error: { details: { status: string; checks: Check[] } } }>(
        "PUT",
        `${P}/models/flights-delay/aliases/champion`,
        { version: 2 },
        alice,
      );
      expect(refused.status).toBe(409);
      expect(refused.body.error.details.status).toBe("refused");
      const beats = refused.body.error.details.checks.find((c) => c.kind === "beats")!;
      expect(beats).toMatchObject({ outcome: "fail", value: 0.72, threshold: 0.75 });
      expect(beats.detail).toContain("flights@4");
    });

    it("promotes a better version after approval, and rolls back with one call", async () => {
      expect(
        (
          await call(
            "POST",
            `${P}/models/flights-delay/versions/2/evaluations`,
            { dataset: "flights@5", metrics: { roc_auc: 0.81 } },
            alice,
          )
        ).status,
      ).toBe(201);
      expect(
        (
          await call(
            "POST",
            `${P}/models/flights-delay/versions/1/evaluations`,
            { dataset: "flights@5", metrics: { roc_auc: 0.76 } },
            alice,
          )
        ).status,
      ).toBe(201);
      expect((await call("PUT", `${P}/models/flights-delay/aliases/champion`, { version: 2 }, alice)).status).toBe(409);
      const approved = await call<{ outcomes: Array<{ status: string }> }>(
        "POST",
        `${P}/models/flights-delay/versions/2/approve`,
        {},
        bob,
      );
      expect(approved.body.outcomes.map((o) => o.status)).toEqual(["applied"]);
      expect((await call<{ version: number }>("GET", `${P}/models/flights-delay/versions/champion`)).body.version).toBe(
        2,
      );

      const back = await call<{ alias: string; version: number }>(
        "POST",
        `${P}/models/flights-delay/aliases/champion/rollback`,
        { reason: "latency regression" },
        alice,
      );
      expect(back.status).toBe(200);
      expect(back.body).toMatchObject({ alias: "champion", version: 1 });
      expect((await call<{ version: number }>("GET", `${P}/models/flights-delay/versions/champion`)).body.version).toBe(
        1,
      );
      const history = await call<{
        events: Array<{ action: string; from_version: number | null; to_version: number | null; actor: string }>;
      }>("GET", `${P}/models/flights-delay/aliases/champion/history`);
      expect(history.body.events.map((e) => [e.action, e.from_version, e.to_version, e.actor])).toEqual([
        ["set", null, 1, "bob"],
        ["move", 1, 2, "bob"],
        ["rollback", 2, 1, "alice"],
      ]);
    });

    it("reads the lineage back to the dataset version and git commit, both ways", async () => {
      const g = await call<{
        dataset_versions: string[];
        git_commit: string;
        env_digest: string;
        pipeline_run: { id: string };
        steps: Array<{ name: string }>;
        edges: Array<{ relation: string; to: string }>;
      }>("GET", `${P}/models/flights-delay/versions/champion/lineage`);
      expect(g.status).toBe(200);
      expect(g.body.dataset_versions).toEqual(["flights@3"]);
      expect(g.body.git_commit).toBe("0123456789abcdef0123456789abcdef01234567");
      expect(g.body.env_digest).toBe("sha256:feedface");
      expect(g.body.pipeline_run.id).toBe(runs.pipeline);
      expect(g.body.steps.map((s) => s.name).sort()).toEqual(["prepare", "train", "train"]);
      expect(g.body.edges).toContainEqual(
        expect.objectContaining({ relation: "read", to: "dataset_version:flights@3" }),
      );
      const reverse = await call<{ versions: Array<{ ref: string }> }>(
        "GET",
        `${P}/lineage/datasets/${encodeURIComponent("flights@3")}/models`,
      );
      expect(reverse.body.versions.map((v) => v.ref).sort()).toEqual(["flights-delay@1", "flights-delay@2"]);
    });

    it("renders the model card and lets a viewer pull the verified artifact", async () => {
      const card = await fetch(`${srv.url}${P}/models/flights-delay/versions/2/card?format=md`, {
        headers: { authorization: `Bearer ${srv.adminToken}` },
      });
      const md = await card.text();
      expect(md).toContain("# Model card: flights-delay version 2");
      expect(md).toContain("flights@3");
      expect(md).toContain("Predict departure delays");
      expect(md).toMatch(/\| bob \| approve \|/);
      const files = await call<{ entries: Array<{ path: string; sha256: string }> }>(
        "GET",
        `${P}/models/flights-delay/versions/1/artifact`,
      );
      expect(files.body.entries).toHaveLength(1);
      const raw = await fetch(`${srv.url}${P}/models/flights-delay/versions/1/artifact/file`, {
        headers: { authorization: `Bearer ${bob}` },
      });
      expect(
        Buffer.from(await raw.arrayBuffer()).equals(
          Buffer.from(tinyOnnx({ features: ["distance", "hour"], weights: [0.01, 0.1] })),
        ),
      ).toBe(true);
    });

    it("audited every step, with who did it, and the chain verifies", async () => {
      const audit = await call<{ events: Array<{ actor: string; action: string; target: string }> }>(
        "GET",
        `${P}/audit?limit=1000`,
      );
      const seen = audit.body.events.map((e) => `${e.actor} ${e.action} ${e.target}`);
      for (const expected of [
        "alice model.version.register model:flights-delay@1",
        "alice model.promotion.decide model:flights-delay@1",
        "bob model.version.approve model:flights-delay@1",
        "bob model.alias.set model:flights-delay@champion",
        "admin policy.change project:flights",
        "alice model.alias.rollback model:flights-delay@champion",
      ]) {
        expect(seen).toContain(expected);
      }
      const verify = await call<{ ok: boolean }>("GET", "/api/v1/audit/verify");
      expect(verify.body.ok).toBe(true);
    });
  });
}
