/**
 * Triggers over real HTTP: GitHub and GitLab push webhooks with their signatures, data/alert events
 * (one event key, one run), concurrency policy `skip`, cron schedules and a polled local git branch.
 */
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";

const SECRET = "hook-secret-123";

describe("pipeline triggers", () => {
  let t: TestServer;
  let repo: string;
  let first: string;
  const services = () => t.server.opened.services;

  beforeAll(async () => {
    t = await startTestServer();
    // The project folder is a git repository: pushed and polled commits are checked out from it.
    const workspace = mkdtempSync(join(tmpdir(), "tandem-trig-ws-"));
    mkdirSync(workspace, { recursive: true });
    repo = workspace;
    const source = `project: trig
pipelines:
  on-push:
    triggers:
      - git: { branch: main }
    steps:
      show:
        run: echo "commit \${{ trigger.commit }}"
  on-data:
    concurrency: skip
    triggers:
      - data: flights
      - alert: flights-drift
    steps:
      wait:
        run: sleep 2
  nightly:
    triggers:
      - schedule: "0 3 * * *"
        timezone: Europe/Paris
    steps:
      s:
        run: "true"
  polled:
    triggers:
      - git: { branch: main, repo: ${repo}, poll: 1s }
    steps:
      s:
        run: echo polled
`;
    writeFileSync(join(workspace, "tandem.yaml"), source);
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", repo, "-c", "user.email=t@t", "-c", "user.name=t", ...args], { encoding: "utf8" });
    git("init", "-q", "-b", "main");
    git("add", "tandem.yaml");
    git("commit", "-q", "-m", "one");
    first = git("rev-parse", "HEAD").trim();
    const applied = await t.api("POST", "/api/v1/projects/trig/specs", { source, workspace });
    expect(applied.status).toBe(201);
    expect((await t.api("PUT", "/api/v1/projects/trig/secrets/GIT_WEBHOOK_SECRET", { value: SECRET })).status).toBe(
      200,
    );
  });
  afterAll(async () => t?.stop());

  const push = (commit: string, headers: Record<string, string>, raw?: string) =>
    fetch(`${t.url}/api/v1/hooks/git?project=trig`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: raw ?? JSON.stringify({ ref: "refs/heads/main", after: commit, repository: { full_name: "acme/app" } }),
    });

  it("accepts a signed GitHub push once, rejects a bad signature, accepts a GitLab token", async () => {
    // Deliberately odd spacing: the signature covers the exact bytes, not a re-serialisation.
    const body = `{"ref": "refs/heads/main",  "after": "${first}", "repository": {"full_name": "acme/app"}}`;
    const sig = `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
    const res = await push("", { "x-hub-signature-256": sig }, body);
    expect(res.status).toBe(200);
    const fired = (await res.json()) as { runs: Array<{ pipeline: string; run_id: string | null }> };
    expect(fired.runs.map((r) => r.pipeline).sort()).toEqual(["on-push", "polled"]);
    const runId = fired.runs.find((r) => r.pipeline === "on-push")!.run_id!;
    await services().pipelines.settled(runId);
    const run = await services().pipelines.getRun("trig", runId);
    expect(run.status).toBe("succeeded");
    expect(run.trigger).toMatchObject({ kind: "git", branch: "main", commit: first, source: "github" });
    expect(run.code).toMatchObject({ commit: first, dirty: false });
    const logs = await services().pipelines.logs("trig", runId, {});
    expect(logs.chunks.map((c) => c.text)).toContain(`commit ${first}`);

    const again = (await (await push("", { "x-hub-signature-256": sig }, body)).json()) as {
      runs: Array<{ reason?: string }>;
    };
    expect(again.runs.every((r) => r.reason === "duplicate")).toBe(true);

    const bad = await push("b".repeat(40), { "x-hub-signature-256": `sha256=${"0".repeat(64)}` });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("UNAUTHENTICATED");
    expect((await push("b".repeat(40), {})).status).toBe(401);

    const gitlab = await push(
      "",
      { "x-gitlab-token": SECRET },
      JSON.stringify({
        ref: "refs/heads/main",
        checkout_sha: "c".repeat(40),
        project: { path_with_namespace: "acme/app" },
      }),
    );
    expect(gitlab.status).toBe(200);
    expect(((await gitlab.json()) as { runs: unknown[] }).runs).toHaveLength(2);
    expect((await push("", { "x-gitlab-token": "wrong" })).status).toBe(401);
  });

  it("starts one run per event key, and `skip` drops events while a run is active", async () => {
    const fire = (key: string, kind = "data", name = "flights") =>
      t.api<{ runs: Array<{ pipeline: string; run_id: string | null; reason?: string }> }>(
        "POST",
        `/api/v1/projects/trig/triggers/${kind}`,
        {
          name,
          idempotency_key: key,
          payload: { version: 3 },
        },
      );
    const first = await fire("flights@3");
    expect(first.status).toBe(200);
    expect(first.body.runs).toHaveLength(1);
    expect(first.body.runs[0]!.run_id).toBeTruthy();
    expect((await fire("flights@3")).body.runs[0]!.reason).toBe("duplicate");
    // A different event while the first run (sleep 2) is active: concurrency: skip.
    expect((await fire("drift-1", "alert", "flights-drift")).body.runs[0]!.reason).toBe("skipped");
    await services().pipelines.settled(first.body.runs[0]!.run_id!);
    const run = await services().pipelines.getRun("trig", first.body.runs[0]!.run_id!);
    expect(run.trigger).toMatchObject({ kind: "data", name: "flights", version: 3 });
  });

  it("records an event with its run or not at all: a start that dies mid-way is started again", async () => {
    // A failure inside the run's transaction stands in for a crash there. Before the event key shared
    // the run's transaction, the key stayed recorded and the retry was a "duplicate" with no run.
    const store = services().pipelines.store;
    const insertRun = store.insertRun.bind(store);
    store.insertRun = async () => {
      throw new Error("connection lost (stand-in for a crash)");
    };
    const fired = () => services().pipelineTriggers.fire("data", "trig", "flights", { version: 4 }, "flights@4");
    try {
      await expect(fired()).rejects.toThrow(/connection lost/);
    } finally {
      store.insertRun = insertRun;
    }
    const again = await fired();
    expect(again).toHaveLength(1);
    expect(again[0]!.runId).toBeTruthy();
    expect((await fired())[0]!.reason).toBe("duplicate");
    await services().pipelines.settled(again[0]!.runId!);
  });

  it("fires a cron schedule when due, once per tick, in its time zone", async () => {
    const triggers = services().pipelineTriggers;
    const t0 = Date.parse("2030-01-01T00:00:00Z");
    expect(await triggers.tickSchedules(t0)).toEqual([]); // first sight: remembered, no backlog
    expect(await triggers.tickSchedules(t0 + 60_000)).toEqual([]);
    // 03:00 in Paris is 02:00 UTC in winter.
    const fired = await triggers.tickSchedules(Date.parse("2030-01-01T02:00:05Z"));
    expect(fired).toHaveLength(1);
    expect(fired[0]!.pipeline).toBe("nightly");
    const run = await services().pipelines.getRun("trig", fired[0]!.runId!);
    expect(run.trigger).toMatchObject({ kind: "schedule", scheduled_for: "2030-01-01T02:00:00.000Z" });
    expect(await triggers.tickSchedules(Date.parse("2030-01-01T02:00:10Z"))).toEqual([]);
    await services().pipelines.settled(run.id);
  });

  it("gives steps MLflow settings that log into the step's own tracking run", async () => {
    const script = [
      "const u = process.env.MLFLOW_TRACKING_URI + '/api/2.0/mlflow/runs/log-metric';",
      "const body = JSON.stringify({ run_id: process.env.MLFLOW_RUN_ID, key: 'from_step', value: 1.5, timestamp: Date.now(), step: 0 });",
      "fetch(u, { method: 'POST', headers: { authorization: 'Bearer ' + process.env.MLFLOW_TRACKING_TOKEN, 'content-type': 'application/json' }, body })",
      "  .then(async (r) => { if (!r.ok) { console.error(r.status, await r.text()); process.exit(1); } });",
    ].join("\n");
    const workspace = mkdtempSync(join(tmpdir(), "tandem-mlflow-"));
    writeFileSync(join(workspace, "log.mjs"), script);
    const source = `project: mlf
pipelines:
  log:
    steps:
      fit:
        run: node log.mjs
`;
    expect((await t.api("POST", "/api/v1/projects/mlf/specs", { source, workspace })).status).toBe(201);
    const started = await t.api<{ id: string }>("POST", "/api/v1/projects/mlf/pipelines/log/runs", {});
    expect(started.status).toBe(202);
    await services().pipelines.settled(started.body.id);
    const run = await services().pipelines.getRun("mlf", started.body.id);
    const logs = await services().pipelines.logs("mlf", run.id, {});
    expect(run.status, logs.chunks.map((c) => c.text).join("\n")).toBe("succeeded");
    const tracked = await services().tracking.getRun("mlf", run.steps[0]!.trackingRunId!);
    expect(tracked.metrics.map((m) => [m.key, m.value])).toEqual([["from_step", 1.5]]);
    expect(tracked.info.parentRunId).toBe(run.trackingRunId);
  });

  it("polls a local branch and starts a run when its head moves", async () => {
    const triggers = services().pipelineTriggers;
    const now = Date.now() + 10_000;
    expect(await triggers.pollGit(now)).toEqual([]); // first sight
    execFileSync("git", [
      "-C",
      repo,
      "-c",
      "user.email=t@t",
      "-c",
      "user.name=t",
      "commit",
      "-q",
      "--allow-empty",
      "-m",
      "two",
    ]);
    const fired = await triggers.pollGit(now + 2000);
    expect(fired.map((f) => f.pipeline)).toEqual(["polled"]);
    const head = execFileSync("git", ["-C", repo, "rev-parse", "HEAD"]).toString().trim();
    const run = await services().pipelines.getRun("trig", fired[0]!.runId!);
    expect(run.trigger).toMatchObject({ kind: "git", commit: head, source: "poll" });
    await services().pipelines.settled(run.id);
    expect((await services().pipelines.getRun("trig", run.id)).status).toBe("succeeded");
  });
});
