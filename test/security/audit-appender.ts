/**
 * A separate process that appends audit events as fast as it can, for the concurrent-head test:
 *   node --import tsx test/security/audit-appender.ts <sqlite:FILE|postgres://…> <head file> <count> <actor>
 */
import { AuditLog } from "../../src/core/governance/audit.js";
import { audited } from "../../src/core/governance/audited.js";
import { FileAuditHeadKeeper } from "../../src/stores/files/audit-head-file.js";
import { SqlAuditStore } from "../../src/stores/metadata/audit-store.js";
import { SqlMetadataStore } from "../../src/stores/metadata/sql-metadata-store.js";

const [database, headFile, count, actor] = process.argv.slice(2) as [string, string, string, string];
const store = await SqlMetadataStore.create({
  database: database.startsWith("sqlite:")
    ? { kind: "sqlite", file: database.slice("sqlite:".length) }
    : { kind: "postgres", url: database },
  migrate: false,
});
const log = new AuditLog(new SqlAuditStore(store), new FileAuditHeadKeeper(headFile));
for (let i = 0; i < Number(count); i++) {
  await audited(store, log, async (_tx, record) => {
    await record({ actor, project: "p", action: "thing.change", target: `thing:${actor}:${i}`, summary: { i } });
  });
}
await store.close();
