/**
 * PostgresLoopLock on a real Postgres: of two servers, one runs a loop's tick and the other skips it;
 * different loops do not exclude each other; a server killed with -9 while holding a loop leaves it
 * free at once (the lock dies with its connection).
 */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshPostgresDatabase, postgresAvailable } from "../../../test/helpers/stores.js";
import { PostgresLoopLock } from "./loop-lock.js";

describe.skipIf(!postgresAvailable())("PostgresLoopLock", () => {
  let url = "";
  let cleanup: () => Promise<void> = async () => undefined;
  const locks: PostgresLoopLock[] = [];
  const lock = () => {
    const l = new PostgresLoopLock(url);
    locks.push(l);
    return l;
  };
  beforeAll(async () => {
    const db = await freshPostgresDatabase();
    url = (db.database as { url: string }).url;
    cleanup = db.cleanup;
  });
  afterAll(async () => {
    for (const l of locks) await l.close();
    await cleanup();
  });

  it("runs a loop's tick on one server at a time; other loops are not held up", async () => {
    const [a, b] = [lock(), lock()];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = a.whileHeld("schedules", async () => {
      await held;
      return "a ran";
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(await b.whileHeld("schedules", async () => "b ran")).toEqual({ ran: false });
    expect(await b.whileHeld("alert-delivery", async () => "b ran")).toEqual({ ran: true, value: "b ran" });
    release();
    expect(await first).toEqual({ ran: true, value: "a ran" });
    expect(await b.whileHeld("schedules", async () => "b ran")).toEqual({ ran: true, value: "b ran" });
  });

  it("frees a loop at once when the server holding it is killed with -9", async () => {
    const script = `
      import { PostgresLoopLock } from "./src/stores/metadata/loop-lock.ts";
      const lock = new PostgresLoopLock(process.env.URL);
      await lock.whileHeld("monitors", async () => { console.log("holding"); await new Promise(() => {}); });
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      env: { ...process.env, URL: url },
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve) =>
      child.stdout!.on("data", (c: Buffer) => c.toString().includes("holding") && resolve()),
    );
    const other = lock();
    expect(await other.whileHeld("monitors", async () => "ran")).toEqual({ ran: false });
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    // Postgres notices the dropped connection within moments; no lease to wait out.
    let result: { ran: boolean } = { ran: false };
    for (let i = 0; i < 50 && !result.ran; i++) {
      result = await other.whileHeld("monitors", async () => "ran");
      if (!result.ran) await new Promise((r) => setTimeout(r, 100));
    }
    expect(result).toEqual({ ran: true, value: "ran" });
  });

  it("lets many loops tick at once on its one connection without pg's concurrent-query warning", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on("warning", onWarning);
    try {
      const l = lock();
      const loops = Array.from({ length: 8 }, (_, i) => `loop-${i}`);
      const results = await Promise.all(loops.map((name) => l.whileHeld(name, async () => name)));
      expect(results.map((r) => r.ran)).toEqual(loops.map(() => true));
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.filter((m) => /already executing/.test(m))).toEqual([]);
  });
});
