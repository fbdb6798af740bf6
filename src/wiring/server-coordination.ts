/**
 * How a `tandem server` shares its store with other servers: on Postgres its loops take turns
 * through advisory locks (PostgresLoopLock); on SQLite it is the only server (a second one refuses
 * to start, acquireSqliteServerLock).
 */
import type { Config } from "../config.js";
import { PROCESS_LOOP_LOCK, type LoopLock } from "../server/background.js";
import { PostgresLoopLock } from "../stores/metadata/loop-lock.js";
import { acquireSqliteServerLock } from "../stores/metadata/sqlite-server-lock.js";

export interface ServerCoordination {
  lock: LoopLock;
  /** One line for the server's start-up log. */
  description: string;
  close(): Promise<void>;
}

/** Throws ConflictError when another server holds the SQLite store. */
export function coordinateServer(config: Config): ServerCoordination {
  if (config.database.kind === "postgres") {
    const lock = new PostgresLoopLock(config.database.url);
    return {
      lock,
      description: "background loops shared with any other server on this database (Postgres advisory locks)",
      close: () => lock.close(),
    };
  }
  const held = acquireSqliteServerLock(config.database.file);
  return {
    lock: PROCESS_LOOP_LOCK,
    description: "the only server on this SQLite file",
    close: async () => held.release(),
  };
}
