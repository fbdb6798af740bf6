import type { MetadataStore, Tx } from "../ports.js";
import type { AuditLog } from "./audit.js";
import type { AuditEvent, AuditEventInput } from "./model.js";

export type RecordAudit = (event: AuditEventInput) => Promise<void>;

/**
 * Runs a state change and its audit events in one transaction, then advances the external audit
 * head. Every service that changes state goes through here, so no change lands unaudited.
 * `moveHead` replaces the head's move after commit (default: `audit.afterCommit`, awaited); the
 * pipelines' tracking link passes one that coalesces moves (wiring/pipelines-tracking.ts).
 */
export async function audited<T>(
  metadata: MetadataStore,
  audit: AuditLog,
  fn: (tx: Tx, record: RecordAudit) => Promise<T>,
  moveHead: (newest: AuditEvent) => Promise<void> | void = (newest) => audit.afterCommit(newest),
): Promise<T> {
  let newest: AuditEvent | undefined;
  const result = await metadata.transaction(async (tx) => {
    const record: RecordAudit = async (event) => {
      newest = await audit.record(tx, event);
    };
    return fn(tx, record);
  });
  if (newest) await moveHead(newest);
  return result;
}
