import type { Command } from "commander";
import { openApi, projectPath, resolveProject } from "./context.js";
import { printJson } from "./output.js";

/** `tandem endpoints export E --since 7d --as-dataset NAME` (added to the serving area's `endpoints` group). */
export function registerTrafficExportCommand(program: Command): void {
  const endpoints = program.commands.find((c) => c.name() === "endpoints") ?? program.command("endpoints");
  endpoints
    .command("export <endpoint>")
    .description(
      "Turn logged traffic with its feedback labels into a new dataset version (the fresh data a retrain needs).",
    )
    .requiredOption("--since <when>", "window start: 7d, 12h (ago), or an ISO date")
    .option("--until <when>", "window end (default now)")
    .requiredOption("--as-dataset <name>", "dataset to add the version to")
    .option("--all", "include predictions whose label has not come back")
    .option("--project <project>", "project (default: the current project)")
    .option("--json", "machine output")
    .action(
      async (
        endpoint: string,
        opts: { since: string; until?: string; asDataset: string; all?: boolean; project?: string; json?: boolean },
      ) => {
        const api = await openApi();
        const r = await api.post<{
          dataset: string;
          version: number;
          created: boolean;
          rows: number;
          labelled: number;
        }>(projectPath(resolveProject(opts.project), `/endpoints/${encodeURIComponent(endpoint)}/export`), {
          since: opts.since,
          until: opts.until,
          as_dataset: opts.asDataset,
          labelled_only: !opts.all,
        });
        if (opts.json) return printJson(r);
        process.stdout.write(
          `${r.created ? "added" : "unchanged:"} ${r.dataset}@${r.version}: ${r.rows} rows (${r.labelled} labelled)\n`,
        );
      },
    );
}
