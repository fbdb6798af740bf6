/**
 * `tandem dora [--since 90d] [--target T] [--json]`: DORA's five metrics over model and service
 * deployments, apart and together, each with its 2024 performance band.
 */
import type { Command } from "commander";
import { openApi, projectPath, resolveProject } from "./context.js";
import { formatTable, printJson } from "./output.js";

type Band = "elite" | "high" | "medium" | "low" | null;
interface GroupWire {
  deployments: number;
  deployment_frequency: { per_week: number; band: Band };
  change_lead_time: { median_ms: number | null; measured: number; band: Band };
  change_fail_rate: { rate: number | null; failed: number; band: Band };
  failed_deployment_recovery_time: { median_ms: number | null; unrecovered: number; band: Band };
  deployment_rework_rate: { rate: number | null; rework: number };
}
export interface DoraWire {
  project: string;
  target: string | null;
  since: number;
  until: number;
  report_year: number;
  groups: { all: GroupWire; model: GroupWire; service: GroupWire };
  definitions: Array<{ id: string; name: string; definition: string }>;
}

/** "3 h 20 min", "2 d 4 h", "45 s": a duration as people read it. */
export function humanDuration(ms: number | null): string {
  if (ms === null) return "—";
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return `${Math.round(ms / 1000)} s`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

/** "40.0% (2)": the rate and how many deployments it counts; "—" with no deployments. */
const share = (rate: number | null, count: number) => (rate === null ? "—" : `${(rate * 100).toFixed(1)}% (${count})`);
const withBand = (value: string, band: Band) => (band ? `${value} (${band})` : value);

export function formatDora(d: DoraWire): string {
  const days = Math.round((d.until - d.since) / 86_400_000);
  const g = d.groups;
  const row = (metric: string, cell: (x: GroupWire) => string) => ({
    metric,
    models: cell(g.model),
    services: cell(g.service),
    all: cell(g.all),
  });
  const rows = [
    row("deployments", (x) => String(x.deployments)),
    row("deployment frequency", (x) =>
      withBand(`${x.deployment_frequency.per_week.toFixed(2)}/week`, x.deployment_frequency.band),
    ),
    row("change lead time (median)", (x) =>
      withBand(humanDuration(x.change_lead_time.median_ms), x.change_lead_time.band),
    ),
    row("change fail rate", (x) =>
      withBand(share(x.change_fail_rate.rate, x.change_fail_rate.failed), x.change_fail_rate.band),
    ),
    row("failed deployment recovery (median)", (x) =>
      withBand(
        humanDuration(x.failed_deployment_recovery_time.median_ms) +
          (x.failed_deployment_recovery_time.unrecovered
            ? `, ${x.failed_deployment_recovery_time.unrecovered} open`
            : ""),
        x.failed_deployment_recovery_time.band,
      ),
    ),
    row("deployment rework rate", (x) => share(x.deployment_rework_rate.rate, x.deployment_rework_rate.rework)),
  ];
  return [
    `DORA for ${d.project}${d.target ? ` (${d.target})` : ""} over the last ${days} days — bands from DORA's ${d.report_year} report`,
    "",
    formatTable(rows, ["metric", "models", "services", "all"]),
    "",
    `Lead time counts deployments whose commit time is known (${g.all.change_lead_time.measured} of ${g.all.deployments}).`,
    "Definitions: tandem dora --json (definitions), or the DORA page in the UI.",
  ].join("\n");
}

export function registerDoraCommand(program: Command): void {
  program
    .command("dora")
    .description(
      "DORA's five metrics (2024 report: deployment frequency, change lead time, change fail rate, failed deployment recovery time, deployment rework rate) over model and service deployments, apart and together.",
    )
    .option("--since <period>", "the period before now: 90d, 12w, 24h (default 90d)")
    .option("--target <name>", "one endpoint or service")
    .option("--hotfix-window <period>", "how soon after a deployment a hotfix marks it failed (default 7d)")
    .option("--project <project>", "project (default: the current project)")
    .option("--json", "machine output")
    .action(
      async (opts: { since?: string; target?: string; hotfixWindow?: string; project?: string; json?: boolean }) => {
        const api = await openApi();
        const d = await api.get<DoraWire>(projectPath(resolveProject(opts.project), "/dora"), {
          since: opts.since,
          target: opts.target,
          hotfix_window: opts.hotfixWindow,
        });
        if (opts.json) printJson(d);
        else console.log(formatDora(d));
      },
    );
}
