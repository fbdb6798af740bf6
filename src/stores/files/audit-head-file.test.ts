import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileAuditHeadKeeper } from "./audit-head-file.js";

const HASH = "a".repeat(64);

/** The pid of a process that has already ended (kill -9 of a holder leaves exactly this behind). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

describe("the audit head's lock file", () => {
  const dir = mkdtempSync(join(tmpdir(), "tandem-audit-lock-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is broken at once when its holder is a dead process of this host", async () => {
    const keeper = new FileAuditHeadKeeper(join(dir, "dead.head"));
    writeFileSync(`${keeper.location}.lock`, `${hostname()} ${deadPid()}\n`);
    const started = Date.now();
    expect(await keeper.compareAndSet(null, { seq: 1, hash: HASH })).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(readFileSync(keeper.location, "utf8")).toBe(`1 ${HASH}\n`);
    expect(existsSync(`${keeper.location}.lock`)).toBe(false);
  });

  it("is respected while its holder lives, and names itself holder while held", async () => {
    const keeper = new FileAuditHeadKeeper(join(dir, "live.head"));
    const lock = `${keeper.location}.lock`;
    writeFileSync(lock, `${hostname()} ${process.pid}\n`);
    const pending = keeper.compareAndSet(null, { seq: 1, hash: HASH });
    await new Promise((r) => setTimeout(r, 300));
    expect(existsSync(keeper.location)).toBe(false);
    rmSync(lock);
    expect(await pending).toBe(true);
  });

  it("of another host is broken only once it is old", async () => {
    const keeper = new FileAuditHeadKeeper(join(dir, "remote.head"));
    const lock = `${keeper.location}.lock`;
    writeFileSync(lock, `some-other-host 1\n`);
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(lock, old, old);
    expect(await keeper.compareAndSet(null, { seq: 1, hash: HASH })).toBe(true);
  });
});
