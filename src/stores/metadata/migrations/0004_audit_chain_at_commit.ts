/**
 * Postgres chains audit events at COMMIT, not mid-transaction (issue 22). Before, a transaction took
 * the audit lock when it recorded its event and held it for three more round trips (read the newest
 * hash, insert, commit): every audited write of every server queued behind one lock for the whole
 * network path. Now the event is inserted unchained (`hash = ''`, the body to hash in `chain_body`),
 * and a deferred trigger chains it while Postgres commits: the lock is held only inside the server,
 * for one index read and one update, and no client round trip happens under it.
 *
 * The trigger also gives the event its final `seq` under the lock, so seq order is commit order and
 * `audit verify` walks the chain exactly as before (the placeholder seq from the insert is dropped).
 * The hash is the same sha256(prev_hash + "\n" + body) the application computes (audit.ts), so the
 * chain verifies the same whichever side sealed it. SQLite keeps sealing in the transaction: its
 * BEGIN IMMEDIATE already makes one writer at a time.
 */
import { sql } from "kysely";
import type { TandemMigration } from "../migration-kit.js";

export const migration: TandemMigration = {
  async up(db, dialect) {
    await db.schema.alterTable("audit_events").addColumn("chain_body", "text").execute();
    if (dialect !== "postgres") return;
    // 73000001 is the audit lock key appenders used before (audit-store.ts): old and new servers
    // during a rolling upgrade still take turns.
    await sql`
      create function tandem_audit_chain() returns trigger language plpgsql as $$
      declare
        prev text;
      begin
        perform pg_advisory_xact_lock(73000001);
        -- A statement of its own after the lock: it sees every event committed before the lock was granted.
        select hash into prev from audit_events where hash <> '' order by seq desc limit 1;
        prev := coalesce(prev, repeat('0', 64));
        update audit_events
           set seq = nextval(pg_get_serial_sequence('audit_events', 'seq')),
               prev_hash = prev,
               hash = encode(sha256(convert_to(prev || E'\\n' || new.chain_body, 'UTF8')), 'hex'),
               chain_body = null
         where seq = new.seq;
        return null;
      end
      $$`.execute(db);
    await sql`
      create constraint trigger audit_events_chain_at_commit
        after insert on audit_events
        deferrable initially deferred
        for each row when (new.hash = '')
        execute function tandem_audit_chain()`.execute(db);
  },
};
