/**
 * Issue 14's attack suite, as an ordinary project member on a real server over HTTP, on SQLite and
 * Postgres. Each path that once moved a model onto `champion` or into prod's traffic without the
 * approval policy `release` requires is refused with 403 or 409 naming the policy and what is
 * missing; nothing moves; a decision record says why. The same moves succeed for the right people.
 * Four-eyes holds across automation: whoever started a run, applied the spec whose trigger started
 * it, pushed its commit or ran the step that called the API cannot approve what it registered.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, STORE_KINDS } from "../helpers/stores.js";
import { cli } from "../pipelines/cli.js";
import {
  aliasOf,
  applySpec,
  governedProject,
  latestDecision,
  P,
  PIPELINES,
  POLICIES,
  PROJECT,
  SPEC,
  type Governed,
  type RunWire,
} from "./helpers.js";

type ErrorBody = { error: { code: string; message: string; details: Record<string, unknown> } };

/** The variant a member may apply (same policies): register asks for champion naming the weaker policy, then deploys it pinned. */
const MEMBER_SPEC = SPEC.replace(
  `          artifact: \${{ steps.train.outputs.model }}\n  selfreg:`,
  `          artifact: \${{ steps.train.outputs.model }}
          alias: champion
          policy: smoke
      ship:
        needs: [register]
        uses: tandem/deploy
        with:
          model: m@\${{ steps.register.metrics.model_version }}
          endpoint: prod
  selfreg:`,
);

for (const store of STORE_KINDS) {
  const run = store === "postgres" && !postgresAvailable() ? describe.skip : describe;
  run(`governance attacks [${store}]`, () => {
    let g: Governed;
    const runs: Record<string, RunWire> = {};
    const version = (r: RunWire | undefined) => r?.steps?.find((s) => s.name === "register")?.metrics.model_version;

    beforeAll(async () => {
      g = await governedProject(store);
      await g.addData("admin");
      expect((await applySpec(g, "admin")).status).toBe(201);
      // An approver may apply the spec while its policies stay as they are; its triggers are then hers.
      expect((await applySpec(g, "erin", `${SPEC}# erin's copy\n`)).status).toBe(201);
    });
    afterAll(async () => g?.close());

    it("registers what a run makes as the work of the person behind it, via system", async () => {
      runs.erin = await g.run("erin", "train");
      runs.bad = await g.run("mallory", "train", { model: "bad.onnx" });
      await g.addData("admin"); // the data trigger: erin applied the spec
      const pushed = await g.push("erin-gh", g.commit());
      const unknown = await g.push("stranger", g.commit());
      expect((await g.as("admin", "PUT", "/api/v1/users/erin/identities/github:erin-gh")).status).toBe(200);
      const mappedCommit = g.commit();
      const mapped = await g.push("erin-gh", mappedCommit);
      const listed = await g.as<{ runs: RunWire[] }>("admin", "GET", `${P}/pipeline-runs?pipeline=train&limit=20`);
      const dataRun = listed.body.runs.find((r) => r.trigger.kind === "data")!;
      runs.data = await g.waitRun(dataRun.id);
      runs.unmapped = await g.waitRun(pushed.body.runs[0]!.run_id!);
      runs.unknown = await g.waitRun(unknown.body.runs[0]!.run_id!);
      runs.git = await g.waitRun(mapped.body.runs[0]!.run_id!);
      runs.selfreg = await g.run("erin", "selfreg");
      for (const r of Object.values(runs))
        if (r !== runs.bad) expect(r.status, JSON.stringify(r.steps)).toBe("succeeded");
      expect([runs.data.created_by, runs.data.triggered_by]).toEqual(["system", "erin"]);
      expect([runs.git.triggered_by, runs.unmapped.triggered_by, runs.unknown.triggered_by]).toEqual([
        "erin",
        null,
        null,
      ]);

      const authors = await g.as<{
        versions: Array<{ version: number; author: string; via: string | null; author_note: string }>;
      }>("admin", "GET", `${P}/models/m`);
      const by = new Map(authors.body.versions.map((v) => [v.version, v]));
      expect(by.get(version(runs.erin)!)).toMatchObject({
        author: "erin",
        via: "system",
        author_note: `erin started pipeline run ${runs.erin.id} by hand`,
      });
      expect(by.get(version(runs.data)!)).toMatchObject({
        author: "erin",
        author_note: expect.stringContaining("applied the spec whose data trigger"),
      });
      expect(by.get(version(runs.git)!)).toMatchObject({
        author: "erin",
        author_note: expect.stringContaining(`erin pushed commit ${mappedCommit.slice(0, 12)} (github:erin-gh)`),
      });
      expect(by.get(version(runs.unknown)!)).toMatchObject({
        author: "github:stranger", // who pushed, as git said: never a principal (unmapped-pusher.test.ts)
        author_note: expect.stringContaining("mapped to no user"),
      });
      // The step registered through the REST API with its run token: still erin's work.
      const selfRegistered = Math.max(...authors.body.versions.map((v) => v.version));
      expect(by.get(selfRegistered)).toMatchObject({ author: "erin", via: "system" });
      runs.selfregVersion = {
        ...runs.selfreg,
        steps: [{ name: "register", status: "", error: null, metrics: { model_version: selfRegistered } }],
      };
    });

    it("four-eyes across automation: the person behind a run cannot approve what it registered; another approver can", async () => {
      for (const key of ["erin", "data", "git", "selfregVersion"]) {
        const v = version(runs[key]!)!;
        const self = await g.as<ErrorBody>("erin", "POST", `${P}/models/m/versions/${v}/approve`, {});
        expect(self.status, key).toBe(403);
        expect(self.body.error.message).toMatch(
          new RegExp(`erin cannot approve m@${v}: erin (started|applied|pushed)`),
        );
      }
      expect((await g.as("mallory", "POST", `${P}/models/m/versions/${version(runs.erin)}/approve`, {})).status).toBe(
        403,
      );
      expect((await g.as("dana", "POST", `${P}/models/m/versions/${version(runs.erin)}/approve`, {})).status).toBe(200);
      // The decision record names who was excluded and why.
      const held = await g.as<ErrorBody>("mallory", "PUT", `${P}/models/m/aliases/champion`, {
        version: version(runs.git),
      });
      expect(held.status).toBe(409);
      const approvals = (await latestDecision(g, version(runs.git)!)).checks.find((c) => c.kind === "approvals")!;
      expect(approvals.excluded).toEqual([{ user: "erin", reason: expect.stringContaining("erin pushed commit") }]);
      // …and so does `tandem models decisions`, with the policies that governed it and the evidence read.
      const shown = await cli(["models", "decisions", `m@${version(runs.git)}`, "--project", PROJECT], {
        cwd: g.workspace,
        env: { TANDEM_URL: g.srv.url, TANDEM_TOKEN: g.tokens.admin },
      });
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toMatch(/promote alias champion: PENDING \(by mallory\)/);
      expect(shown.stdout).toContain("governed by release: applies_to.aliases champion (champion)");
      expect(shown.stdout).toMatch(
        /release roc_auc >= 0.6: used: evaluation \S+ on gov-data@\d+ pipeline run \S+ step evaluate/,
      );
      expect(shown.stdout).toMatch(/erin may not approve: erin pushed commit/);
    });

    it("finding 1: naming a weaker policy (alias, tandem/register, endpoint, MLflow) never drops release", async () => {
      const v = version(runs.git)!;
      const weaker = await g.as<ErrorBody>("mallory", "PUT", `${P}/models/m/aliases/champion`, {
        version: v,
        policy: "smoke",
      });
      expect(weaker.status).toBe(409);
      expect(weaker.body.error.message).toMatch(/policy release: awaiting 1 approval by approver/);
      expect(weaker.body.error.details.policies).toEqual(["release", "smoke"]);
      const d = await latestDecision(g, v);
      expect(d.governing).toContainEqual({ policy: "release", reason: "applies_to.aliases champion (champion)" });
      expect(d.governing).toContainEqual({ policy: "smoke", reason: "named by the request (adds its checks)" });
      expect(await aliasOf(g, "champion")).toBeNull();

      const endpoint = await g.as<ErrorBody>("mallory", "PUT", `${P}/endpoints/prod`, {
        model: `m@${v}`,
        policy: "smoke",
      });
      expect([endpoint.status, endpoint.body.error.message]).toEqual([
        409,
        expect.stringMatching(/policy release: awaiting/),
      ]);
      const mlflow = await fetch(`${g.srv.url}/api/2.0/mlflow/registered-models/alias`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${g.tokens.mallory}`,
          "content-type": "application/json",
          "x-tandem-project": PROJECT,
        },
        body: JSON.stringify({ name: "m", alias: "champion", version: String(v) }),
      });
      expect(mlflow.status).toBe(409);
      expect(((await mlflow.json()) as { error_code: string }).error_code).toBe("INVALID_STATE");

      // tandem/register with `policy: smoke`, then tandem/deploy of that version pinned to prod.
      expect((await applySpec(g, "mallory", MEMBER_SPEC)).status).toBe(201);
      runs.member = await g.run("mallory", "train");
      const steps = Object.fromEntries((runs.member.steps ?? []).map((s) => [s.name, s]));
      expect(steps.register!.status).toBe("succeeded"); // awaiting approval is not a failure…
      expect(steps.ship!.status).toBe("failed"); // …but it cannot take prod's traffic
      expect(steps.ship!.error).toMatch(/policy release: awaiting 1 approval/);
      expect(await aliasOf(g, "champion")).toBeNull();
      expect((await g.as("admin", "GET", `${P}/endpoints/prod`)).status).toBe(404);
      expect((await applySpec(g, "erin", `${SPEC}# erin again\n`)).status).toBe(201);
    });

    it("finding 2: a member cannot rewrite the policies; an admin can, audited with the diff", async () => {
      const weakened = SPEC.replace("      - approvals: { role: approver, count: 1 }\n", "");
      const refused = await g.as<ErrorBody>("mallory", "POST", `${P}/specs`, {
        source: weakened,
        workspace: g.workspace,
      });
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toMatch(
        /only an admin of project gov may change its policies; this spec changes release \(changed\)/,
      );
      const removed = await g.as<ErrorBody>("mallory", "POST", `${P}/specs`, {
        source: `project: ${PROJECT}\n${PIPELINES}`,
      });
      expect(removed.body.error.message).toContain("release (removed), smoke (removed)");
      expect((await g.as("mallory", "PUT", `${P}/policies`, { policies: {} })).status).toBe(403);
      const diff = await g.as<{ changes: Array<{ policy: string; change: string }>; may_apply: boolean }>(
        "mallory",
        "POST",
        `${P}/policies/diff`,
        { source: weakened },
      );
      expect(diff.body).toMatchObject({ changes: [{ policy: "release", change: "changed" }], may_apply: false });
      const inForce = await g.as<{ policies: { release: { require: unknown[] } } }>("mallory", "GET", `${P}/policies`);
      expect(inForce.body.policies.release.require).toHaveLength(2);

      const extra = `${SPEC}  archive:\n    applies_to:\n      aliases: [archived]\n    require: []\n`;
      expect((await applySpec(g, "ada", extra)).status).toBe(201);
      expect((await applySpec(g, "ada")).status).toBe(201);
      const audit = await g.as<{
        events: Array<{
          actor: string;
          action: string;
          summary: { changes: Array<{ policy: string; change: string; after: string | null }> };
        }>;
      }>("admin", "GET", `${P}/audit?limit=500`);
      const changes = audit.body.events.filter((e) => e.action === "policy.change" && e.actor === "ada");
      expect(changes.map((e) => e.summary.changes.map((c) => `${c.policy} ${c.change}`))).toEqual([
        ["archive removed"],
        ["archive added"],
      ]);
      expect(changes[1]!.summary.changes[0]!.after).toBe(
        '{"accept_manual":false,"applies_to":{"aliases":["archived"]},"require":[]}',
      );
      expect(POLICIES).toContain("release"); // (the suite's policies are back as they were)
    });

    it("finding 3: evidence written by hand does not count unless a policy accepts it", async () => {
      const bad = version(runs.bad)!;
      expect((await g.as("dana", "POST", `${P}/models/m/versions/${bad}/approve`, {})).status).toBe(200);
      const own = await g.as<{ source: string }>("mallory", "POST", `${P}/models/m/versions/${bad}/evaluations`, {
        dataset: "gov-data@1",
        metrics: { roc_auc: 0.99 },
      });
      expect([own.status, own.body.source]).toEqual([201, "manual"]);
      const refused = await g.as<ErrorBody>("mallory", "PUT", `${P}/models/m/aliases/champion`, { version: bad });
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toMatch(
        /policy refused m@\d+ → alias champion: policy release: roc_auc >= 0.6/,
      );
      const metric = (await latestDecision(g, bad)).checks.find((c) => c.kind === "metric")!;
      expect(metric.outcome).toBe("fail");
      expect(metric.evidence!.map((e) => [e.source, e.used])).toEqual([
        ["pipeline", true],
        ["manual", false],
      ]);
      // A metric logged through the MLflow API on a run of one's own is manual too.
      const mlflow = (path: string, body: unknown) =>
        fetch(`${g.srv.url}/api/2.0/mlflow/${path}`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${g.tokens.mallory}`,
            "content-type": "application/json",
            "x-tandem-project": PROJECT,
          },
          body: JSON.stringify(body),
        }).then((r) => r.json() as Promise<Record<string, any>>); // eslint-disable-line @typescript-eslint/no-explicit-any
      const runId = (await mlflow("runs/create", { experiment_id: "0" })).run.info.run_id as string;
      await mlflow("runs/log-metric", { run_id: runId, key: "roc_auc", value: 0.99, timestamp: Date.now(), step: 0 });
      const blob = await fetch(`${g.srv.url}${P}/model-blobs`, {
        method: "POST",
        headers: { authorization: `Bearer ${g.tokens.mallory}`, "content-type": "application/octet-stream" },
        body: (await import("node:fs")).readFileSync(`${g.workspace}/other.onnx`),
      }).then((r) => r.json() as Promise<{ sha256: string }>);
      const reg = await g.as<{ version: { version: number } }>("mallory", "POST", `${P}/models/m/versions`, {
        artifact: { kind: "blob", sha256: blob.sha256, file_name: "model.onnx" },
        run_id: runId,
        alias: "staging",
      });
      expect(reg.status).toBe(201);
      expect(await aliasOf(g, "staging")).toBeNull();
      const staging = (await latestDecision(g, reg.body.version.version)).checks[0]!;
      expect(staging).toMatchObject({ policy: "smoke", outcome: "fail" });
      expect(staging.evidence![0]).toMatchObject({ id: runId, source: "manual", used: false });
    });

    it("finding 4 and the serving paths: pinned deploys, canaries, followed aliases and applied endpoints meet release", async () => {
      const [approved, unapproved] = [version(runs.erin)!, version(runs.git)!];
      expect((await g.as("mallory", "PUT", `${P}/models/m/aliases/champion`, { version: approved })).status).toBe(200);
      expect((await g.as("admin", "PUT", `${P}/endpoints/prod`, { model: "m@champion" })).status).toBe(200);
      const prod = async () => (await g.as("admin", "GET", `${P}/endpoints/prod`)).body;
      const before = await prod();
      for (const body of [
        { model: `m@${unapproved}` },
        { model: "m@champion", canary: { selector: String(unapproved), percent: 50 } },
      ]) {
        const refused = await g.as<ErrorBody>("mallory", "PUT", `${P}/endpoints/prod`, body);
        expect(refused.status, JSON.stringify(body)).toBe(409);
        expect(refused.body.error.message).toMatch(
          /→ endpoint prod: awaiting approval — policy release: awaiting 1 approval/,
        );
      }
      // Moving an alias prod's canary follows is a move into prod's traffic: release governs it.
      expect((await g.as("mallory", "PUT", `${P}/models/m/aliases/challenger`, { version: approved })).status).toBe(
        200,
      );
      const canary = { model: "m@champion", canary: { selector: "challenger", percent: 10 } };
      expect((await g.as("admin", "PUT", `${P}/endpoints/prod`, canary)).status).toBe(200);
      const followed = await g.as<ErrorBody>("mallory", "PUT", `${P}/models/m/aliases/challenger`, {
        version: unapproved,
      });
      expect(followed.status).toBe(409);
      expect((await latestDecision(g, unapproved)).governing).toContainEqual({
        policy: "release",
        reason: "applies_to.endpoints prod (prod canary)",
      });
      expect(await aliasOf(g, "challenger")).toBe(approved);
      // The spec's endpoints: deploy through the same gate.
      const viaSpec = await applySpec(g, "mallory", `${SPEC}endpoints:\n  prod: { model: m@${unapproved} }\n`);
      expect(viaSpec.status).toBe(409);
      expect((await prod()).primary).toEqual(before.primary);
      // MLflow's deprecated stages: Production is governed like an alias.
      const stage = (v: number) =>
        fetch(`${g.srv.url}/api/2.0/mlflow/model-versions/transition-stage`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${g.tokens.mallory}`,
            "content-type": "application/json",
            "x-tandem-project": PROJECT,
          },
          body: JSON.stringify({ name: "m", version: String(v), stage: "Production" }),
        });
      expect((await stage(unapproved)).status).toBe(409);
      expect((await stage(approved)).status).toBe(200);
      expect((await latestDecision(g, approved)).governing).toContainEqual({
        policy: "release",
        reason: "applies_to.stages Production",
      });
    });

    it("finding 6: a rollback is a decision — only to what passed and was not rejected since, else an approver", async () => {
      const [first, second, third] = [version(runs.erin)!, version(runs.data)!, version(runs.git)!];
      for (const v of [second, third]) {
        expect((await g.as("dana", "POST", `${P}/models/m/versions/${v}/approve`, {})).status).toBe(200);
        expect((await g.as("mallory", "PUT", `${P}/models/m/aliases/champion`, { version: v })).status).toBe(200);
      }
      expect(
        (await g.as("dana", "POST", `${P}/models/m/versions/${first}/reject`, { comment: "leaks labels" })).status,
      ).toBe(200);
      const back = await g.as("mallory", "POST", `${P}/models/m/aliases/champion/rollback`, {});
      expect([back.status, await aliasOf(g, "champion")]).toEqual([200, second]);
      expect(await latestDecision(g, second)).toMatchObject({ action: "rollback", verdict: "pass" });

      const rejected = await g.as<ErrorBody>("mallory", "POST", `${P}/models/m/aliases/champion/rollback`, {
        version: first,
      });
      expect(rejected.status).toBe(403);
      expect(rejected.body.error.message).toMatch(/no rejection since \(rejected by dana: leaks labels\)/);
      expect(await aliasOf(g, "champion")).toBe(second);
      expect(await latestDecision(g, first)).toMatchObject({ action: "rollback", verdict: "fail" });
      const author = await g.as<ErrorBody>("erin", "POST", `${P}/models/m/aliases/champion/rollback`, {
        version: first,
      });
      expect([author.status, author.body.error.message]).toEqual([403, expect.stringContaining("erin is the author")]);
      const override = await g.as("dana", "POST", `${P}/models/m/aliases/champion/rollback`, { version: first });
      expect([override.status, await aliasOf(g, "champion")]).toEqual([200, first]);
      const decided = await latestDecision(g, first);
      expect(decided.checks.at(-1)).toMatchObject({
        kind: "rollback",
        outcome: "pass",
        detail: "override by approver dana",
      });
    });
  });
}
