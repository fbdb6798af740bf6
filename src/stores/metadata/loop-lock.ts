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

  constructor(private readonly url: string) {}

  /** One connection holds every lock of this process; a broken one (Postgres restarted) is replaced. */
  private connection(): Promise<pg.Client> {
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
      this.client = client;
      this.connecting = null;
      return client;
    })();
    return this.connecting;
  }

  async whileHeld<T>(loop: string, tick: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    const client = await this.connection();
    const key = loopKey(loop);
    const got = await client.query<{ got: boolean }>("select pg_try_advisory_lock($1, $2) as got", [
      LOOP_LOCK_CLASS,
      key,
    ]);
    if (!got.rows[0]?.got) return { ran: false };
    try {
      return { ran: true, value: await tick() };
    } finally {
      // A connection lost during the tick released the lock already.
      if (this.client === client) await client.query("select pg_advisory_unlock($1, $2)", [LOOP_LOCK_CLASS, key]);
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}
