/**
 * RunTokens against the real access service and store: one token per run however many steps ask at
 * once, renewed a window at a time but never past the run's bound, revoked at the end, and the
 * process's map of live tokens emptied (a long-lived server must not collect one entry per run).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AccessService } from "../../src/core/governance/access.js";
import { AuditLog } from "../../src/core/governance/audit.js";
import { RunTokens } from "../../src/core/governance/run-tokens.js";
import { FileAuditHeadKeeper } from "../../src/stores/files/audit-head-file.js";
import { SqlAccessStore } from "../../src/stores/metadata/access-store.js";
import { SqlAuditStore } from "../../src/stores/metadata/audit-store.js";
import { describeStores } from "../helpers/stores.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeStores("a run's token lives while its run is driven", (getStore) => {
  let access: AccessService;
  let dir: string;
  const store = () => new SqlAccessStore(getStore());
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "trust-run-tokens-"));
    const sql = getStore();
    access = new AccessService(
      sql,
      store(),
      new AuditLog(new SqlAuditStore(sql), new FileAuditHeadKeeper(join(dir, "head"))),
    );
    await access.bootstrap();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const recordOf = async (token: string) => (await store().getToken((await access.authenticate(token)).tokenId!))!;

  it("is one token per run, limited to its project and member, bound to the run", async () => {
    const tokens = new RunTokens(access);
    const [a, b] = await Promise.all([
      tokens.issue({ id: "run-1", project: "p1", boundMs: null }),
      tokens.issue({ id: "run-1", project: "p1", boundMs: null }),
    ]);
    expect(a).toBe(b);
    const principal = await access.authenticate(a);
    expect(principal).toMatchObject({ userName: "system", tokenRole: "member", tokenProject: "p1", runId: "run-1" });
    expect(await access.roleIn(principal, "p2")).toBeNull();
    await tokens.end("run-1");
    expect(tokens.size).toBe(0);
  });

  it("is renewed a window at a time, never past the run's bound, and revoked at the end", async () => {
    const tokens = new RunTokens(access, { windowMs: 2000 });
    const started = Date.now();
    const token = await tokens.issue({ id: "run-2", project: "p1", boundMs: 3000 });
    const issued = Date.now();
    const first = (await recordOf(token)).expiresAt!;
    expect(first).toBeGreaterThanOrEqual(started + 2000);
    expect(first).toBeLessThanOrEqual(issued + 2000);

    await tokens.renew("run-2"); // not due yet: more than half the window left
    expect((await recordOf(token)).expiresAt).toBe(first);
    await sleep(1100);
    await tokens.renew("run-2");
    const renewed = (await recordOf(token)).expiresAt!;
    expect(renewed).toBeGreaterThan(first);
    // Capped by the bound: issued + 3000 ms, not renewal + 2000 ms.
    expect(renewed).toBeLessThanOrEqual(issued + 3000);

    await sleep(renewed - Date.now() + 100);
    await tokens.renew("run-2"); // past the bound: nothing left to renew
    await expect(access.authenticate(token)).rejects.toThrow(/expired/);

    await tokens.end("run-2");
    expect(tokens.size).toBe(0);
    await expect(access.authenticate(token)).rejects.toThrow(/revoked/);
    await tokens.end("run-2"); // a second end (finish, then the driver's finally) is harmless
    await tokens.end("never-issued");
  });

  it("after a takeover the next driver keeps the run's token alive; only the run's end revokes it", async () => {
    const first = new RunTokens(access, { windowMs: 2000 });
    const token = await first.issue({ id: "run-3", project: "p1", boundMs: null });
    const issuedUntil = (await recordOf(token)).expiresAt!;
    first.forget("run-3"); // the first driver stops: its remote step keeps running with this token
    expect(first.size).toBe(0);
    await access.authenticate(token); // not revoked

    const successor = new RunTokens(access, { windowMs: 2000 });
    await successor.renew("run-3");
    expect((await recordOf(token)).expiresAt).toBeGreaterThan(issuedUntil);
    await successor.end("run-3");
    expect(successor.size).toBe(0);
    await expect(access.authenticate(token)).rejects.toThrow(/revoked/);
  });

  it("is revived by the driver that takes its run over after an outage longer than its window, never past its bound", async () => {
    // Every server down longer than the window: the token expired while its remote step ran on.
    const first = new RunTokens(access, { windowMs: 500 });
    const token = await first.issue({ id: "run-4", project: "p1", boundMs: 4000 });
    const bound = (await recordOf(token)).renewableUntil!;
    first.forget("run-4");
    await sleep(700);
    await expect(access.authenticate(token)).rejects.toThrow(/expired/);

    // The server that takes the run over renews it: the step can report again.
    const successor = new RunTokens(access, { windowMs: 500 });
    await successor.renew("run-4");
    expect((await access.authenticate(token)).runId).toBe("run-4");

    // Still never past the run's bound, which the successor learns from the token, not its memory.
    const late = new RunTokens(access, { windowMs: 60_000 });
    await late.renew("run-4");
    expect((await recordOf(token)).expiresAt).toBe(bound);
    await sleep(bound - Date.now() + 100);
    await new RunTokens(access, { windowMs: 60_000 }).renew("run-4");
    await expect(access.authenticate(token)).rejects.toThrow(/expired/);

    // A revoked token (its run ended) is never revived.
    const ended = new RunTokens(access, { windowMs: 60_000 });
    const other = await ended.issue({ id: "run-5", project: "p1", boundMs: null });
    await ended.end("run-5");
    await new RunTokens(access, { windowMs: 60_000 }).renew("run-5");
    await expect(access.authenticate(other)).rejects.toThrow(/revoked/);
  });
});
