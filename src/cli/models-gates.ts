/** `tandem models alias|approve|reject|evaluate|decisions`: the policy gate from the command line. */
import type { Command } from "commander";
import { formatDecision, type DecisionRow } from "../core/registry/checks-table.js";
import { GATES_READ_API } from "./api-scopes.js";
import { openApi, UsageError } from "./context.js";
import { formatTime, printJson, printTable } from "./output.js";
import {
  collect,
  gated,
  modelPath,
  parseMetrics,
  reportOutcome,
  versionPath,
  type Json,
  type OutcomeWire,
} from "./models-kit.js";

export function registerModelGateCommands(models: Command, proj: (opts: { project?: string }) => string): void {
  const alias = models.command("alias").description("Aliases: set (under the policies), rm, rollback, history, ls.");
  alias
    .command("set <ref> <alias>")
    .description(
      "Point ALIAS at NAME@V if the policies allow; prints the decision record; exit 1 when refused, 7 when held for approval.",
    )
    .option("--policy <policy>", "evaluate only this policy")
    .option("--json", "machine output")
    .action(async (ref: string, name: string, opts: { policy?: string; json?: boolean }) => {
      const at = ref.lastIndexOf("@");
      if (at <= 0) throw new UsageError(`expected NAME@VERSION, got ${JSON.stringify(ref)}`);
      const api = await openApi();
      const o = await gated(opts.json, () =>
        api.put<OutcomeWire>(modelPath(proj({}), ref.slice(0, at), `/aliases/${encodeURIComponent(name)}`), {
          version: ref.slice(at + 1),
          policy: opts.policy,
        }),
      );
      reportOutcome(o, opts.json);
    });
  alias
    .command("rm <model> <alias>")
    .description("Delete an alias (its history is kept).")
    .action(async (model: string, name: string) => {
      await (await openApi()).delete(modelPath(proj({}), model, `/aliases/${encodeURIComponent(name)}`));
      process.stdout.write(`deleted ${model}@${name}\n`);
    });
  alias
    .command("rollback <model> <alias>")
    .description("Move ALIAS back to the version it pointed at before (or --to N, an earlier holder).")
    .option("--to <version>", "an earlier version of this alias")
    .option("--reason <text>", "why (kept in the audit log)")
    .option("--json", "machine output")
    .action(async (model: string, name: string, opts: { to?: string; reason?: string; json?: boolean }) => {
      const to = opts.to === undefined ? undefined : Number(opts.to);
      if (to !== undefined && !(Number.isInteger(to) && to > 0))
        throw new UsageError(`--to: expected a version number, got ${JSON.stringify(opts.to)}`);
      const a = await (
        await openApi()
      ).post<{ alias: string; version: number }>(
        modelPath(proj({}), model, `/aliases/${encodeURIComponent(name)}/rollback`),
        { version: to, reason: opts.reason },
      );
      if (opts.json) printJson(a);
      else process.stdout.write(`${model}@${a.alias} → ${model}@${a.version} (rolled back)\n`);
    });
  alias
    .command("history <model> <alias>")
    .description("Every set, move, delete and rollback of an alias.")
    .option("--json", "machine output")
    .action(async (model: string, name: string, opts: { json?: boolean }) => {
      const res = await (
        await openApi(GATES_READ_API)
      ).get<{ events: Json[] }>(modelPath(proj({}), model, `/aliases/${encodeURIComponent(name)}/history`));
      if (opts.json) return printJson(res.events);
      printTable(
        res.events.map((e) => ({ ...e, at: formatTime(e.at as number) })),
        ["seq", "at", "action", "from_version", "to_version", "actor"],
      );
    });
  alias
    .command("ls <model>")
    .option("--json", "machine output")
    .action(async (model: string, opts: { json?: boolean }) => {
      const res = await (
        await openApi(GATES_READ_API)
      ).get<{ aliases: Json[] }>(modelPath(proj({}), model, "/aliases"));
      if (opts.json) return printJson(res.aliases);
      printTable(
        res.aliases.map((a) => ({ ...a, updated_at: formatTime(a.updated_at as number) })),
        ["alias", "version", "updated_by", "updated_at"],
      );
    });

  for (const decision of ["approve", "reject"] as const) {
    models
      .command(`${decision} <ref>`)
      .description(
        decision === "approve"
          ? "Approve NAME@V (approvers; not its author). Pending alias requests move when they now pass."
          : "Reject NAME@V: its pending requests close.",
      )
      .option("--comment <text>", "why")
      .option("--json", "machine output")
      .action(async (ref: string, opts: { comment?: string; json?: boolean }) => {
        const res = await (
          await openApi()
        ).post<{ approval: Json; outcomes: OutcomeWire[] }>(versionPath(proj({}), ref, `/${decision}`), {
          comment: opts.comment,
        });
        if (opts.json) return printJson(res);
        process.stdout.write(`${decision === "approve" ? "approved" : "rejected"} ${ref}\n`);
        for (const o of res.outcomes) {
          const t = o.request?.target;
          process.stdout.write(
            `  ${t?.kind} ${t?.name}: ${o.status}${o.status === "applied" && o.alias ? ` (${o.alias.alias} → ${o.version.ref})` : ""}\n`,
          );
        }
      });
  }

  models
    .command("evaluate <ref>")
    .description("Record an evaluation of NAME@V on a dataset version (what policies and `beats` compare).")
    .requiredOption("--dataset <ref>", "the evaluation data, e.g. flights@3")
    .option("--metric <name=value>", "a metric (repeatable)", collect)
    .option("--run <run_id>", "the run that computed it")
    .option("--json", "machine output")
    .action(async (ref: string, opts: { dataset: string; metric?: string[]; run?: string; json?: boolean }) => {
      const metrics = parseMetrics(opts.metric);
      if (Object.keys(metrics).length === 0) throw new UsageError("give at least one --metric NAME=VALUE");
      const e = await (
        await openApi()
      ).post<Json>(versionPath(proj({}), ref, "/evaluations"), {
        dataset: opts.dataset,
        metrics,
        run_id: opts.run ?? null,
      });
      if (opts.json) printJson(e);
      else process.stdout.write(`recorded evaluation of ${ref} on ${opts.dataset}\n`);
    });

  models
    .command("decisions <ref>")
    .description("Decision records, requests and approvals of NAME@V.")
    .option("--json", "machine output")
    .action(async (ref: string, opts: { json?: boolean }) => {
      const res = await (
        await openApi(GATES_READ_API)
      ).get<{ decisions: Array<DecisionRow & { at: number }>; approvals: Json[] }>(
        versionPath(proj({}), ref, "/decisions"),
      );
      if (opts.json) return printJson(res);
      for (const d of res.decisions) process.stdout.write(`${formatDecision(d, formatTime(d.at))}\n\n`);
      if (res.approvals.length)
        printTable(
          res.approvals.map((a) => ({ ...a, at: formatTime(a.at as number) })),
          ["user", "decision", "comment", "at"],
        );
    });
}
