/**
 * `tandem data query NAME@V "SELECT …"`: one read-only SELECT over a dataset version's tabular files,
 * run by the server in DuckDB's sandbox (each file is a view named after it, `dataset` is all of them).
 */
import type { Command } from "commander";
import { openApi, projectPath, resolveProject, UsageError } from "./context.js";
import { DATA_API } from "./api-scopes.js";
import { printJson, printTable } from "./output.js";

interface QueryWire {
  dataset: string;
  views: Array<{ name: string; file: string | null }>;
  columns: Array<{ name: string; type: string }>;
  rows: unknown[][];
  truncated: boolean;
  limit: number;
}

/** Adds `query` to the `data` group that registerDataCommands made. */
export function registerDataQueryCommand(program: Command): void {
  const data = program.commands.find((c) => c.name() === "data");
  if (!data) throw new Error("registerDataCommands must run before registerDataQueryCommand");
  data
    .command("query <ref> <sql>")
    .description(
      'One read-only SELECT over a version\'s tabular files, e.g. tandem data query iris@1 "SELECT species, count(*) FROM dataset GROUP BY 1".\n' +
        "Each file is a view named after it (iris.csv → iris); `dataset` stacks them all.",
    )
    .option("--limit <rows>", "rows to return at most (default 100, at most 10000)")
    .option("--project <project>", "project")
    .option("--json", "machine output: {dataset, views, columns, rows, truncated, limit}")
    .action(async (ref: string, sql: string, opts: { limit?: string; project?: string; json?: boolean }) => {
      const limit = opts.limit === undefined ? undefined : Number(opts.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 10_000)) {
        throw new UsageError(`--limit: expected a whole number from 1 to 10000, got "${opts.limit}"`);
      }
      const at = ref.indexOf("@");
      const [name, version] = at === -1 ? [ref, "latest"] : [ref.slice(0, at), ref.slice(at + 1)];
      const api = await openApi(DATA_API);
      const path = projectPath(
        resolveProject(opts.project),
        `/datasets/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/query`,
      );
      const res = await api.post<QueryWire>(path, { sql, ...(limit === undefined ? {} : { limit }) });
      if (opts.json) return printJson(res);
      const names = res.columns.map((c) => c.name);
      printTable(
        res.rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]]))),
        names,
      );
      if (res.truncated) process.stderr.write(`(first ${res.limit} rows; raise --limit to see more)\n`);
    });
}
