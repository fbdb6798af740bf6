/**
 * Runs execute a commit (issue 15): a local bare repository with two commits, and a working clone
 * whose folder differs from both. A push webhook and a polled ref run the pushed commit's code and
 * tandem.yaml from a clean checkout, `--at` runs the first commit, a manual run records HEAD and
 * its dirty paths, an unfetchable commit fails the first step with git's message, and a commit
 * that changes `policies:` pushed by someone who is not an admin fails at start with the 403.
 */
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, STORE_KINDS, type StoreKind } from "../helpers/stores.js";
import { cli } from "./cli.js";

const SECRET = "commit-hook-secret";
const P = "/api/v1/projects/commits";

/** The spec at each commit: the step prints which spec ran and the code file it read. */
const spec = (label: string, policies = "") => `project: commits
pipelines:
  flaky:
    steps:
      once:
        run: test -f "$FLAG" && echo "retried spec ${label}, code $(cat msg.txt)"
        env:
          FLAG: \${{ params.flag }}
    params:
      flag: /nonexistent
  build:
    triggers:
      - git: { branch: main }
    steps:
      show:
        run: echo "spec ${label}, code $(cat msg.txt)"
        inputs:
          msg: msg.txt
      other:
        run: echo other
  polled:
    triggers:
      - git: { branch: main, repo: ../origin.git, poll: 1s }
    steps:
      show:
        run: echo "polled spec ${label}, code $(cat msg.txt)"
        inputs:
          msg: msg.txt
${policies}`;

const POLICIES = `policies:
  release:
    applies_to:
      aliases: [champion]
    require:
      - metric: roc_auc >= 0.99
`;

interface RunWire {
  id: string;
  status: string;
  spec_version: number;
  error: string | null;
  commit: string | null;
  dirty: boolean | null;
  changed_paths: string[];
  workspace: string | null;
  steps: Array<{ name: string; status: string; error: string | null }>;
}

for (const store of STORE_KINDS) {
  const suite = store === "postgres" && !postgresAvailable() ? describe.skip : describe;
  suite(`runs execute a commit [${store}]`, () => commitRuns(store));
}

function commitRuns(store: StoreKind) {
  let t: TestServer;
  let root: string;
  let work: string;
  const commits: string[] = [];
  const git = (cwd: string, ...args: string[]) =>
    execFileSync("git", ["-C", cwd, "-c", "user.email=t@t", "-c", "user.name=t", ...args], { encoding: "utf8" }).trim();
  const commit = (label: string, policies = "") => {
    writeFileSync(join(work, "msg.txt"), `${label}\n`);
    writeFileSync(join(work, "tandem.yaml"), spec(label, policies));
    git(work, "add", "-A");
    git(work, "commit", "-q", "-m", label);
    commits.push(git(work, "rev-parse", "HEAD"));
    return commits[commits.length - 1]!;
  };

  const wait = async (id: string): Promise<RunWire> => {
    for (;;) {
      const r = await t.api<RunWire>("GET", `${P}/pipeline-runs/${id}`);
      if (["succeeded", "failed", "cancelled"].includes(r.body.status)) return r.body;
      await new Promise((done) => setTimeout(done, 50));
    }
  };
  const logOf = async (id: string, step: string) =>
    (await t.api<{ lines: Array<{ text: string }> }>("GET", `${P}/pipeline-runs/${id}/logs?step=${step}`)).body.lines
      .map((l) => l.text)
      .join("\n");
  const push = async (sha: string, login = "nobody") => {
    const body = JSON.stringify({ ref: "refs/heads/main", after: sha, sender: { login } });
    const res = await fetch(`${t.url}/api/v1/hooks/git?project=commits`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`,
      },
      body,
    });
    expect(res.status).toBe(200);
    const fired = (await res.json()) as { runs: Array<{ pipeline: string; run_id: string }> };
    return fired.runs.find((r) => r.pipeline === "build")!.run_id;
  };

  beforeAll(async () => {
    t = await startTestServer({ store });
    root = mkdtempSync(join(tmpdir(), "cache-commits-"));
    work = join(root, "work");
    mkdirSync(work);
    execFileSync("git", ["init", "-q", "--bare", "-b", "main", join(root, "origin.git")]);
    git(work, "init", "-q", "-b", "main");
    git(work, "remote", "add", "origin", join(root, "origin.git"));
    commit("one");
    git(work, "tag", "first");
    git(work, "push", "-q", "origin", "main");
    commit("two");
    // The working folder differs from both commits, and is what `tandem apply` was run from.
    writeFileSync(join(work, "msg.txt"), "folder\n");
    writeFileSync(join(work, "tandem.yaml"), spec("folder"));
    mkdirSync(join(work, ".tandem"), { recursive: true });
    writeFileSync(join(work, ".tandem", "state"), "x");
    const applied = await t.api("POST", `${P}/specs`, { source: spec("folder"), workspace: work });
    expect(applied.status).toBe(201);
    expect((await t.api("PUT", `${P}/secrets/GIT_WEBHOOK_SECRET`, { value: SECRET })).status).toBe(200);
  });
  afterAll(async () => {
    await t?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("a manual run records HEAD and the dirty paths (tandem.lock and .tandem/ never count)", async () => {
    const started = await t.api<RunWire>("POST", `${P}/pipelines/build/runs`, { workspace: work });
    expect(started.status).toBe(202);
    const run = await wait(started.body.id);
    expect(run.status).toBe("succeeded");
    expect(await logOf(run.id, "show")).toContain("spec folder, code folder");
    expect([run.commit, run.dirty, run.changed_paths]).toEqual([commits[1], true, ["msg.txt", "tandem.yaml"]]);
    expect(existsSync(join(work, "tandem.lock"))).toBe(true); // written by that run, and not a change
    const again = await wait((await t.api<RunWire>("POST", `${P}/pipelines/build/runs`, { workspace: work })).body.id);
    expect([again.commit, again.dirty, again.changed_paths]).toEqual([commits[1], true, ["msg.txt", "tandem.yaml"]]);

    const outside = mkdtempSync(join(root, "plain-"));
    writeFileSync(join(outside, "msg.txt"), "plain\n");
    const elsewhere = await wait(
      (await t.api<RunWire>("POST", `${P}/pipelines/build/runs`, { workspace: outside, no_cache: true })).body.id,
    );
    expect([elsewhere.status, elsewhere.commit, elsewhere.dirty]).toEqual(["succeeded", null, false]);
  });

  it("a push runs the pushed commit's code and tandem.yaml from a clean checkout, and records it", async () => {
    const run = await wait(await push(commits[1]!));
    expect(run.status, JSON.stringify(run.steps)).toBe("succeeded");
    expect(await logOf(run.id, "show")).toContain("spec two, code two");
    expect([run.commit, run.dirty, run.changed_paths]).toEqual([commits[1], false, []]);
    const specs = await t.api<{ source: string; commit: string | null }>("GET", `${P}/specs/${run.spec_version}`);
    expect(specs.body).toMatchObject({ source: spec("two"), commit: commits[1] });
    // The checkout is gone with the run; the applied spec is still the folder's.
    expect(existsSync(run.workspace!)).toBe(false);
    const latest = await t.api<{ version: number; commit: string | null }>("GET", `${P}/specs/latest`);
    expect(latest.body.commit).toBeNull();
  });

  it("a push of a commit the server cannot fetch fails the first step with git's message; nothing runs", async () => {
    const run = await wait(await push("f".repeat(40)));
    expect(run.status).toBe("failed");
    const [first, second] = run.steps;
    expect(first!.status).toBe("failed");
    expect(first!.error).toMatch(/git could not fetch commit f{40} from .*work: .*not our ref/);
    expect(second).toMatchObject({ status: "cancelled", error: "not run: the run's code could not be prepared" });
    expect(run.error).toBe(first!.error);
  });

  it("a polled ref runs the new commit from the polled repository", async () => {
    const triggers = t.server.opened.services.pipelineTriggers;
    const now = Date.now();
    expect(await triggers.pollGit(now)).toEqual([]); // first sight of the branch: remembered only
    // A new commit (the pushes above already ran commit two for this pipeline, once per commit).
    const sha = commit("pushed");
    writeFileSync(join(work, "msg.txt"), "folder\n");
    git(work, "push", "-q", "origin", "main");
    const fired = await triggers.pollGit(now + 2000);
    expect(fired).toHaveLength(1);
    const run = await wait(fired[0]!.runId!);
    expect(run.status, JSON.stringify(run.steps)).toBe("succeeded");
    expect(await logOf(run.id, "show")).toContain("polled spec pushed, code pushed");
    expect(run.commit).toBe(sha);
  });

  it("tandem run --at the first commit runs the first commit", async () => {
    const done = await cli(["run", "build", "--at", "first", "--json", "--concurrency", "1"], {
      cwd: work,
      env: { TANDEM_URL: t.url, TANDEM_TOKEN: t.adminToken },
    });
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toContain(`commit ${commits[0]!.slice(0, 12)}`);
    const out = done.stdout;
    const run = JSON.parse(out) as RunWire;
    expect([run.status, run.commit, run.dirty]).toEqual(["succeeded", commits[0], false]);
    expect(await logOf(run.id, "show")).toContain("spec one, code one");

    const bad = await t.api<{ error: { message: string } }>("POST", `${P}/pipelines/build/runs`, { at: "HEAD~1" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("full commit id");
  });

  it("a commit that changes policies: fails at start with the 403 when its pusher is not an admin", async () => {
    const sha = commit("three", POLICIES);
    const run = await wait(await push(sha, "stranger"));
    expect(run.status).toBe("failed");
    expect(run.steps[0]!.error).toMatch(/polic/i);
    expect(run.steps.map((s) => s.status)).toEqual(["failed", "cancelled"]);
    expect(await logOf(run.id, "show")).not.toContain("spec three");

    // By hand, under the caller's rights: a member gets the 403 itself.
    expect((await t.api("POST", "/api/v1/users", { name: "mo" })).status).toBe(201);
    expect((await t.api("PUT", `${P}/members/mo`, { role: "member" })).status).toBe(200);
    const token = (await t.api<{ token: string }>("POST", "/api/v1/tokens", { name: "t", user: "mo" })).body.token;
    const refused = await t.api<{ error: { code: string } }>(
      "POST",
      `${P}/pipelines/build/runs`,
      { at: sha, workspace: work },
      token,
    );
    expect(refused.status).toBe(403);
  });

  it("a retried run of a commit checks the commit out again (its checkout was removed when it ended)", async () => {
    const flag = join(root, "flag");
    const started = await t.api<RunWire>("POST", `${P}/pipelines/flaky/runs`, {
      at: commits[1],
      workspace: work,
      params: { flag },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const failed = await wait(started.body.id);
    expect(failed.status).toBe("failed");
    expect(existsSync(failed.workspace!)).toBe(false);
    writeFileSync(flag, "");
    expect((await t.api("POST", `${P}/pipeline-runs/${failed.id}/retry`)).status).toBe(200);
    const retried = await wait(failed.id);
    expect(retried.status, JSON.stringify(retried.steps)).toBe("succeeded");
    expect(await logOf(retried.id, "once")).toContain("retried spec two, code two");
  });

  it("fetches from the spec's repository: when the caller's folder is not on the server", async () => {
    const polled = commits[2]!; // pushed to origin.git by the poll test
    const withRepo = `${spec("folder")}repository: ${join(root, "origin.git")}\n`;
    expect((await t.api("POST", `${P}/specs`, { source: withRepo, workspace: work })).status).toBe(201);
    const started = await t.api<RunWire>("POST", `${P}/pipelines/build/runs`, {
      at: polled,
      workspace: "/nowhere/on/this/server",
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const run = await wait(started.body.id);
    expect([run.status, run.commit]).toEqual(["succeeded", polled]);
    expect(await logOf(run.id, "show")).toContain("spec pushed, code pushed");

    // An https repository goes through the outbound guard (no loopback), and only https or a folder.
    const loopback = await t.api<{ error: { message: string } }>("POST", `${P}/specs`, {
      source: `${spec("folder")}repository: https://127.0.0.1/acme/app.git\n`,
      workspace: work,
    });
    expect(loopback.status).toBe(403);
    expect(loopback.body.error.message).toContain("repository https://127.0.0.1/acme/app.git: 127.0.0.1 is");
    const ext = await t.api<{ error: { message: string } }>("POST", `${P}/specs`, {
      source: `${spec("folder")}repository: "ext::sh -c touch% /tmp/owned"\n`,
      workspace: work,
    });
    expect(ext.status).toBe(400);
    expect(ext.body.error.message).toContain("an https:// URL or an absolute folder on the server");
  });
}
