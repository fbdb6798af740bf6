/**
 * Tracking commands: `tandem experiments ls`, and the tracking subcommands of `tandem runs`
 * (`search`, `compare`, `gc`) next to the Pipelines area's pipeline-run subcommands.
 */
import type { Command } from "commander";
import { openApi, projectPath, resolveProject, UsageError } from "./context.js";
import { TRACKING_READ_API } from "./api-scopes.js";
import { formatTime, printJson, printTable } from "./output.js";

interface RunWire {
  run_id: string;
  experiment_id: string;
  run_name: string;
  status: string;
  start_time: number;
  end_time: number | null;
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, number | string>;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** "30d", "12h", "15m", "45s" or plain milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new UsageError(`--older-than: expected a duration such as 7d, 12h, 30m or 0, got '${text}'`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? "ms") as "ms"];
  return Number(m[1]) * unit;
}

function query(params: Record<string, string | string[] | undefined>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    for (const one of v === undefined ? [] : Array.isArray(v) ? v : [v]) qs.append(k, one);
  const s = qs.toString();
  return s ? `?${s}` : "";
}

function metricText(metrics: Record<string, number | string>): string {
  return Object.entries(metrics)
    .map(([k, v]) => `${k}=${typeof v === "number" ? Number(v.toPrecision(6)) : v}`)
    .join(" ");
}

export function compareRuns(a: RunWire, b: RunWire) {
  const keys = (x: Record<string, unknown>, y: Record<string, unknown>) =>
    [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
  // Own keys only: a key one run lacks (`constructor`, `valueOf`) must not read Object.prototype's.
  const own = <T>(r: Record<string, T>, key: string): T | null => (Object.hasOwn(r, key) ? r[key]! : null);
  return {
    a: { run_id: a.run_id, run_name: a.run_name, status: a.status },
    b: { run_id: b.run_id, run_name: b.run_name, status: b.status },
    params: keys(a.params, b.params).map((key) => ({
      key,
      a: own(a.params, key),
      b: own(b.params, key),
      same: own(a.params, key) === own(b.params, key),
    })),
    metrics: keys(a.metrics, b.metrics).map((key) => {
      const x = own(a.metrics, key);
      const y = own(b.metrics, key);
      return { key, a: x ?? null, b: y ?? null, delta: typeof x === "number" && typeof y === "number" ? y - x : null };
    }),
  };
}

async function resolveExperimentIds(project: string, given: string[]): Promise<string[] | undefined> {
  if (!given.length) return undefined;
  const api = await openApi();
  const ids: string[] = [];
  for (const e of given)
    ids.push(
      (await api.get<{ experiment_id: string }>(projectPath(project, `/experiments/${encodeURIComponent(e)}`)))
        .experiment_id,
    );
  return ids;
}

export function registerTrackingCommands(program: Command): void {
  const experiments = program.command("experiments").description("Tracking experiments (MLflow-compatible).");
  experiments
    .command("ls")
    .description("List the project's experiments.")
    .option("--project <project>", "project (default: $TANDEM_PROJECT, ./tandem.yaml, else default)")
    .option("--all", "include deleted experiments")
    .option("--json", "machine output")
    .action(async (opts: { project?: string; all?: boolean; json?: boolean }) => {
      const api = await openApi(TRACKING_READ_API);
      const project = resolveProject(opts.project);
      const { experiments: list } = await api.get<{ experiments: Array<Record<string, unknown>> }>(
        projectPath(project, `/experiments${query({ view_type: opts.all ? "ALL" : undefined })}`),
      );
      if (opts.json) printJson(list);
      else
        printTable(
          list.map((e) => ({ ...e, created: formatTime(e.creation_time as number) })),
          ["experiment_id", "name", "lifecycle_stage", "created"],
        );
    });

  // The Pipelines area owns `tandem runs` (pipeline runs); tracking adds its subcommands to it.
  const runs = program.commands.find((c) => c.name() === "runs") ?? program.command("runs").description("Runs.");
  runs
    .command("search")
    .description(
      "Search tracking runs with MLflow's filter language, e.g. --filter \"metrics.auc > 0.8 AND params.model = 'gbdt'\".",
    )
    .option("--project <project>", "project (default: $TANDEM_PROJECT, ./tandem.yaml, else default)")
    .option("--filter <filter>", "MLflow filter string")
    .option("--order-by <key>", "e.g. 'metrics.auc DESC' (repeatable)", collect, [])
    .option("--experiment <id-or-name>", "only these experiments (repeatable; default all)", collect, [])
    .option("--max-results <n>", "how many (default 100)", "100")
    .option("--deleted", "search deleted runs instead")
    .option("--json", "machine output")
    .action(
      async (opts: {
        project?: string;
        filter?: string;
        orderBy: string[];
        experiment: string[];
        maxResults: string;
        deleted?: boolean;
        json?: boolean;
      }) => {
        const api = await openApi(TRACKING_READ_API);
        const project = resolveProject(opts.project);
        const experimentIds = await resolveExperimentIds(project, opts.experiment);
        const { runs: found } = await api.get<{ runs: RunWire[] }>(
          projectPath(
            project,
            `/runs${query({ filter: opts.filter, order_by: opts.orderBy, experiment_id: experimentIds, max_results: opts.maxResults, view_type: opts.deleted ? "DELETED_ONLY" : undefined })}`,
          ),
        );
        if (opts.json) printJson(found);
        else
          printTable(
            found.map((r) => ({ ...r, started: formatTime(r.start_time), metrics: metricText(r.metrics) })),
            ["run_id", "run_name", "experiment_id", "status", "started", "metrics"],
          );
      },
    );
  runs
    .command("compare")
    .description("Compare two tracking runs' params and metrics side by side.")
    .argument("<a>", "first run id")
    .argument("<b>", "second run id")
    .option("--project <project>", "project (default: $TANDEM_PROJECT, ./tandem.yaml, else default)")
    .option("--json", "machine output")
    .action(async (a: string, b: string, opts: { project?: string; json?: boolean }) => {
      const api = await openApi(TRACKING_READ_API);
      const project = resolveProject(opts.project);
      const [ra, rb] = await Promise.all(
        [a, b].map((id) => api.get<RunWire>(projectPath(project, `/runs/${encodeURIComponent(id)}`))),
      );
      const diff = compareRuns(ra!, rb!);
      if (opts.json) return printJson(diff);
      process.stdout.write(
        `A: ${ra!.run_id} (${ra!.run_name}, ${ra!.status})\nB: ${rb!.run_id} (${rb!.run_name}, ${rb!.status})\n\nparams\n`,
      );
      printTable(
        diff.params.map((p) => ({ key: p.key, a: p.a, b: p.b, "": p.same ? "" : "≠" })),
        ["key", "a", "b", ""],
      );
      process.stdout.write("\nmetrics (latest)\n");
      printTable(diff.metrics, ["key", "a", "b", "delta"]);
    });
  runs
    .command("gc")
    .description("Purge deleted tracking runs and free their artifacts' bytes (project admins).")
    .option("--project <project>", "project (default: $TANDEM_PROJECT, ./tandem.yaml, else default)")
    .option("--older-than <duration>", "only runs deleted at least this long ago, e.g. 30d (default 0: all)", "0")
    .option("--json", "machine output")
    .action(async (opts: { project?: string; olderThan: string; json?: boolean }) => {
      const api = await openApi();
      const project = resolveProject(opts.project);
      const r = await api.post<{ purged_runs: string[]; deleted_blobs: number; freed_bytes: number }>(
        projectPath(project, "/runs/gc"),
        { older_than_ms: parseDuration(opts.olderThan) },
      );
      if (opts.json) printJson(r);
      else
        process.stdout.write(
          `purged ${r.purged_runs.length} run(s); deleted ${r.deleted_blobs} blob(s), ${r.freed_bytes} bytes freed\n`,
        );
    });
}
