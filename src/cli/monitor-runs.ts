/**
 * `tandem monitors ls|show|run|results`: the scheduled monitors of a project (the one-shot `drift`
 * check lives in monitors.ts). Adds to the `monitors` group, creating it if needed.
 */
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { ApiError } from "./api.js";
import { openApi, projectPath, resolveProject, VerdictError } from "./context.js";
import { MONITORING_READ_API } from "./api-scopes.js";
import { formatTable, formatTime, printJson, printTable } from "./output.js";

interface CheckWire {
  check: string;
  passed: boolean;
  summary: string;
}
interface ResultWire {
  id: string;
  window_start: number;
  window_end: number;
  status: string;
  rows: number;
  labelled_rows: number;
  checks: CheckWire[];
  error: string | null;
  alert_id: string | null;
  sampled: { rows: number; of: number } | null;
}
interface MonitorWire {
  name: string;
  endpoint: string | null;
  dataset: string | null;
  schedule: string | null;
  reference: string | null;
  checks: Array<{ kind: string }>;
  next_run_at: number | null;
  last_result?: ResultWire | null;
}

function printResult(r: ResultWire): void {
  process.stdout.write(
    `${r.status.toUpperCase()}  window ${formatTime(r.window_start)} → ${formatTime(r.window_end)}, ${r.rows} rows (${r.labelled_rows} labelled)${r.sampled ? `, sampled: ${r.sampled.rows} of ${r.sampled.of}` : ""}${r.alert_id ? `, alert ${r.alert_id.slice(0, 12)}` : ""}\n`,
  );
  if (r.error) process.stdout.write(`error: ${r.error}\n`);
  if (r.checks.length)
    process.stdout.write(
      `${formatTable(
        r.checks.map((c) => ({ check: c.check, verdict: c.passed ? "pass" : "FAIL", summary: c.summary })),
        ["check", "verdict", "summary"],
      )}\n`,
    );
}

export function registerMonitorRunCommands(program: Command): void {
  const monitors =
    program.commands.find((c) => c.name() === "monitors") ?? program.command("monitors").description("Monitors.");
  monitors
    .command("ls")
    .description("List the project's monitors with their latest result.")
    .option("--project <project>", "project (default: the current project)")
    .option("--json", "machine output")
    .action(async (opts: { project?: string; json?: boolean }) => {
      const api = await openApi(MONITORING_READ_API);
      const { monitors: list } = await api.get<{ monitors: MonitorWire[] }>(
        projectPath(resolveProject(opts.project), "/monitors"),
      );
      if (opts.json) return printJson(list);
      printTable(
        list.map((m) => ({
          name: m.name,
          watches: watchesOf(m),
          schedule: m.schedule,
          checks: m.checks.map((c) => c.kind).join(","),
          last: m.last_result?.status ?? "never run",
          next_run: formatTime(m.next_run_at),
        })),
        ["name", "watches", "schedule", "checks", "last", "next_run"],
      );
    });
  monitors
    .command("show <name>")
    .description("A monitor's definition and its latest result.")
    .option("--project <project>", "project (default: the current project)")
    .option("--json", "machine output")
    .action(async (name: string, opts: { project?: string; json?: boolean }) => {
      const api = await openApi(MONITORING_READ_API);
      const m = await api.get<MonitorWire>(
        projectPath(resolveProject(opts.project), `/monitors/${encodeURIComponent(name)}`),
      );
      if (opts.json) return printJson(m);
      process.stdout.write(
        `${m.name}: ${watchesOf(m)}, reference ${m.reference ?? "-"}, schedule ${m.schedule ?? "on demand"}\n`,
      );
      if (m.last_result) printResult(m.last_result);
    });
  monitors
    .command("run <name>")
    .description("Run a monitor now (exit 1 when a check fails: drift found, performance or fairness below threshold).")
    .option("--project <project>", "project (default: the current project)")
    .option("--json", "machine output")
    .action(async (name: string, opts: { project?: string; json?: boolean }) => {
      const api = await openApi();
      const r = await api.post<ResultWire>(
        projectPath(resolveProject(opts.project), `/monitors/${encodeURIComponent(name)}/run`),
        {},
      );
      if (opts.json) printJson(r);
      else printResult(r);
      if (r.status === "failing")
        throw new VerdictError(
          `monitor ${name}: ${r.checks
            .filter((c) => !c.passed)
            .map((c) => c.check)
            .join(", ")} failed`,
        );
      if (r.status === "error") throw new VerdictError(`monitor ${name} could not run: ${r.error}`);
    });
  monitors
    .command("report <name>")
    .description("Write a self-contained HTML report of a monitor (opens offline in a browser).")
    .requiredOption("--html <file>", "where to write the page")
    .option("--window <n>", "how many recent windows to include (default 200)", "200")
    .option("--project <project>", "project (default: the current project)")
    .action(async (name: string, opts: { html: string; window: string; project?: string }) => {
      const api = await openApi(MONITORING_READ_API);
      const res = await api.raw(
        "GET",
        projectPath(resolveProject(opts.project), `/monitors/${encodeURIComponent(name)}/report.html`),
        { query: { limit: opts.window } },
      );
      if (res.status >= 400) {
        const body = JSON.parse(res.body.toString("utf8")) as { error?: { code?: string; message?: string } };
        throw new ApiError(res.status, body.error?.code ?? "ERROR", body.error?.message ?? `HTTP ${res.status}`);
      }
      writeFileSync(opts.html, res.body);
      process.stdout.write(`wrote ${opts.html}\n`);
    });
  monitors
    .command("results <name>")
    .description("A monitor's results over time, newest first.")
    .option("--project <project>", "project (default: the current project)")
    .option("--limit <n>", "how many (default 20)", "20")
    .option("--json", "machine output")
    .action(async (name: string, opts: { project?: string; limit: string; json?: boolean }) => {
      const api = await openApi(MONITORING_READ_API);
      const { results } = await api.get<{ results: ResultWire[] }>(
        projectPath(resolveProject(opts.project), `/monitors/${encodeURIComponent(name)}/results`),
        { limit: opts.limit },
      );
      if (opts.json) return printJson(results);
      printTable(
        results.map((r) => ({
          window_end: formatTime(r.window_end),
          status: r.status,
          rows: r.rows,
          labelled: r.labelled_rows,
          failed:
            r.checks
              .filter((c) => !c.passed)
              .map((c) => c.check)
              .join(",") || "-",
        })),
        ["window_end", "status", "rows", "labelled", "failed"],
      );
    });
}

/** What a monitor watches, in words. */
function watchesOf(m: { endpoint: string | null; dataset: string | null; traces?: { model: string | null } | null }) {
  if (m.traces) return `traces${m.traces.model ? ` of ${m.traces.model}` : ""}`;
  return m.endpoint ? `endpoint ${m.endpoint}` : `dataset ${m.dataset}`;
}
