/**
 * A Kysely driver for better-sqlite3 that differs from Kysely's own in two ways that matter here:
 * - transactions start with BEGIN IMMEDIATE, so two processes writing the same file wait on the busy
 *   timeout instead of failing with SQLITE_BUSY when a read transaction tries to upgrade;
 * - prepared statements are cached (Kysely's driver prepares every query again; for log-batch that
 *   doubled the time per insert).
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

const STATEMENT_CACHE_LIMIT = 500;

class CachingSqliteConnection implements DatabaseConnection {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  constructor(private readonly db: BetterSqlite3.Database) {}

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
    const { changes, lastInsertRowid } = stmt.run(params);
    return Promise.resolve({
      numAffectedRows: BigInt(changes),
      insertId: BigInt(lastInsertRowid),
      rows: [],
    });
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
  constructor(private readonly db: BetterSqlite3.Database) {}

  async init(): Promise<void> {
    this.connection = new CachingSqliteConnection(this.db);
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
    await conn.executeQuery(CompiledQuery.raw("begin immediate"));
  }
  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw("commit"));
  }
  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw("rollback"));
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
  constructor(private readonly db: BetterSqlite3.Database) {}
  createDriver(): Driver {
    return new CachingSqliteDriver(this.db);
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
