/**
 * A Kysely driver for better-sqlite3 that differs from Kysely's own in two ways that matter here:
 * - transactions start with BEGIN IMMEDIATE, so two processes writing the same file wait on the busy
 *   timeout instead of failing with SQLITE_BUSY when a read transaction tries to upgrade;
 * - prepared statements are cached (Kysely's driver prepares every query again; for log-batch that
 *   doubled the time per insert);
 * - writes first take the in-process write lock shared with the prediction log's writer thread,
 *   waiting for it without blocking the event loop (sqlite-write-lock.ts says why).
 */
import type BetterSqlite3 from "better-sqlite3";
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from "kysely";
import type { SqliteWriteLock } from "./sqlite-write-lock.js";

const STATEMENT_CACHE_LIMIT = 500;

class CachingSqliteConnection implements DatabaseConnection {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  /** Whether this connection holds the in-process write lock (from BEGIN to COMMIT/ROLLBACK). */
  private holding = false;
  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly writeLock: SqliteWriteLock | undefined,
  ) {}

  private prepare(sql: string): BetterSqlite3.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      if (this.statements.size >= STATEMENT_CACHE_LIMIT) this.statements.clear();
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const stmt = this.prepare(compiled.sql);
    const params = compiled.parameters as unknown[];
    if (stmt.reader) return Promise.resolve({ rows: stmt.all(params) as R[] });
    // A write outside a transaction takes the write lock for itself (reads never need it: WAL).
    if (this.writeLock && !this.holding && !this.db.inTransaction) return this.runLocked(stmt, params);
    return Promise.resolve(this.run(stmt, params));
  }

  private run<R>(stmt: BetterSqlite3.Statement, params: unknown[]): QueryResult<R> {
    const { changes, lastInsertRowid } = stmt.run(params);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  private async runLocked<R>(stmt: BetterSqlite3.Statement, params: unknown[]): Promise<QueryResult<R>> {
    await this.writeLock!.acquire();
    try {
      return this.run(stmt, params);
    } finally {
      this.writeLock!.release();
    }
  }

  /** BEGIN IMMEDIATE, once this process's other writer (the prediction log's thread) is not writing. */
  async begin(): Promise<void> {
    if (this.writeLock) {
      await this.writeLock.acquire();
      this.holding = true;
    }
    try {
      this.prepare("begin immediate").run();
    } catch (error) {
      this.releaseWriteLock();
      throw error;
    }
  }

  /** COMMIT or ROLLBACK, then the write lock goes. */
  end(statement: "commit" | "rollback"): void {
    try {
      this.prepare(statement).run();
    } finally {
      this.releaseWriteLock();
    }
  }

  private releaseWriteLock(): void {
    if (!this.holding) return;
    this.holding = false;
    this.writeLock!.release();
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const stmt = this.prepare(compiled.sql);
    for (const row of stmt.iterate(compiled.parameters as unknown[])) yield { rows: [row as R] };
  }
}

/** One connection guarded by a promise-chain mutex: better-sqlite3 is synchronous and single-handed. */
class CachingSqliteDriver implements Driver {
  private connection!: CachingSqliteConnection;
  private queue: Promise<void> = Promise.resolve();
  private release: (() => void) | undefined;
  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly writeLock: SqliteWriteLock | undefined,
  ) {}

  async init(): Promise<void> {
    this.connection = new CachingSqliteConnection(this.db, this.writeLock);
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.queue;
    let release!: () => void;
    this.queue = new Promise<void>((resolve) => (release = resolve));
    await previous;
    this.release = release;
    return this.connection;
  }
  async beginTransaction(conn: DatabaseConnection): Promise<void> {
    await (conn as CachingSqliteConnection).begin();
  }
  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    (conn as CachingSqliteConnection).end("commit");
  }
  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    (conn as CachingSqliteConnection).end("rollback");
  }
  async releaseConnection(): Promise<void> {
    const release = this.release;
    this.release = undefined;
    release?.();
  }
  async destroy(): Promise<void> {
    this.db.close();
  }
}

/**
 * SQLite does run DDL inside transactions. Saying so makes Kysely's Migrator run each batch inside
 * one (BEGIN IMMEDIATE here), which is what serialises two processes migrating the same file:
 * Kysely's SQLite migration lock is a no-op, since it assumes one process.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

export class CachingSqliteDialect implements Dialect {
  /** `writeLock`: shared with this process's other writer of the file (see sqlite-write-lock.ts). */
  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly writeLock?: SqliteWriteLock,
  ) {}
  createDriver(): Driver {
    return new CachingSqliteDriver(this.db, this.writeLock);
  }
  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }
  createAdapter() {
    return new TransactionalDdlSqliteAdapter();
  }
  createIntrospector(db: Kysely<unknown>) {
    return new SqliteIntrospector(db);
  }
}
