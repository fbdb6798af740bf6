/**
 * The one SQL implementation of the MetadataStore port, for SQLite (embedded default) and PostgreSQL
 * (scale-out). Kysely keeps one code path for both; dialect differences stay in this folder.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, PostgresDialect, type Transaction } from "kysely";
import type { DatabaseConfig } from "../../config.js";
import type { MetadataStore, Tx } from "../../core/ports.js";
import { CachingSqliteDialect } from "./sqlite-driver.js";
import { migrateToLatest } from "./migrator.js";
import type { Database } from "./schema.js";
import { SqliteWriteLock } from "./sqlite-write-lock.js";

export type Db = Kysely<Database>;

export interface SqlMetadataStoreOptions {
  database: DatabaseConfig;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  /** Postgres pool size (default 10; see postgres-pool.ts for how to size it). */
  poolSize?: number;
  /** SQLite busy timeout in ms: how long a writer waits for another process's lock (default 10 000). */
  busyTimeoutMs?: number;
}

export class SqlMetadataStore implements MetadataStore {
  private constructor(
    readonly db: Db,
    readonly dialect: "sqlite" | "postgres",
    /** The SQLite file and its busy timeout, for a second connection (null on Postgres and in memory). */
    readonly sqliteFile: { path: string; busyTimeoutMs: number; writeLock: SqliteWriteLock } | null = null,
    /** The Postgres connection string, for a connection of its own (the prediction log's writer). */
    readonly postgresUrl: string | null = null,
  ) {}

  static async create(options: SqlMetadataStoreOptions): Promise<SqlMetadataStore> {
    const store =
      options.database.kind === "sqlite"
        ? SqlMetadataStore.openSqlite(options.database.file, options.busyTimeoutMs ?? 10_000)
        : await SqlMetadataStore.openPostgres(options.database.url, options.poolSize ?? options.database.poolSize);
    if (options.migrate ?? true) await migrateToLatest(store.db as unknown as Kysely<unknown>, store.dialect);
    return store;
  }

  private static openSqlite(file: string, busyTimeoutMs: number): SqlMetadataStore {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    const sqlite = new BetterSqlite3(file, { timeout: busyTimeoutMs });
    sqlite.pragma("journal_mode = WAL");
    // NORMAL is durable across application crashes (kill -9) in WAL mode; only an OS crash can lose
    // the last transactions, never corrupt the file.
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("foreign_keys = ON");
    // Shared with the prediction log's writer thread, the other writer of this file in this process.
    const writeLock = file === ":memory:" ? null : new SqliteWriteLock();
    return new SqlMetadataStore(
      new Kysely<Database>({ dialect: new CachingSqliteDialect(sqlite, writeLock ?? undefined) }),
      "sqlite",
      writeLock ? { path: file, busyTimeoutMs, writeLock } : null,
    );
  }

  private static async openPostgres(url: string, poolSize: number | undefined): Promise<SqlMetadataStore> {
    // The pg driver loads only for a Postgres store: an embedded (SQLite) command never needs it.
    const { DEFAULT_POOL_SIZE, openPostgresPool } = await import("./postgres-pool.js");
    const pool = openPostgresPool(url, poolSize ?? DEFAULT_POOL_SIZE);
    return new SqlMetadataStore(
      new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
      "postgres",
      null,
      url,
    );
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => fn(trx as unknown as Tx));
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/** The Kysely handle behind a Tx, or the store's own when there is none. Area stores use this. */
export function dbOf(store: SqlMetadataStore, tx?: Tx): Db {
  return tx ? (tx as unknown as Transaction<Database>) : store.db;
}
