import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqlMetadataStore } from "./sql-metadata-store.js";

describe("the SQLite write lock shared with the prediction log's writer thread", () => {
  let dir: string;
  let store: SqlMetadataStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "tandem-write-lock-"));
    store = await SqlMetadataStore.create({ database: { kind: "sqlite", file: join(dir, "tandem.db") } });
    await sql`create table t (n integer)`.execute(store.db);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("makes the main thread's writes wait for the writer without freezing the event loop", async () => {
    const lock = store.sqliteFile!.writeLock;
    // The writer thread holds it (state 1), as during a batch insert.
    Atomics.store(lock.shared, 0, 1);
    const order: string[] = [];
    const transaction = store
      .transaction(async (tx) => {
        await sql`insert into t values (1)`.execute(tx as never);
      })
      .then(() => order.push("transaction"));
    const autocommit = sql`insert into t values (2)`.execute(store.db).then(() => order.push("autocommit"));
    // The event loop keeps turning while both wait (it would be stuck in SQLite's busy handler).
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual([]);
    lock.releaseIfWorkerHeld();
    await Promise.all([transaction, autocommit]);
    expect(order.sort()).toEqual(["autocommit", "transaction"]);
    expect(Atomics.load(lock.shared, 0)).toBe(0);
  });

  it("is released after a failed transaction", async () => {
    await expect(
      store.transaction(async (tx) => {
        await sql`insert into no_such_table values (1)`.execute(tx as never);
      }),
    ).rejects.toThrow(/no such table/);
    expect(Atomics.load(store.sqliteFile!.writeLock.shared, 0)).toBe(0);
    await sql`insert into t values (3)`.execute(store.db);
  });
});
