/** `tandem data …`: versioned datasets (add, ls, show, diff, pull, tag, validate). */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import { readFile } from "node:fs/promises";
import { safeRelativePath } from "../core/artifacts/paths.js";
import type { ValidationReport } from "../core/data/expectations.js";
import { ApiError, type TandemApi } from "./api.js";
import { DATA_API } from "./api-scopes.js";
import { openApi, projectPath, resolveProject, UsageError, VerdictError } from "./context.js";
import { addPath, datasetPath, humanBytes, PARALLEL, type VersionWire } from "./data-add.js";
import { pool, writeVerified } from "./data-files.js";
import { formatTime, printJson, printTable } from "./output.js";

export { humanBytes } from "./data-add.js";

interface Entry {
  path: string;
  sha256: string;
  size: number;
}
interface ColumnWire {
  name: string;
  kind: string;
  type: string;
  count: number;
  null_count: number;
  distinct: number;
  mean: number | null;
  min: number | null;
  max: number | null;
}

function splitRef(text: string): { name: string; version: string } {
  const at = text.indexOf("@");
  return at === -1 ? { name: text, version: "latest" } : { name: text.slice(0, at), version: text.slice(at + 1) };
}

async function pull(
  api: TandemApi,
  project: string,
  ref: string,
  dest: string,
): Promise<{ version: VersionWire; files: number }> {
  const { name, version } = splitRef(ref);
  const shown = await api.get<{ version: VersionWire; entries: Entry[] }>(
    datasetPath(project, name, `/versions/${encodeURIComponent(version)}`),
  );
  const v = shown.version;
  const destIsDir = (await stat(dest).catch(() => null))?.isDirectory() ?? false;
  // Paths come from the server: checked again here, so no entry is written outside `dest`.
  const target = (e: Entry) =>
    v.kind === "file" && !destIsDir ? dest : join(dest, ...safeRelativePath(e.path).split("/"));
  const embedded = api.embeddedServices?.services.data;
  await pool(shown.entries, PARALLEL, async (e) => {
    let source: NodeJS.ReadableStream;
    if (embedded) source = await embedded.blob(e.sha256);
    else {
      const url = `${api.url}${datasetPath(project, name, `/versions/${v.version}/files/${e.path.split("/").map(encodeURIComponent).join("/")}`)}`;
      const res = await fetch(url, { headers: api.authToken ? { authorization: `Bearer ${api.authToken}` } : {} });
      if (!res.ok || !res.body)
        throw new ApiError(res.status, "HTTP_ERROR", `downloading ${e.path}: HTTP ${res.status}`);
      source = Readable.fromWeb(res.body as never);
    }
    await writeVerified(source, target(e), e.sha256, `${v.name}@${v.version}:${e.path}`);
  });
  return { version: v, files: shown.entries.length };
}

async function printValidation(report: ValidationReport): Promise<void> {
  // Loaded here: the expectations module brings zod, which `--help` and other commands do without.
  const { formatChecks, verdictLine } = await import("../core/data/expectations.js");
  process.stdout.write(`${formatChecks(report)}\n`);
  process.stdout.write(`${report.dataset}: ${verdictLine(report)}\n`);
}

/** A datetime statistic (epoch milliseconds) as `data show` and `data diff` print it. */
const isoTime = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function registerDataCommands(program: Command): void {
  const data = program
    .command("data")
    .description("Versioned datasets: content-addressed files with profiles and validation.");
  data
    .command("add <path>")
    .description("Add a file or directory as a new version of a dataset (no new version when unchanged).")
    .requiredOption("--name <name>", "dataset name")
    .option("--message <text>", "a note kept with the version")
    .option("--no-profile", "skip profiling tabular files")
    .option("--project <project>", "project (default: $TANDEM_PROJECT, tandem.yaml, or default)")
    .option("--json", "machine output")
    .action(
      async (
        path: string,
        opts: { name: string; message?: string; profile: boolean; project?: string; json?: boolean },
      ) => {
        const api = await openApi(DATA_API);
        const res = await addPath(api, resolveProject(opts.project), path, opts);
        if (opts.json) return printJson(res);
        const v = res.version;
        process.stdout.write(
          `${v.name}@${v.version}  ${v.id.slice(v.name.length + 1, v.name.length + 20)}…  ${v.file_count} file${v.file_count === 1 ? "" : "s"}, ${humanBytes(v.total_bytes)}  ${res.created ? "new version" : "unchanged: same content as the latest version"}\n`,
        );
      },
    );
  data
    .command("ls [name]")
    .description("List datasets, or the versions of one.")
    .option("--project <project>", "project")
    .option("--json", "machine output")
    .action(async (name: string | undefined, opts: { project?: string; json?: boolean }) => {
      const api = await openApi(DATA_API);
      const project = resolveProject(opts.project);
      if (!name) {
        const { datasets } = await api.get<{ datasets: Array<Record<string, unknown>> }>(
          projectPath(project, "/datasets"),
        );
        if (opts.json) return printJson(datasets);
        return printTable(
          datasets.map((d) => ({ ...d, created_at: formatTime(d.created_at as number) })),
          ["name", "latest_version", "created_at", "created_by"],
        );
      }
      const { versions } = await api.get<{ versions: VersionWire[] }>(datasetPath(project, name, "/versions"));
      if (opts.json) return printJson(versions);
      printTable(
        versions.map((v) => ({
          ...v,
          manifest: v.manifest_sha256.slice(0, 12),
          size: humanBytes(v.total_bytes),
          files: v.file_count,
          tags: v.tags.join(",") || "-",
          created_at: formatTime(v.created_at),
        })),
        ["version", "manifest", "files", "size", "tags", "created_at", "created_by", "message"],
      );
    });
  data
    .command("show <ref>")
    .description("A version (NAME@N, NAME@latest, NAME@sha256:…, NAME@tag): files and column profiles.")
    .option("--project <project>", "project")
    .option("--sketches", "include sketch state in --json output")
    .option("--json", "machine output")
    .action(async (ref: string, opts: { project?: string; json?: boolean; sketches?: boolean }) => {
      const api = await openApi(DATA_API);
      const { name, version } = splitRef(ref);
      const shown = await api.get<{
        version: VersionWire;
        entries: Entry[];
        profile: {
          files: Record<string, { format: string; profile: { row_count: number; columns: ColumnWire[] } }>;
        } | null;
      }>(datasetPath(resolveProject(opts.project), name, `/versions/${encodeURIComponent(version)}`), {
        sketches: opts.sketches ? "true" : "false",
      });
      if (opts.json) return printJson(shown);
      const v = shown.version;
      process.stdout.write(
        `${v.name}@${v.version}  ${v.id}\n${v.kind}, ${v.file_count} files, ${humanBytes(v.total_bytes)}, added ${formatTime(v.created_at)} by ${v.created_by}${v.tags.length ? `, tags ${v.tags.join(", ")}` : ""}\n\n`,
      );
      printTable(
        shown.entries.slice(0, 20).map((e) => ({ ...e, sha256: e.sha256.slice(0, 12), size: humanBytes(e.size) })),
        ["path", "size", "sha256"],
      );
      if (shown.entries.length > 20) process.stdout.write(`… and ${shown.entries.length - 20} more files\n`);
      for (const [path, f] of Object.entries(shown.profile?.files ?? {})) {
        process.stdout.write(`\n${path} (${f.format}, ${f.profile.row_count} rows)\n`);
        printTable(
          f.profile.columns.map((c) => {
            const t = (x: number | null) => (c.kind === "datetime" ? isoTime(x) : x);
            return { ...c, nulls: c.null_count, mean: t(c.mean), min: t(c.min), max: t(c.max) };
          }),
          ["name", "kind", "type", "nulls", "distinct", "mean", "min", "max"],
        );
      }
    });
  data
    .command("diff <from> <to>")
    .description("What changed between two versions: files, schema, and the statistics that moved.")
    .option("--project <project>", "project")
    .option("--all", "list every column's statistics, not only those that moved")
    .option("--json", "machine output")
    .action(async (from: string, to: string, opts: { project?: string; json?: boolean; all?: boolean }) => {
      const api = await openApi(DATA_API);
      const a = splitRef(from);
      const b = to.includes("@") ? to : `${a.name}@${to}`;
      type Diff = {
        files: { added: Entry[]; removed: Entry[]; changed: Array<{ path: string }>; unchanged: number };
        schema: Array<Record<string, unknown>>;
        stats: Array<
          Record<string, unknown> & {
            kind_from: string;
            kind_to: string;
            mean_from: number | null;
            mean_to: number | null;
            moved: boolean;
            drift: { test: string; score: number } | null;
          }
        >;
      };
      const res = await api.get<{ from: VersionWire; to: VersionWire; diff: Diff }>(
        datasetPath(resolveProject(opts.project), a.name, "/diff"),
        { from: from.includes("@") ? from : `${a.name}@latest`, to: b },
      );
      if (opts.json) return printJson(res);
      const d = res.diff;
      process.stdout.write(
        `${res.from.name}@${res.from.version} → ${res.to.name}@${res.to.version}: ${d.files.added.length} added, ${d.files.removed.length} removed, ${d.files.changed.length} changed, ${d.files.unchanged} unchanged\n`,
      );
      for (const e of d.files.added) process.stdout.write(`  + ${e.path}\n`);
      for (const e of d.files.removed) process.stdout.write(`  - ${e.path}\n`);
      for (const e of d.files.changed) process.stdout.write(`  ~ ${e.path}\n`);
      if (d.schema.length) {
        process.stdout.write("\nschema changes\n");
        printTable(d.schema, ["file", "column", "change", "from", "to"]);
      }
      const stats = d.stats.filter((s) => opts.all || s.moved);
      process.stdout.write(`\n${opts.all ? "statistics" : "statistics that moved"}\n`);
      printTable(
        stats.map((s) => ({
          ...s,
          // As `data show` prints them: a datetime column's mean is a date, not epoch milliseconds.
          mean_from: s.kind_from === "datetime" ? isoTime(s.mean_from) : s.mean_from,
          mean_to: s.kind_to === "datetime" ? isoTime(s.mean_to) : s.mean_to,
          drift: s.drift ? `${s.drift.test} ${s.drift.score.toFixed(3)}` : "-",
        })),
        [
          "file",
          "column",
          "rows_from",
          "rows_to",
          "null_share_from",
          "null_share_to",
          "mean_from",
          "mean_to",
          "distinct_from",
          "distinct_to",
          "drift",
        ],
      );
    });
  data
    .command("pull <ref> <dest>")
    .description("Write a version's files to DEST, each verified against the manifest's sha256.")
    .option("--project <project>", "project")
    .option("--json", "machine output")
    .action(async (ref: string, dest: string, opts: { project?: string; json?: boolean }) => {
      const api = await openApi(DATA_API);
      const { version, files } = await pull(api, resolveProject(opts.project), ref, dest);
      if (opts.json) return printJson({ version, files, dest });
      process.stdout.write(
        `${version.name}@${version.version}: ${files} file${files === 1 ? "" : "s"} written to ${dest} (verified)\n`,
      );
    });
  data
    .command("tag <ref> <label>")
    .description("Point LABEL at a version, so NAME@LABEL resolves to it.")
    .option("--project <project>", "project")
    .option("--json", "machine output")
    .action(async (ref: string, label: string, opts: { project?: string; json?: boolean }) => {
      const api = await openApi(DATA_API);
      const { name, version } = splitRef(ref);
      const res = await api.post<{ version: VersionWire; previous: number | null }>(
        datasetPath(resolveProject(opts.project), name, "/tags"),
        { version, label },
      );
      if (opts.json) return printJson(res);
      process.stdout.write(
        `${name}@${label} → version ${res.version.version}${res.previous !== null && res.previous !== res.version.version ? ` (was ${res.previous})` : ""}\n`,
      );
    });
  data
    .command("validate <ref>")
    .description("Check a version against expectations (YAML); prints a table and exits 1 when a check fails.")
    .requiredOption("--expect <file>", "expectations file (YAML)")
    .option("--run-id <id>", "pipeline run the report belongs to")
    .option("--project <project>", "project")
    .option("--json", "machine output")
    .action(async (ref: string, opts: { expect: string; runId?: string; project?: string; json?: boolean }) => {
      const text = await readFile(opts.expect, "utf8").catch(() => {
        throw new UsageError(`${opts.expect}: cannot read the expectations file`);
      });
      let expectations: unknown;
      try {
        expectations = parseYaml(text) ?? {};
      } catch (error) {
        throw new UsageError(`${opts.expect}: ${(error as Error).message}`);
      }
      const api = await openApi(DATA_API);
      const { name, version } = splitRef(ref);
      const res = await api.post<{ ok: boolean; report: ValidationReport }>(
        datasetPath(resolveProject(opts.project), name, `/versions/${encodeURIComponent(version)}/validate`),
        {
          expectations,
          run_id: opts.runId ?? null,
        },
      );
      if (opts.json) printJson(res);
      else await printValidation(res.report);
      if (!res.ok) throw new VerdictError(`${res.report.dataset} failed validation`);
    });
}
