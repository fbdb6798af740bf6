import type { Command } from "commander";
import { GOVERNANCE_READ_API } from "./api-scopes.js";
import { openApi, projectPath, VerdictError } from "./context.js";
import { formatTime, printJson, printTable } from "./output.js";

interface EventWire {
  seq: number;
  at: number;
  actor: string;
  project: string | null;
  action: string;
  target: string;
  summary: Record<string, unknown>;
  hash: string;
}

export function registerAuditCommands(program: Command): void {
  const audit = program.command("audit").description("The append-only, hash-chained audit log.");
  audit
    .command("ls")
    .description("List audit events, newest first (all projects for site administrators, or --project's).")
    .option("--project <project>", "only this project's events")
    .option("--limit <n>", "how many (default 50)", "50")
    .option("--json", "machine output")
    .action(async (opts: { project?: string; limit: string; json?: boolean }) => {
      const api = await openApi(GOVERNANCE_READ_API);
      const path = opts.project ? projectPath(opts.project, "/audit") : "/api/v1/audit";
      const { events } = await api.get<{ events: EventWire[] }>(path, { limit: opts.limit });
      if (opts.json) printJson(events);
      else
        printTable(
          events.map((e) => ({ ...e, at: formatTime(e.at), hash: e.hash.slice(0, 12) })),
          ["seq", "at", "actor", "project", "action", "target", "hash"],
        );
    });
  audit
    .command("verify")
    .description("Prove the chain unbroken and its head equal to the one kept outside the database (exit 1 if not).")
    .option("--without-head", "verify the chain alone: the head file is missing on purpose (moved, new)")
    .option("--json", "machine output")
    .action(async (opts: { json?: boolean; withoutHead?: boolean }) => {
      const api = await openApi(GOVERNANCE_READ_API);
      const verdict = await api.get<{ ok: boolean; events: number; broken_at: number | null; reason: string | null }>(
        "/api/v1/audit/verify",
        opts.withoutHead ? { without_head: "true" } : undefined,
      );
      if (opts.json) printJson(verdict);
      if (!verdict.ok)
        throw new VerdictError(
          verdict.broken_at === null
            ? `audit check failed: ${verdict.reason}`
            : `audit chain broken at event ${verdict.broken_at}: ${verdict.reason}`,
        );
      if (!opts.json)
        process.stdout.write(`audit chain intact: ${verdict.events} event${verdict.events === 1 ? "" : "s"}\n`);
    });
}
