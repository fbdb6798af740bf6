/**
 * The Postgres connection pool behind the metadata store.
 *
 * Size: 10 connections by default (TANDEM_DATABASE_POOL_SIZE changes it). A request holds a
 * connection only for its one transaction (a few statements), so 10 keep a 2–4 core server's
 * event loop busy; more connections only queue inside Postgres (its default max_connections is
 * 100: leave room for other servers, step agents and psql). Several servers on one database: size
 * × servers must stay under max_connections.
 *
 * Hot statements are prepared once per connection (named statements): log-batch, run create and
 * search run the same texts thousands of times, and Postgres then skips parsing and planning them.
 */
import { createHash } from "node:crypto";
import pg from "pg";

// Postgres returns int8 as a string; every bigint column here holds milliseconds or counts well
// under 2^53, so numbers are safe and keep the two dialects' rows identical. Set when this module
// loads, which is before the first pool opens (sql-metadata-store.ts imports it for Postgres only).
pg.types.setTypeParser(20, (value) => Number(value));
// double precision: already parsed as number by pg.

/** Statements prepared per connection at most: IN-lists of every length must not fill the server's memory. */
const PREPARED_PER_CONNECTION = 200;

/** A pg client that sends parameterised statements as named (prepared) ones, up to a bound. */
class PreparingClient extends pg.Client {
  private readonly prepared = new Set<string>();

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- pg's query() has a dozen overloads; this passes them through
  override query(...args: any[]): any {
    const [text, values] = args as [unknown, unknown];
    if (typeof text === "string" && Array.isArray(values) && values.length > 0 && args.length === 2) {
      const name = `t${createHash("sha1").update(text).digest("base64url").slice(0, 20)}`;
      if (this.prepared.has(name) || this.prepared.size < PREPARED_PER_CONNECTION) {
        this.prepared.add(name);
        return super.query({ name, text, values });
      }
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return (super.query as (...a: any[]) => any)(...args);
  }
}

export const DEFAULT_POOL_SIZE = 10;

export function openPostgresPool(url: string, size: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: size, Client: PreparingClient });
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on("error", () => undefined);
  return pool;
}
