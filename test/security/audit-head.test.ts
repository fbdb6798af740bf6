/**
 * The audit head kept outside the database, attacked: the newest events deleted together with the
 * head file must fail `audit verify` (unless --without-head says the head is missing on purpose),
 * and two processes appending at once must never move the head backwards.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { AuditLog } from "../../src/core/governance/audit.js";
import { audited } from "../../src/core/governance/audited.js";
import { FileAuditHeadKeeper } from "../../src/stores/files/audit-head-file.js";
import { SqlAuditStore } from "../../src/stores/metadata/audit-store.js";
import { describeStores } from "../helpers/stores.js";
import { startTestServer } from "../helpers/server.js";

const APPENDER = resolve(import.meta.dirname, "audit-appender.ts");

function appender(database: string, head: string, count: number, actor: string): Promise<number | null> {
  const child = spawn(process.execPath, ["--import", "tsx", APPENDER, database, head, String(count), actor], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  return new Promise((r) => child.on("exit", (code) => r(code)));
}

const headSeq = (file: string): number | null =>
  existsSync(file) ? Number(readFileSync(file, "utf8").split(" ")[0]) : null;

describeStores("audit head", (getStore, _kind, getDatabase) => {
  it("two processes appending at once never move the head backwards", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-audit-race-"));
    const head = join(dir, "audit.head");
    const store = getStore();
    await sql`delete from audit_events`.execute(store.db);
    const db = getDatabase();
    const database = db.kind === "sqlite" ? `sqlite:${db.file}` : db.url;
    // Watch the head while both write: every reading must be at or past the one before.
    const seen: number[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const seq = headSeq(head);
        if (seq !== null && !Number.isNaN(seq)) seen.push(seq);
        await new Promise((r) => setImmediate(r));
      }
    })();
    const codes = await Promise.all([appender(database, head, 80, "a"), appender(database, head, 80, "b")]);
    watching = false;
    await watcher;
    expect(codes).toEqual([0, 0]);
    const backwards = seen.findIndex((s, i) => i > 0 && s < seen[i - 1]!);
    expect(backwards, `head moved from ${seen[backwards - 1]} back to ${seen[backwards]}`).toBe(-1);
    const log = new AuditLog(new SqlAuditStore(store), new FileAuditHeadKeeper(head));
    const newest = await new SqlAuditStore(store).newest();
    expect(headSeq(head)).toBe(newest!.seq);
    expect(await log.verify()).toMatchObject({ ok: true, events: 160 });
    rmSync(dir, { recursive: true, force: true });
  });

  it("verify fails when the newest events and the head file are both deleted", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-audit-cut-"));
    const head = join(dir, "audit.head");
    const store = getStore();
    await sql`delete from audit_events`.execute(store.db);
    const log = new AuditLog(new SqlAuditStore(store), new FileAuditHeadKeeper(head));
    for (let i = 0; i < 5; i++)
      await audited(store, log, (_tx, record) => record({ actor: "x", project: null, action: "a", target: `t${i}` }));
    const events = await log.list({ limit: 5 });
    await sql`delete from audit_events where seq >= ${events[3]!.seq}`.execute(store.db);
    rmSync(head);
    const verdict = await log.verify();
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toMatch(/has 3 events but the head .*audit\.head\) is missing/);
    expect(await log.verify({ withoutHead: true })).toMatchObject({ ok: true, events: 3 });
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("tandem audit verify over HTTP", () => {
  it("answers broken without the head file, and intact with --without-head", async () => {
    const t = await startTestServer();
    try {
      await t.api("POST", "/api/v1/users", { name: "dana" });
      rmSync(join(t.home, "audit.head"));
      const broken = await t.api<{ ok: boolean; reason: string }>("GET", "/api/v1/audit/verify");
      expect(broken.body).toMatchObject({ ok: false });
      expect(broken.body.reason).toMatch(/head kept outside the database .* is missing/);
      const chainOnly = await t.api<{ ok: boolean }>("GET", "/api/v1/audit/verify?without_head=true");
      expect(chainOnly.body).toMatchObject({ ok: true });
    } finally {
      await t.stop();
    }
  });
});
