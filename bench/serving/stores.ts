/**
 * The metadata store a measured Tandem server logs into: the home's SQLite file, or a new database
 * on a PostgreSQL server (dropped after). And the count of its prediction log, read once the server
 * has stopped (it flushes on stop), to show that every answered row was logged.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";

export type Store = "sqlite" | "postgres";

/**
 * The logged predictions: a batch per request since migration 0503 (its rows counted), one row per
 * prediction before it (so a build from before the packing can be measured beside one after).
 */
const PACKED_COUNT = "select coalesce(sum(rows), 0) as n from prediction_batches";
const ROW_COUNT = "select count(*) as n from predictions";

export interface BenchDatabase {
  /** What the server's environment gets (nothing for the home's own SQLite file). */
  env: Record<string, string>;
  loggedRows(): Promise<number>;
  drop(): Promise<void>;
}

export async function databaseFor(store: Store, home: string, pgUrl: string): Promise<BenchDatabase> {
  if (store === "sqlite") {
    return {
      env: {},
      loggedRows: () => {
        const db = new BetterSqlite3(join(home, "tandem.db"), { readonly: true });
        try {
          const packed = db.prepare("select 1 from sqlite_master where name = 'prediction_batches'").get();
          return Promise.resolve((db.prepare(packed ? PACKED_COUNT : ROW_COUNT).get() as { n: number }).n);
        } finally {
          db.close();
        }
      },
      drop: () => Promise.resolve(),
    };
  }
  const name = `tandem_bench_serving_${randomBytes(5).toString("hex")}`;
  await withClient(pgUrl, (c) => c.query(`create database "${name}"`));
  const url = new URL(pgUrl);
  url.pathname = `/${name}`;
  return {
    env: { TANDEM_DATABASE_URL: url.toString() },
    loggedRows: () =>
      withClient(url.toString(), async (c) =>
        Number(
          (
            await c.query<{ n: string }>(
              (await c.query("select to_regclass('prediction_batches') as t")).rows[0].t ? PACKED_COUNT : ROW_COUNT,
            )
          ).rows[0]!.n,
        ),
      ),
    drop: async () => {
      await withClient(pgUrl, (c) => c.query(`drop database if exists "${name}" with (force)`));
    },
  };
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
