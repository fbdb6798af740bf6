import type { Command } from "commander";
import { openApi, projectPath, resolveProject } from "./context.js";
import { MONITORING_READ_API } from "./api-scopes.js";
import { formatTable, formatTime, printJson, printTable } from "./output.js";

/** Evidence keys that hold a time in epoch milliseconds (window_start, window_end, evaluated_at …). */
const TIME_KEY = /(^|_)(at|start|end|time)$/;

/**
 * Evidence as a person reads it: times as the dates they are, like the alert's own `since` line
 * (`--json` keeps the API's milliseconds).
 */
export function withReadableTimes(value: unknown, key = ""): unknown {
  if (typeof value === "number" && TIME_KEY.test(key) && value > 1e12) return formatTime(value);
  if (Array.isArray(value)) return value.map((v) => withReadableTimes(v));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withReadableTimes(v, k)]));
  return value;
}

interface AlertWire {
  id: string;
  name: string;
  status: string;
  severity: string;
  source: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  evidence: Record<string, unknown>;
  resolution: Record<string, unknown> | null;
  starts_at: number;
  ends_at: number | null;
  fire_count: number;
  acked_by: string | null;
  triggered_at: number | null;
  deliveries?: Array<{ receiver_id: string; status: string; attempts: number; last_error: string | null }>;
  triggered_runs?: Array<{ pipeline: string; run_id: string | null }>;
}

/** The runs the alert's triggers started, or why there are none yet. */
function startedRuns(a: AlertWire): string {
  const runs = a.triggered_runs ?? [];
  if (runs.length) return runs.map((r) => `${r.pipeline} (${r.run_id ? `run ${r.run_id}` : "no run"})`).join(", ");
  if (a.triggered_at) return "none (no pipeline's triggers name this alert)";
  return a.status === "firing" ? "not yet" : "none";
}

const row = (a: AlertWire) => ({
  id: a.id.slice(0, 12),
  name: a.name,
  status: a.status,
  severity: a.severity,
  source: a.source,
  since: formatTime(a.starts_at),
  fired: a.fire_count,
  acked_by: a.acked_by,
});

export function registerAlertCommands(program: Command): void {
  const alerts = program
    .command("alerts")
    .description("Alerts raised by monitors, serving or an external Alertmanager.");
  alerts
    .command("ls")
    .description("List alerts, newest first.")
    .option("--project <project>", "project (default: the current project)")
    .option("--status <status>", "firing or resolved")
    .option("--json", "machine output")
    .action(async (opts: { project?: string; status?: string; json?: boolean }) => {
      const api = await openApi(MONITORING_READ_API);
      const { alerts: list } = await api.get<{ alerts: AlertWire[] }>(
        projectPath(resolveProject(opts.project), "/alerts"),
        { status: opts.status },
      );
      if (opts.json) printJson(list);
      else printTable(list.map(row), ["id", "name", "status", "severity", "source", "since", "fired", "acked_by"]);
    });
  alerts
    .command("show <id>")
    .description("One alert: labels, the evidence that fired it, what resolved it, notification deliveries.")
    .option("--project <project>", "project (default: the current project)")
    .option("--json", "machine output")
    .action(async (id: string, opts: { project?: string; json?: boolean }) => {
      const api = await openApi(MONITORING_READ_API);
      const a = await api.get<AlertWire>(
        projectPath(resolveProject(opts.project), `/alerts/${encodeURIComponent(id)}`),
      );
      if (opts.json) return printJson(a);
      const lines = [
        `${a.name} (${a.status}, ${a.severity}) from ${a.source}, since ${formatTime(a.starts_at)}${a.ends_at ? ` until ${formatTime(a.ends_at)}` : ""}`,
        `labels: ${JSON.stringify(a.labels)}`,
        // What fired it, even once resolved; what resolved it on its own line.
        `evidence (what fired it): ${JSON.stringify(withReadableTimes(a.evidence), null, 2)}`,
        ...(a.resolution ? [`resolution: ${JSON.stringify(withReadableTimes(a.resolution), null, 2)}`] : []),
        `pipelines started: ${startedRuns(a)}`,
      ];
      if (a.deliveries?.length)
        lines.push("deliveries:", formatTable(a.deliveries, ["receiver_id", "status", "attempts", "last_error"]));
      process.stdout.write(`${lines.join("\n")}\n`);
    });
  alerts
    .command("ack <id>")
    .description("Acknowledge an alert.")
    .option("--project <project>", "project (default: the current project)")
    .option("--comment <text>", "why, or what is being done")
    .action(async (id: string, opts: { project?: string; comment?: string }) => {
      const api = await openApi();
      await api.post(projectPath(resolveProject(opts.project), `/alerts/${encodeURIComponent(id)}/ack`), {
        comment: opts.comment ?? null,
      });
      process.stdout.write(`acknowledged ${id}\n`);
    });
  const receivers = alerts.command("receivers").description("Webhook receivers for Alertmanager-style notifications.");
  receivers
    .command("add <url>")
    .option("--project <project>", "project (default: the current project)")
    .option("--token <token>", "sent as Authorization: Bearer")
    .option("--json", "machine output")
    .action(async (url: string, opts: { project?: string; token?: string; json?: boolean }) => {
      const api = await openApi();
      const r = await api.post<{ id: string }>(projectPath(resolveProject(opts.project), "/alert-receivers"), {
        url,
        token: opts.token ?? null,
      });
      if (opts.json) printJson(r);
      else process.stdout.write(`added receiver ${r.id}\n`);
    });
  receivers
    .command("ls")
    .option("--project <project>", "project (default: the current project)")
    .option("--json", "machine output")
    .action(async (opts: { project?: string; json?: boolean }) => {
      const api = await openApi();
      const { receivers: list } = await api.get<{ receivers: Array<Record<string, unknown>> }>(
        projectPath(resolveProject(opts.project), "/alert-receivers"),
      );
      if (opts.json) printJson(list);
      else printTable(list, ["id", "url", "has_token"]);
    });
  receivers
    .command("rm <id>")
    .option("--project <project>", "project (default: the current project)")
    .action(async (id: string, opts: { project?: string }) => {
      const api = await openApi();
      await api.delete(projectPath(resolveProject(opts.project), `/alert-receivers/${encodeURIComponent(id)}`));
      process.stdout.write(`removed receiver ${id}\n`);
    });
}
