/**
 * DORA over a real server, on SQLite and Postgres: service deployments recorded by the CLI as a CI
 * would (`--at`, `--commit-time`, or the commit time read from git; a hotfix; a failed deploy; a
 * staging and a too-old one that do not count), and the numbers the route and `tandem dora` give,
 * worked by hand below.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { doraWire } from "../../src/server/routes/dora.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { postgresAvailable, type StoreKind } from "../helpers/stores.js";

const run = promisify(execFile);
const BIN = join(import.meta.dirname, "../../bin/tandem.js");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

const stores: StoreKind[] = postgresAvailable() ? ["sqlite", "postgres"] : ["sqlite"];

describe.each(stores)("DORA from recorded deployments (%s)", (store) => {
  let t: TestServer;
  let repo: string;
  let now: number;
  const tandem = (args: string[], cwd?: string) =>
    run(process.execPath, [BIN, ...args], {
      env: { ...process.env, TANDEM_URL: t.url, TANDEM_TOKEN: t.adminToken, NO_COLOR: "1" },
      encoding: "utf8",
      cwd,
    });
  const record = (service: string, atMs: number, extra: string[] = []) =>
    tandem(["deployments", "record", service, "--project", "shop", "--at", iso(atMs), ...extra]);

  beforeAll(async () => {
    t = await startTestServer({ store });
    // Whole minutes, so ISO times round-trip exactly.
    now = Math.floor(Date.now() / 60_000) * 60_000;
    repo = mkdtempSync(join(tmpdir(), "dora-ci-"));
    writeFileSync(join(repo, "app.txt"), "v1\n");
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", repo, "-c", "user.email=ci@x", "-c", "user.name=ci", ...args], {
        encoding: "utf8",
        env: { ...process.env, GIT_COMMITTER_DATE: iso(now - 10 * DAY - 2 * HOUR) },
      });
    git("init", "-q", "-b", "main");
    git("add", "app.txt");
    git("commit", "-q", "-m", "v1");
    const sha = git("rev-parse", "HEAD").trim();
    // s1: its commit time comes from git in the CI's folder: lead time 2 h.
    const s1 = await tandem(
      ["deployments", "record", "api", "--project", "shop", "--commit", sha, "--at", iso(now - 10 * DAY), "--json"],
      repo,
    );
    expect(JSON.parse(s1.stdout)).toMatchObject({ commit: sha, commit_at: now - 10 * DAY - 2 * HOUR });
    // The rest straight through the API (a CLI spawn each would be slow on a loaded machine), but
    // the hotfix, whose --commit-time and --reason go through the CLI.
    const post = async (body: Record<string, unknown>) =>
      expect((await t.api("POST", "/api/v1/projects/shop/deployments", { service: "api", ...body })).status).toBe(201);
    // s2 (lead 1 h), then a hotfix 3 h later (lead 30 min): s2 failed, recovered in 3 h.
    await post({ at: now - 9 * DAY, commit: "b2", commit_at: now - 9 * DAY - HOUR });
    await record("api", now - 9 * DAY + 3 * HOUR, [
      "--commit",
      "b3",
      "--commit-time",
      iso(now - 9 * DAY + 150 * 60_000),
      "--reason",
      "hotfix",
    ]);
    // s4 failed in CI; s5 shipped an hour later (lead 30 min): recovered in 1 h.
    await post({ at: now - 5 * DAY, outcome: "failed", commit_at: now - 5 * DAY - HOUR });
    await post({ at: now - 5 * DAY + HOUR, commit_at: now - 5 * DAY + 30 * 60_000 });
    // Neither counts: staging, and 200 days ago (outside 90 days).
    await post({ at: now - 4 * DAY, environment: "staging" });
    await post({ service: "web", at: now - 200 * DAY });
    // CLI processes start slowly on a loaded 2-core machine: give the setup room.
  }, 600_000);
  afterAll(async () => t?.stop());

  it("the route gives the hand-worked numbers for services, and models are empty", async () => {
    const res = await t.api("GET", "/api/v1/projects/shop/dora");
    expect(res.status).toBe(200);
    const d = doraWire.parse(res.body);
    expect(d.until - d.since).toBe(90 * DAY);
    expect(d.report_year).toBe(2024);
    const s = d.groups.service;
    expect(s.deployments).toBe(5);
    // 5 in 90 days: more than once a month, less than once a week.
    expect(s.deployment_frequency).toEqual({ per_day: 5 / 90, per_week: (5 / 90) * 7, band: "medium" });
    // Lead times 2 h, 1 h, 30 min, 30 min (the failed s4 has none): median 45 min.
    expect(s.change_lead_time).toEqual({ median_ms: 45 * 60_000, measured: 4, band: "elite" });
    expect(s.change_fail_rate).toEqual({ rate: 0.4, failed: 2, band: "low" });
    expect(s.failed_deployment_recovery_time).toEqual({
      median_ms: 2 * HOUR,
      recovered: 2,
      unrecovered: 0,
      band: "high",
    });
    expect(s.deployment_rework_rate).toEqual({ rate: 0.2, rework: 1, band: null });
    expect(d.groups.all).toEqual(s);
    expect(d.groups.model.deployments).toBe(0);
    expect(d.deployments.filter((x) => x.failed).map((x) => x.failed_because)).toEqual([
      "failed",
      expect.stringMatching(/^hotfix /),
    ]);
  }, 300_000);

  it("--since, --target and the text answer", async () => {
    const json = await tandem(["dora", "--project", "shop", "--since", "7d", "--json"]);
    expect(doraWire.parse(JSON.parse(json.stdout)).groups.all.deployments).toBe(2);
    const none = await tandem(["dora", "--project", "shop", "--target", "web", "--json"]);
    expect(doraWire.parse(JSON.parse(none.stdout)).groups.all.deployments).toBe(0);
    const text = await tandem(["dora", "--project", "shop"]);
    expect(text.stdout).toContain("DORA for shop over the last 90 days — bands from DORA's 2024 report");
    expect(text.stdout).toMatch(/change fail rate\s+—\s+40\.0% \(2\) \(low\)\s+40\.0% \(2\) \(low\)/);
    expect(text.stdout).toMatch(/change lead time \(median\)\s+—\s+45 min \(elite\)/);
  }, 300_000);

  it("bad input is a clear usage error, never a stack trace", async () => {
    const bad = await tandem(["dora", "--project", "shop", "--since", "banana"]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toContain('since: expected a duration like 15m, 1h or 7d, got "banana"');
    const res = await t.api<{ error: { code: string } }>("GET", "/api/v1/projects/shop/dora?since=0d");
    expect(res.status).toBe(400);
    const when = await tandem(["deployments", "record", "api", "--project", "shop", "--at", "yesterday"]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((when as { code: number }).code).toBe(2);
    expect((when as { stderr: string }).stderr).toContain("--at: expected an ISO 8601 time");
    const later = await t.api<{ error: { message: string } }>("POST", "/api/v1/projects/shop/deployments", {
      service: "api",
      at: now,
      commit_at: now + HOUR,
    });
    expect(later.status).toBe(400);
    expect(later.body.error.message).toContain("is after the deployment");
  }, 300_000);
});
