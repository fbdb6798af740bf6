/**
 * The audit log: append-only and hash-chained. Each event's hash is sha256 over the previous hash and
 * the event's own fields in a fixed order, so editing, deleting or reordering any row breaks the chain
 * from there on; the head kept outside the database catches removal of the newest rows.
 */
import { createHash } from "node:crypto";
import { newId, nowMs } from "../ids.js";
import type { Tx } from "../ports.js";
import type { AuditEvent, AuditEventInput } from "./model.js";
import type { AuditHead, AuditHeadKeeper, AuditStore } from "./ports.js";

export const GENESIS_HASH = "0".repeat(64);

/** The part of an event's hash that does not depend on its predecessor (a store may chain it later). */
export function hashBody(e: Omit<AuditEvent, "seq" | "hash" | "prevHash">): string {
  return JSON.stringify([e.id, e.at, e.actor, e.project, e.action, e.target, e.summary]);
}

export function hashEvent(prevHash: string, e: Omit<AuditEvent, "seq" | "hash" | "prevHash">): string {
  return createHash("sha256").update(prevHash).update("\n").update(hashBody(e)).digest("hex");
}

export type AuditVerdict =
  | { ok: true; events: number; headSeq: number | null }
  | { ok: false; events: number; brokenAt: number | null; reason: string };

/** What an event says before it is chained: a new id, the time, and the caller's fields. */
function eventBase(input: AuditEventInput) {
  return {
    id: newId(),
    at: nowMs(),
    actor: input.actor,
    project: input.project,
    action: input.action,
    target: input.target,
    summary: input.summary ?? {},
  };
}

export class AuditLog {
  constructor(
    private readonly store: AuditStore,
    private readonly head: AuditHeadKeeper,
  ) {}

  /** Records an event inside the caller's transaction; call `afterCommit` once it has committed. */
  async record(tx: Tx, input: AuditEventInput): Promise<AuditEvent> {
    return this.store.append(tx, (prevHash) => {
      const base = eventBase(input);
      return { ...base, prevHash, hash: hashEvent(prevHash, base) };
    });
  }

  /**
   * The event for a store that chains at commit (Postgres, migration 0004) and writes it itself in a
   * statement of its own making: unchained (`prevHash` and `hash` empty) until that commit.
   */
  draft(input: AuditEventInput): Omit<AuditEvent, "seq"> {
    return { ...eventBase(input), prevHash: "", hash: "" };
  }

  /**
   * Moves the external head forward to `event`; called after the transaction that wrote it
   * committed. Compare-and-set in a loop: when another writer moved the head meanwhile, look again;
   * a head already at or past this event stays, so the head never moves backwards.
   */
  async afterCommit(recorded: AuditEvent): Promise<void> {
    // A store that chains at commit returned the event unsealed; its final seq and hash exist now.
    const event = recorded.hash === "" ? await this.store.sealed(recorded.id) : recorded;
    if (!event) return;
    for (;;) {
      const current = await this.head.read();
      if (current && current.head.seq >= event.seq) return;
      if (await this.head.compareAndSet(current?.version ?? null, { seq: event.seq, hash: event.hash })) return;
    }
  }

  list(options: { project?: string; afterSeq?: number; limit: number; descending?: boolean }): Promise<AuditEvent[]> {
    return this.store.list(options);
  }

  /**
   * Walks the whole chain in pages; the first event that does not follow from its predecessor fails
   * it. The chain's newest events must reach the head kept outside the database, and a chain with
   * events but no head fails too (deleting the newest events and the head file together is the
   * attack), unless `withoutHead` says the head is missing on purpose (it moved, it is new).
   */
  async verify(options: { pageSize?: number; withoutHead?: boolean } = {}): Promise<AuditVerdict> {
    const pageSize = options.pageSize ?? 5000;
    let prevHash = GENESIS_HASH;
    let prevSeq = 0;
    let count = 0;
    let externalHead: AuditHead | null;
    try {
      externalHead = options.withoutHead ? null : ((await this.head.read())?.head ?? null);
    } catch (error) {
      return {
        ok: false,
        events: 0,
        brokenAt: null,
        reason: `the audit head is unreadable: ${(error as Error).message}`,
      };
    }
    let headFound = externalHead === null;
    for (;;) {
      const page = await this.store.list({ afterSeq: prevSeq, limit: pageSize });
      for (const e of page) {
        count++;
        if (e.prevHash !== prevHash) {
          return {
            ok: false,
            events: count,
            brokenAt: e.seq,
            reason: `event ${e.seq} does not follow event ${prevSeq}: a row before it was deleted, edited or reordered`,
          };
        }
        if (hashEvent(prevHash, e) !== e.hash) {
          return {
            ok: false,
            events: count,
            brokenAt: e.seq,
            reason: `event ${e.seq} was edited: its hash does not match its contents`,
          };
        }
        if (externalHead && e.seq === externalHead.seq) {
          if (e.hash !== externalHead.hash) {
            return {
              ok: false,
              events: count,
              brokenAt: e.seq,
              reason: `event ${e.seq} differs from the head kept outside the database`,
            };
          }
          headFound = true;
        }
        prevHash = e.hash;
        prevSeq = e.seq;
      }
      if (page.length < pageSize) break;
    }
    if (externalHead === null && count > 0 && !options.withoutHead) {
      return {
        ok: false,
        events: count,
        brokenAt: null,
        reason:
          `the chain has ${count} events but the head kept outside the database (${this.head.location}) is missing: ` +
          `the newest events may have been deleted together with it (verify the chain alone with --without-head)`,
      };
    }
    if (!headFound) {
      return {
        ok: false,
        events: count,
        brokenAt: externalHead?.seq ?? null,
        reason: `the newest events were removed: the external head names event ${externalHead?.seq}, but the chain ends at ${prevSeq}`,
      };
    }
    return { ok: true, events: count, headSeq: count ? prevSeq : null };
  }
}
