/**
 * SQLite serves one `tandem server`: two would both run the schedules, the monitors and the run
 * takeover against one file. The server holds an exclusive transaction on a small lock database
 * beside the store (`<file>.server-lock`) for as long as it runs. SQLite's file lock goes with the
 * process, so a server killed with -9 leaves nothing to clean up. The store file itself is untouched:
 * CLI commands and `tandem serve` replicas keep opening it as before.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { ConflictError } from "../../core/errors.js";

export interface SqliteServerLock {
  release(): void;
}

export function acquireSqliteServerLock(file: string): SqliteServerLock {
  const lockFile = `${file}.server-lock`;
  const holderFile = `${lockFile}.holder`;
  // The first `tandem server` on a new home runs before anything else made the home's folder.
  mkdirSync(dirname(lockFile), { recursive: true });
  // timeout 0: a held lock answers SQLITE_BUSY at once instead of waiting for it.
  const db = new BetterSqlite3(lockFile, { timeout: 0 });
  try {
    db.exec("BEGIN EXCLUSIVE");
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code !== "SQLITE_BUSY") throw error;
    let holder = "";
    try {
      holder = ` (${readFileSync(holderFile, "utf8").trim()})`;
    } catch {
      // The holder wrote no note yet: the message stays without it.
    }
    throw new ConflictError(
      `another tandem server is already running on ${file}${holder}. SQLite serves one server; ` +
        `run several on PostgreSQL (TANDEM_DATABASE_URL=postgres://…). CLI commands and tandem serve ` +
        `replicas can still use this file.`,
    );
  }
  writeFileSync(holderFile, `pid ${process.pid} on ${hostname()}, since ${new Date().toISOString()}\n`);
  return {
    release() {
      if (!db.open) return;
      db.exec("ROLLBACK");
      db.close();
    },
  };
}
