import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { describeStores } from "../../../test/helpers/stores.js";
import { SqlAuditStore } from "../../stores/metadata/audit-store.js";
import { FileAuditHeadKeeper } from "../../stores/files/audit-head-file.js";
import { AuditLog } from "./audit.js";
import { audited } from "./audited.js";

describeStores("audit log", (getStore) => {
  function makeLog() {
    const dir = mkdtempSync(join(tmpdir(), "tandem-audit-"));
    return new AuditLog(new SqlAuditStore(getStore()), new FileAuditHeadKeeper(join(dir, "audit.head")));
  }
  async function writeEvents(log: AuditLog, n: number) {
    for (let i = 0; i < n; i++) {
      await audited(getStore(), log, async (_tx, record) => {
        await record({ actor: "alice", project: "p", action: "thing.change", target: `thing:${i}`, summary: { i } });
      });
    }
  }
  async function clear() {
    await sql`delete from audit_events`.execute(getStore().db);
  }

  it("verifies an untouched chain", async () => {
    await clear();
    const log = makeLog();
    await writeEvents(log, 5);
    expect(await log.verify()).toMatchObject({ ok: true, events: 5 });
  });

  it("detects an edited row", async () => {
    await clear();
    const log = makeLog();
    await writeEvents(log, 5);
    const third = (await log.list({ limit: 5 }))[2]!;
    await sql`update audit_events set actor = 'mallory' where seq = ${third.seq}`.execute(getStore().db);
    const verdict = await log.verify();
    expect(verdict).toMatchObject({ ok: false, brokenAt: third.seq });
  });

  it("detects a deleted row in the middle", async () => {
    await clear();
    const log = makeLog();
    await writeEvents(log, 5);
    const events = await log.list({ limit: 5 });
    await sql`delete from audit_events where seq = ${events[1]!.seq}`.execute(getStore().db);
    expect(await log.verify()).toMatchObject({ ok: false, brokenAt: events[2]!.seq });
  });

  it("detects reordered rows", async () => {
    await clear();
    const log = makeLog();
    await writeEvents(log, 4);
    const [, b, c] = await log.list({ limit: 4 });
    // Swap the contents of two rows, keeping their sequence numbers.
    await sql`update audit_events set seq = -1 where seq = ${b!.seq}`.execute(getStore().db);
    await sql`update audit_events set seq = ${b!.seq} where seq = ${c!.seq}`.execute(getStore().db);
    await sql`update audit_events set seq = ${c!.seq} where seq = -1`.execute(getStore().db);
    expect(await log.verify()).toMatchObject({ ok: false, brokenAt: b!.seq });
  });

  it("detects removal of the newest rows through the external head", async () => {
    await clear();
    const log = makeLog();
    await writeEvents(log, 5);
    const events = await log.list({ limit: 5 });
    await sql`delete from audit_events where seq >= ${events[3]!.seq}`.execute(getStore().db);
    const verdict = await log.verify();
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toMatch(/newest events were removed/);
  });

  it("does not record an event when the change fails", async () => {
    await clear();
    const log = makeLog();
    await expect(
      audited(getStore(), log, async (_tx, record) => {
        await record({ actor: "a", project: null, action: "x", target: "y" });
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await log.list({ limit: 10 })).toHaveLength(0);
  });
});

describe("hash", () => {
  it("is stable", async () => {
    const { hashEvent, GENESIS_HASH } = await import("./audit.js");
    const e = { id: "1", at: 1, actor: "a", project: null, action: "x", target: "t", summary: {} };
    expect(hashEvent(GENESIS_HASH, e)).toBe(hashEvent(GENESIS_HASH, { ...e }));
    expect(hashEvent(GENESIS_HASH, e)).not.toBe(hashEvent(GENESIS_HASH, { ...e, actor: "b" }));
  });
});
