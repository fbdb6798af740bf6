/**
 * Background loops shared by several `tandem server` processes on one Postgres: a loop's tick runs
 * under a session-level advisory lock on a connection of its own, so one server at a time runs it
 * and a server that dies (kill -9, lost node) releases it with its connection.
 */
import { createHash } from "node:crypto";
import pg from "pg";
import type { LoopLock } from "../../server/background.js";

/** The first key of Tandem's loop locks; the second is the loop's name hashed (the audit lock uses one bigint, another key space). */
const LOOP_LOCK_CLASS = 0x7a4e_0001;

/** The loop's name as a signed 32-bit key: a collision only means two loops take turns. */
function loopKey(loop: string): number {
  return createHash("sha256").update(loop).digest().readInt32BE(0);
}

export class PostgresLoopLock implements LoopLock {
  private client: pg.Client | null = null;
  private connecting: Promise<pg.Client> | null = null;
  private closed = false;
  /** The connection's queries, one at a time: pg queues overlapping ones but deprecates doing so. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly url: string) {}

  /** One connection holds every lock of this process; a broken one (Postgres restarted) is replaced. */
  private connection(): Promise<pg.Client> {
    if (this.closed) return Promise.reject(new Error("the loop lock is closed: the server is stopping"));
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.url, application_name: "tandem loop locks" });
      const forget = () => {
        if (this.client === client) this.client = null;
      };
      client.on("error", forget);
      client.on("end", forget);
      try {
        await client.connect();
      } catch (error) {
        this.connecting = null;
        throw error;
      }
      this.connecting = null;
      // Closed while connecting (a stop right after start): this connection would keep the process alive.
      if (this.closed) {
        await client.end().catch(() => undefined);
        throw new Error("the loop lock is closed: the server is stopping");
      }
      this.client = client;
      return client;
    })();
    return this.connecting;
  }

  async whileHeld<T>(loop: string, tick: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    const client = await this.connection();
    const key = loopKey(loop);
    const got = await this.query<{ got: boolean }>(client, "select pg_try_advisory_lock($1, $2) as got", [
      LOOP_LOCK_CLASS,
      key,
    ]);
    if (!got.rows[0]?.got) return { ran: false };
    try {
      return { ran: true, value: await tick() };
    } finally {
      // A connection lost during the tick released the lock already.
      if (this.client === client) await this.query(client, "select pg_advisory_unlock($1, $2)", [LOOP_LOCK_CLASS, key]);
    }
  }

  private query<R extends pg.QueryResultRow>(client: pg.Client, text: string, values: unknown[]) {
    const result = this.queue.then(() => client.query<R>(text, values));
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}
