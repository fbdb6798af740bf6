/**
 * `tandem prompts create|ls|show|diff|compare|alias|history|approve` and `tandem traces ls|show`.
 * Prompt files are YAML (`messages`, `params`, `description`), checked here first so a mistake is
 * reported with its file, line and field before anything is sent.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import type { PromptContent } from "../core/llm/prompt-content.js";
import { LLM_READ_API } from "./api-scopes.js";
import { openApi, projectPath, resolveProject, UsageError } from "./context.js";
import { formatTime, info, printJson, printTable } from "./output.js";
import { registerPromptCompare } from "./prompts-compare.js";

interface VersionWire {
  name: string;
  version: number;
  messages: Array<{ role: string; content: string }>;
  params: Record<string, unknown>;
  variables: string[];
  sha256: string;
  author: string;
  created_at: number;
  aliases: string[];
  evaluations?: Array<{ dataset: string; run_id: string | null; metrics: Record<string, number>; created_at: number }>;
}

const opts = (cmd: Command) =>
  cmd.option("--project <project>", "project (default: the current project)").option("--json", "machine output");

function printVersion(v: VersionWire): void {
  process.stdout.write(
    `${v.name}@${v.version}${v.aliases.length ? ` (${v.aliases.join(", ")})` : ""}  by ${v.author}  ${formatTime(v.created_at)}\n`,
  );
  process.stdout.write(`params: ${JSON.stringify(v.params)}  variables: ${v.variables.join(", ") || "none"}\n\n`);
  for (const m of v.messages) process.stdout.write(`[${m.role}]\n${m.content}\n\n`);
  for (const e of v.evaluations ?? [])
    process.stdout.write(
      `evaluated on ${e.dataset} (run ${e.run_id ?? "-"}): ${Object.entries(e.metrics)
        .map(([k, x]) => `${k}=${x.toPrecision(4)}`)
        .join(" ")}\n`,
    );
}

export function registerPromptCommands(program: Command): void {
  const prompts = program.command("prompts").description("Versioned chat templates with aliases, under policies.");
  registerPromptCompare(prompts);

  opts(prompts.command("create <name>"))
    .description(
      "Add a version from a YAML file (messages with {{ variable }} placeholders, params); same content → same version.",
    )
    .requiredOption("--file <path>", "the prompt file")
    .option("--alias <alias>", "then point this alias at it (under the policies)")
    .action(async (name: string, o: { file: string; alias?: string; project?: string; json?: boolean }) => {
      const source = await readFile(o.file, "utf8").catch(() => {
        throw new UsageError(`--file: cannot read ${o.file}`);
      });
      let content: PromptContent;
      try {
        // The checker (zod, the YAML locator) loads only for `prompts create`, not for every command.
        const { parsePromptFile } = await import("./prompt-file.js");
        content = parsePromptFile(source, o.file);
      } catch (error) {
        // A spec error in the file is a usage error (exit 2), with its file:line:column.
        throw new UsageError((error as Error).message);
      }
      const api = await openApi();
      const project = resolveProject(o.project);
      const r = await api.post<{ created: boolean; version: VersionWire }>(
        projectPath(project, `/prompts/${encodeURIComponent(name)}/versions`),
        content,
      );
      if (o.alias)
        await api.put(
          projectPath(project, `/prompts/${encodeURIComponent(name)}/aliases/${encodeURIComponent(o.alias)}`),
          {
            version: r.version.version,
          },
        );
      if (o.json) return printJson(r);
      info(
        `${r.created ? "created" : "unchanged, already"} ${name}@${r.version.version} (variables: ${r.version.variables.join(", ") || "none"})${o.alias ? `; ${o.alias} → ${r.version.version}` : ""}`,
      );
    });

  opts(prompts.command("ls"))
    .description("List prompts with their latest version and aliases.")
    .action(async (o: { project?: string; json?: boolean }) => {
      const api = await openApi(LLM_READ_API);
      const r = await api.get<{
        prompts: Array<{
          name: string;
          latest_version: number | null;
          aliases: Array<{ alias: string; version: number }>;
          updated_at: number;
        }>;
      }>(projectPath(resolveProject(o.project), "/prompts"));
      if (o.json) return printJson(r);
      printTable(
        r.prompts.map((p) => ({
          name: p.name,
          latest: p.latest_version ?? "-",
          aliases: p.aliases.map((a) => `${a.alias}→${a.version}`).join(" ") || "-",
          updated: formatTime(p.updated_at),
        })),
        ["name", "latest", "aliases", "updated"],
      );
    });

  opts(prompts.command("show <ref>"))
    .description("Show a version: NAME (latest), NAME@N or NAME@ALIAS, with the evaluations that judged it.")
    .action(async (ref: string, o: { project?: string; json?: boolean }) => {
      const [name, v = "latest"] = ref.split("@");
      const api = await openApi(LLM_READ_API);
      const r = await api.get<VersionWire>(
        projectPath(
          resolveProject(o.project),
          `/prompts/${encodeURIComponent(name!)}/versions/${encodeURIComponent(v)}`,
        ),
      );
      if (o.json) return printJson(r);
      printVersion(r);
    });

  opts(prompts.command("diff <a> <b>"))
    .description(
      "Compare two versions of one prompt (NAME@A NAME@B, or NAME@A B): messages line by line, params, variables.",
    )
    .action(async (a: string, b: string, o: { project?: string; json?: boolean }) => {
      const [name, va] = a.split("@");
      const vb = b.includes("@") ? b.split("@")[1]! : b;
      if (!name || !va) throw new UsageError(`expected NAME@VERSION, got ${JSON.stringify(a)}`);
      const api = await openApi(LLM_READ_API);
      const d = await api.get<{
        a: string;
        b: string;
        changed: boolean;
        messages: Array<{
          index: number;
          role: { a: string | null; b: string | null };
          lines: Array<{ op: string; text: string }>;
        }>;
        params: Array<{ key: string; a: unknown; b: unknown }>;
        variables: { added: string[]; removed: string[] };
      }>(projectPath(resolveProject(o.project), `/prompts/${encodeURIComponent(name)}/diff`), { a: va, b: vb });
      if (o.json) return printJson(d);
      process.stdout.write(`--- ${d.a}\n+++ ${d.b}\n`);
      for (const m of d.messages) {
        const role = m.role.a === m.role.b ? m.role.a : `${m.role.a ?? "-"} → ${m.role.b ?? "-"}`;
        process.stdout.write(`@@ message ${m.index} [${role}]\n`);
        for (const l of m.lines)
          process.stdout.write(`${l.op === "add" ? "+" : l.op === "del" ? "-" : " "} ${l.text}\n`);
      }
      for (const p of d.params)
        process.stdout.write(`param ${p.key}: ${JSON.stringify(p.a)} → ${JSON.stringify(p.b)}\n`);
      if (d.variables.added.length) process.stdout.write(`variables added: ${d.variables.added.join(", ")}\n`);
      if (d.variables.removed.length) process.stdout.write(`variables removed: ${d.variables.removed.join(", ")}\n`);
      if (!d.changed) info("no difference");
    });

  const alias = prompts
    .command("alias")
    .description("Move prompt aliases (under the policies that govern the prompt).");
  opts(alias.command("set <ref> <alias>"))
    .description("Point ALIAS at NAME@VERSION; refused (exit 1) with the failing checks when a policy says no.")
    .option("--policy <name>", "also check this policy")
    .action(async (ref: string, aliasName: string, o: { policy?: string; project?: string; json?: boolean }) => {
      const [name, v] = ref.split("@");
      if (!name || !v) throw new UsageError(`expected NAME@VERSION, got ${JSON.stringify(ref)}`);
      const api = await openApi();
      const r = await api.put<{ alias: { alias: string; version: number } }>(
        projectPath(
          resolveProject(o.project),
          `/prompts/${encodeURIComponent(name)}/aliases/${encodeURIComponent(aliasName)}`,
        ),
        { version: /^\d+$/.test(v) ? Number(v) : v, policy: o.policy },
      );
      if (o.json) return printJson(r);
      info(`${name}@${aliasName} → ${r.alias.version}`);
    });

  opts(prompts.command("history <name>"))
    .description("Every alias set, move, rollback and delete of a prompt.")
    .option("--alias <alias>", "only this alias")
    .action(async (name: string, o: { alias?: string; project?: string; json?: boolean }) => {
      const api = await openApi(LLM_READ_API);
      const r = await api.get<{
        events: Array<{
          at: number;
          alias: string;
          action: string;
          from_version: number | null;
          to_version: number | null;
          actor: string;
          reason: string;
        }>;
      }>(projectPath(resolveProject(o.project), `/prompts/${encodeURIComponent(name)}/history`), { alias: o.alias });
      if (o.json) return printJson(r);
      printTable(
        r.events.map((e) => ({
          at: formatTime(e.at),
          alias: e.alias,
          action: e.action,
          change: `${e.from_version ?? "-"} → ${e.to_version ?? "-"}`,
          actor: e.actor,
          reason: e.reason || "-",
        })),
        ["at", "alias", "action", "change", "actor", "reason"],
      );
    });

  opts(prompts.command("approve <ref>"))
    .description("Approve (or --reject) a version, for policies that require approvals.")
    .option("--reject", "reject instead")
    .option("--comment <text>", "why")
    .action(async (ref: string, o: { reject?: boolean; comment?: string; project?: string; json?: boolean }) => {
      const [name, v] = ref.split("@");
      if (!name || !v) throw new UsageError(`expected NAME@VERSION, got ${JSON.stringify(ref)}`);
      const api = await openApi();
      const r = await api.post(
        projectPath(
          resolveProject(o.project),
          `/prompts/${encodeURIComponent(name)}/versions/${encodeURIComponent(v)}/approvals`,
        ),
        { decision: o.reject ? "reject" : "approve", comment: o.comment ?? "" },
      );
      if (o.json) return printJson(r);
      info(`${o.reject ? "rejected" : "approved"} ${ref}`);
    });

  const traces = program
    .command("traces")
    .description("OpenTelemetry traces of LLM and agent calls (OTLP at /v1/traces).");
  opts(traces.command("ls"))
    .description("Traces, newest first.")
    .option("--model <model>", "only traces with a span of this model")
    .option("--status <status>", "ok or error")
    .option("--since <ms>", "started at or after (ms since the epoch)")
    .option("--limit <n>", "at most this many (default 50)")
    .action(
      async (o: {
        model?: string;
        status?: string;
        since?: string;
        limit?: string;
        project?: string;
        json?: boolean;
      }) => {
        const api = await openApi(LLM_READ_API);
        const r = await api.get<{
          traces: Array<Record<string, unknown> & { trace_id: string; start_time: number; duration_ms: number }>;
        }>(projectPath(resolveProject(o.project), "/traces"), {
          model: o.model,
          status: o.status,
          since: o.since,
          limit: o.limit,
        });
        if (o.json) return printJson(r);
        printTable(
          r.traces.map((x) => ({
            trace_id: x.trace_id,
            root: x.root_span_name,
            started: formatTime(x.start_time),
            ms: x.duration_ms.toFixed(1),
            status: x.status,
            model: x.model ?? "-",
            tokens: `${String(x.input_tokens)}/${String(x.output_tokens)}`,
            cost: x.cost === null ? "-" : String(x.cost),
          })),
          ["trace_id", "root", "started", "ms", "status", "model", "tokens", "cost"],
        );
      },
    );
  opts(traces.command("show <trace_id>"))
    .description("A trace's spans as a tree, with durations, models, tokens and errors.")
    .action(async (traceId: string, o: { project?: string; json?: boolean }) => {
      const api = await openApi(LLM_READ_API);
      const r = await api.get<{
        spans: Array<{
          span_id: string;
          parent_span_id: string | null;
          name: string;
          start_time: number;
          duration_ms: number;
          status: string;
          status_message: string | null;
          model: string | null;
          input_tokens: number | null;
          output_tokens: number | null;
          prediction_id: string | null;
        }>;
      }>(projectPath(resolveProject(o.project), `/traces/${encodeURIComponent(traceId)}`));
      if (o.json) return printJson(r);
      const start = Math.min(...r.spans.map((s) => s.start_time));
      const ids = new Set(r.spans.map((s) => s.span_id));
      const depth = (s: (typeof r.spans)[number]): number => {
        const parent = r.spans.find((p) => p.span_id === s.parent_span_id);
        return parent && ids.has(parent.span_id) ? depth(parent) + 1 : 0;
      };
      for (const s of r.spans) {
        const extra = [
          s.model,
          s.input_tokens !== null ? `${s.input_tokens}→${s.output_tokens ?? 0} tokens` : null,
          s.status === "error" ? `ERROR ${s.status_message ?? ""}` : null,
          s.prediction_id ? `prediction ${s.prediction_id}` : null,
        ].filter(Boolean);
        process.stdout.write(
          `${"  ".repeat(depth(s))}${s.name}  +${(s.start_time - start).toFixed(1)} ms  ${s.duration_ms.toFixed(1)} ms${extra.length ? `  (${extra.join(", ")})` : ""}\n`,
        );
      }
    });
}
