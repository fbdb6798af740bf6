/**
 * `tandem validate | schema | apply | run` and `tandem runs …` / `tandem secrets …`.
 * `tandem runs` lists *pipeline* runs (API `/pipeline-runs`); tracking runs are under `tandem experiments`.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import { parseParamArgs } from "../core/pipelines/params.js";
import { probeInterpretersEarly } from "../executors/local/probe.js";
import type { TandemApi } from "./api.js";
import { cliConfig, openApi, projectPath, resolveProject, UsageError, VerdictError } from "./context.js";
import { PIPELINES_READ_API, PIPELINES_RUN_API } from "./api-scopes.js";
import { formatTime, info, printJson, printTable } from "./output.js";
import { driverGone, followRun, resumeHint, summarize, TERMINAL, type RunWire } from "./pipelines-progress.js";
import { showRun } from "./runs-show.js";
import { SpecProblemsError, specProblemsOf } from "./spec-problems.js";
import type { SpecIssue } from "../core/pipelines/spec/positions.js";

/** `--at REF`: the full commit id REF names in the git repository holding `dir`. */
function commitAt(ref: string, dir: string): string {
  try {
    return execFileSync("git", ["-C", dir, "rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    throw new UsageError(`--at ${ref}: not a commit of the git repository holding ${dir}`);
  }
}

export function readSpec(file: string): { source: string; file: string; workspace: string } {
  const path = resolve(file);
  if (!existsSync(path))
    throw new UsageError(`${file}: no such file (run in a folder with a tandem.yaml, or pass --file)`);
  return { source: readFileSync(path, "utf8"), file, workspace: dirname(path) };
}

/** `tandem run` without a pipeline: say which ones the spec has, so the next try works. */
function nameThePipeline(file: string): UsageError {
  let names: string[] = [];
  try {
    const doc = parseYaml(readFileSync(resolve(file), "utf8")) as { pipelines?: Record<string, unknown> } | null;
    names = Object.keys(doc?.pipelines ?? {});
  } catch {
    // No spec here, or one that does not parse: the plain message (tandem validate explains the rest).
  }
  return new UsageError(
    names.length
      ? `name the pipeline to run: ${names.join(", ")} (from ${file}), or --resume RUN_ID`
      : "name the pipeline to run (or --resume RUN_ID)",
  );
}

/** `POST /specs`, reporting a spec that does not hold as `validate` does. */
async function postSpec<T>(api: TandemApi, project: string, spec: ReturnType<typeof readSpec>): Promise<T> {
  try {
    return await api.post<T>(projectPath(project, "/specs"), spec);
  } catch (error) {
    throw specProblemsOf(error, spec.file) ?? error;
  }
}

async function applySpec(
  api: TandemApi,
  project: string,
  file: string,
  quiet = false,
): Promise<{ version: number; workspace: string }> {
  const spec = readSpec(file);
  const v = await postSpec<{ version: number; created: boolean }>(api, project, spec);
  if (!quiet)
    info(
      v.created
        ? `applied ${file} as spec version ${v.version} of project ${project}`
        : `${file} unchanged (spec version ${v.version})`,
    );
  return { version: v.version, workspace: spec.workspace };
}

/**
 * In embedded mode nothing listens, so steps could not reach the API (MLflow logging). Serve the
 * in-process app on a loopback port for as long as the command runs (closing the API stops it).
 */
async function serveForSteps(api: TandemApi): Promise<() => Promise<void>> {
  const opened = api.embeddedServices;
  const url = await api.listenOnLoopback();
  if (opened && url) opened.services.config = { ...opened.services.config, serverUrl: url };
  // Nothing to stop here: the listener is the API's own app, closed with it when the command ends.
  return async () => undefined;
}

/** Follows a run to its end: progress on stderr, --json on stdout, exit 1 unless it succeeded. */
async function finishCommand(
  api: TandemApi,
  project: string,
  runId: string,
  json: boolean,
  kept: ReadonlySet<string> = new Set(),
): Promise<void> {
  let interrupted = 0;
  const onSigint = () => {
    interrupted++;
    if (interrupted === 1) {
      info(`cancelling run ${runId} (Ctrl-C again to leave it running)`);
      void api.post(projectPath(project, `/pipeline-runs/${runId}/cancel`)).catch(() => undefined);
    } else process.exit(130);
  };
  process.on("SIGINT", onSigint);
  // In embedded mode this process drives the run: its end wakes the last poll at once.
  const pipelines = api.embeddedServices?.services.pipelines;
  // SIGTERM (kill, timeout, a CI job cancelled) or SIGHUP (the terminal closed): stop the steps with
  // their grace period and release the run at once, so it is resumable and `runs ls` says it has no
  // driver, rather than dying with the run "running" until its lease runs out. Following a server's
  // run, the default (exit) is right: the server drives it.
  const onTerminate = (signal: NodeJS.Signals) => {
    info(`${signal}: stopping run ${runId}; ${resumeHint(runId)}`);
    void pipelines!.close().finally(() => process.exit(128 + osConstants.signals[signal]));
  };
  if (pipelines) for (const signal of TERMINATING) process.once(signal, onTerminate);
  try {
    const ended = pipelines?.settled(runId);
    const live = pipelines ? () => pipelines.liveRun(runId) : undefined;
    const run = await followRun(api, project, runId, { quiet: false, ended, live });
    for (const s of run.steps ?? []) {
      if (s.status !== "failed") continue;
      // The end of a failed step's log is usually the reason; show it without a second command.
      const logs = await api.get<{ lines: Array<{ text: string }> }>(
        projectPath(project, `/pipeline-runs/${runId}/logs`),
        { step: s.name, limit: 10_000 },
      );
      const tail = logs.lines.slice(-15);
      if (tail.length)
        info(
          `--- last ${tail.length} log lines of ${s.name} (tandem runs logs ${runId} --step '${s.name}') ---\n${tail.map((l) => l.text).join("\n")}`,
        );
    }
    info(summarize(run, kept));
    if (json) printJson(run);
    if (run.status !== "succeeded")
      throw new VerdictError(`pipeline run ${run.id} ${run.status}${run.error ? `: ${run.error}` : ""}`);
  } finally {
    process.off("SIGINT", onSigint);
    for (const signal of TERMINATING) process.off(signal, onTerminate);
  }
}

const TERMINATING: NodeJS.Signals[] = ["SIGTERM", "SIGHUP"];

export function registerPipelineCommands(program: Command): void {
  program
    .command("schema")
    .description("Print the JSON Schema of tandem.yaml (for editors: yaml-language-server, VS Code).")
    .action(async () => printJson((await import("../core/pipelines/spec/schema.js")).tandemJsonSchema()));

  program
    .command("validate [file]")
    .description(
      "Check a tandem.yaml without running it; each problem names file:line:column and the field (exit 2). Warnings (exit 0): paths a run: script reads that are not inputs, datasets/models that do not exist yet, image tags without a digest.",
    )
    .option("--project <project>", "project (default: the spec's project:)")
    .option("--json", "machine output")
    .action(async (file: string | undefined, opts: { project?: string; json?: boolean }) => {
      const spec = readSpec(file ?? "tandem.yaml");
      const api = await openApi();
      const result = await api.post<{
        valid: boolean;
        issues: SpecIssue[];
        warnings: SpecIssue[];
        pipelines: string[];
      }>(projectPath(resolveProject(opts.project, resolve(spec.file)), "/specs/validate"), spec);
      if (opts.json) printJson(result);
      else
        for (const w of result.warnings)
          process.stderr.write(`${w.file}:${w.line}:${w.column}: warning: ${w.field}: ${w.message}\n`);
      if (!result.valid) {
        const problems = new SpecProblemsError(spec.file, result.issues);
        // With --json the problems are on stdout already; stderr gets the count alone.
        throw opts.json ? new UsageError(problems.message) : problems;
      }
      if (!opts.json)
        process.stdout.write(`${spec.file} is valid (pipelines: ${result.pipelines.join(", ") || "none"})\n`);
    });

  program
    .command("apply [file]")
    .description("Store a versioned copy of tandem.yaml on the server (pipelines, policies, endpoints, monitors).")
    .option("--project <project>", "project (default: the spec's project:)")
    .option("--json", "machine output")
    .action(async (file: string | undefined, opts: { project?: string; json?: boolean }) => {
      const api = await openApi();
      const spec = readSpec(file ?? "tandem.yaml");
      const project = resolveProject(opts.project, resolve(spec.file));
      const v = await postSpec<Record<string, unknown>>(api, project, spec);
      if (opts.json) printJson(v);
      else
        process.stdout.write(
          `${v.created ? "applied" : "unchanged:"} spec version ${String(v.version)} of project ${project}\n`,
        );
    });

  program
    .command("run [pipeline]")
    .description("Run a pipeline (applying ./tandem.yaml first when there is one) and follow it; exit 1 if it fails.")
    .option(
      "-p, --param <key=value>",
      "override a param (repeatable)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option("--no-cache", "run every step even when its cache key matches")
    .option("--concurrency <n>", "parallel steps (default: number of cores)")
    .option("--resume <run-id>", "take over a run whose driver died (after kill -9), rerunning only unfinished steps")
    .option(
      "--at <ref>",
      "run this commit (a branch, tag or sha of the repository holding tandem.yaml) from a clean checkout, with its own tandem.yaml, instead of the folder as it is",
    )
    .option("--file <path>", "spec file", "tandem.yaml")
    .option("--project <project>", "project (default: the spec's project:)")
    .option("--json", "print the run (with each step's name, status, cached) as JSON")
    .action(
      async (
        pipeline: string | undefined,
        opts: {
          param: string[];
          cache: boolean;
          concurrency?: string;
          resume?: string;
          at?: string;
          file: string;
          project?: string;
          json?: boolean;
        },
      ) => {
        // Embedded, this process drives the run: the interpreters on its PATH (part of every step's
        // cache key) are asked for their versions while it loads its services, not after.
        if (!cliConfig().serverUrl) probeInterpretersEarly();
        const api = await openApi(PIPELINES_RUN_API);
        // The project of the spec given with --file, as apply and validate take it (not ./tandem.yaml's).
        const project = resolveProject(opts.project, resolve(opts.file));
        const stopServing = await serveForSteps(api);
        try {
          if (opts.resume) {
            const run = await api.post<RunWire>(
              projectPath(project, `/pipeline-runs/${encodeURIComponent(opts.resume)}/resume`),
            );
            info(`resumed run ${run.id} of ${run.pipeline}`);
            await finishCommand(api, project, run.id, opts.json ?? false);
            return;
          }
          if (!pipeline) throw nameThePipeline(opts.file);
          const concurrency = opts.concurrency === undefined ? undefined : Number(opts.concurrency);
          if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) {
            throw new UsageError(`--concurrency: expected a positive integer, got ${opts.concurrency}`);
          }
          let workspace: string | undefined;
          let at: string | undefined;
          if (opts.at !== undefined) {
            // The commit's own tandem.yaml is the spec: nothing is applied from the folder.
            workspace = dirname(resolve(opts.file));
            at = commitAt(opts.at, workspace);
          } else if (existsSync(resolve(opts.file)))
            workspace = (await applySpec(api, project, opts.file, opts.json)).workspace;
          const run = await api.post<RunWire>(projectPath(project, `/pipelines/${encodeURIComponent(pipeline)}/runs`), {
            params: parseParamArgs(opts.param),
            no_cache: !opts.cache,
            concurrency,
            workspace,
            at,
          });
          info(
            `run ${run.id} of ${pipeline} (spec version ${run.spec_version}${at ? `, commit ${at.slice(0, 12)}` : ""})`,
          );
          await finishCommand(api, project, run.id, opts.json ?? false);
        } finally {
          await stopServing();
        }
      },
    );

  const runs = program.command("runs").description("Pipeline runs: list, show, logs, cancel, retry.");
  runs
    .command("ls")
    .description("List pipeline runs, newest first.")
    .option("--pipeline <name>", "only this pipeline")
    .option("--status <status>", "only runs in this status")
    .option("--limit <n>", "how many", "20")
    .option("--project <project>", "project")
    .option("--json", "machine output")
    .action(async (opts: { pipeline?: string; status?: string; limit: string; project?: string; json?: boolean }) => {
      const api = await openApi(PIPELINES_READ_API);
      const res = await api.get<{ runs: RunWire[] }>(projectPath(resolveProject(opts.project), "/pipeline-runs"), {
        pipeline: opts.pipeline,
        status: opts.status,
        limit: opts.limit,
      });
      if (opts.json) return printJson(res.runs);
      printTable(
        res.runs.map((r) => ({
          ...r,
          status: driverGone(r) ? `${r.status} (no driver)` : r.status,
          trigger: r.trigger.kind,
          created: formatTime(r.created_at),
        })),
        ["id", "pipeline", "status", "trigger", "spec_version", "created"],
      );
    });
  runs
    .command("show <id>")
    .description(
      "A run (its commit and steps, with the references each step resolved); --step S shows one step's references, inputs and environment; --step S --cache explains its cache key part by part.",
    )
    .option("--step <name>", "one step: its resolved references, inputs, outputs and environment")
    .option("--cache", "with --step: each part of the step's cache key, and what differs from the nearest earlier key")
    .option("--project <project>", "project")
    .option("--json", "machine output")
    .action(async (id: string, opts: { step?: string; cache?: boolean; project?: string; json?: boolean }) => {
      await showRun(await openApi(PIPELINES_READ_API), resolveProject(opts.project), id, opts);
    });
  runs
    .command("logs <id>")
    .description("Print a run's logs; -f follows until the run ends.")
    .option("--step <name>", "only this step")
    .option("-f, --follow", "keep printing new lines until the run ends")
    .option("--project <project>", "project")
    .action(async (id: string, opts: { step?: string; follow?: boolean; project?: string }) => {
      const api = await openApi(PIPELINES_READ_API);
      const path = projectPath(resolveProject(opts.project), `/pipeline-runs/${encodeURIComponent(id)}/logs`);
      let after: number | undefined;
      for (;;) {
        const res = await api.get<{
          lines: Array<{ step: string; stream: string; text: string }>;
          run_status: string;
          next_after: number;
        }>(path, {
          after,
          step: opts.step,
          limit: 5000,
        });
        for (const l of res.lines) {
          const line = opts.step ? l.text : `[${l.step}] ${l.text}`;
          (l.stream === "stderr" ? process.stderr : process.stdout).write(
            `${l.stream === "system" ? `# ${line}` : line}\n`,
          );
        }
        after = res.next_after;
        if (!opts.follow || (TERMINAL.has(res.run_status) && res.lines.length === 0)) break;
        if (res.lines.length === 0) await new Promise((r) => setTimeout(r, 300));
      }
    });
  runs
    .command("cancel <id>")
    .description("Cancel a run: its running steps' process trees are killed.")
    .option("--project <project>", "project")
    .action(async (id: string, opts: { project?: string }) => {
      const api = await openApi();
      const run = await api.post<RunWire>(
        projectPath(resolveProject(opts.project), `/pipeline-runs/${encodeURIComponent(id)}/cancel`),
      );
      process.stdout.write(`cancel requested for run ${run.id} (${run.status})\n`);
    });
  runs
    .command("retry <id>")
    .description("Rerun the failed and cancelled steps of a run, reusing everything that finished; follows it.")
    .option("--project <project>", "project")
    .option("--json", "print the run as JSON")
    .action(async (id: string, opts: { project?: string; json?: boolean }) => {
      const api = await openApi(PIPELINES_RUN_API);
      const project = resolveProject(opts.project);
      const stopServing = await serveForSteps(api);
      try {
        const runPath = projectPath(project, `/pipeline-runs/${encodeURIComponent(id)}`);
        // What succeeded before the retry is kept, not run again: the summary counts it apart.
        const before = await api.get<RunWire>(runPath);
        const kept = new Set((before.steps ?? []).filter((s) => s.status === "succeeded").map((s) => s.id));
        const run = await api.post<RunWire>(`${runPath}/retry`);
        info(`retrying run ${run.id}`);
        await finishCommand(api, project, run.id, opts.json ?? false, kept);
      } finally {
        await stopServing();
      }
    });

  const secrets = program
    .command("secrets")
    .description("Secrets for pipeline steps (encrypted at rest, masked in logs).");
  secrets
    .command("set <name>")
    .description("Set a secret; the value is read from stdin (a trailing newline is dropped).")
    .option("--project <project>", "project")
    .action(async (name: string, opts: { project?: string }) => {
      if (process.stdin.isTTY) info(`value for ${name} (end with Ctrl-D):`);
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      const value = Buffer.concat(chunks)
        .toString("utf8")
        .replace(/\r?\n$/, "");
      const api = await openApi();
      await api.put(projectPath(resolveProject(opts.project), `/secrets/${encodeURIComponent(name)}`), { value });
      process.stdout.write(`secret ${name} set\n`);
    });
  secrets
    .command("ls")
    .description("List secret names (never values).")
    .option("--project <project>", "project")
    .option("--json", "machine output")
    .action(async (opts: { project?: string; json?: boolean }) => {
      const api = await openApi(PIPELINES_READ_API);
      const res = await api.get<{ secrets: Array<{ name: string; updated_at: number; updated_by: string }> }>(
        projectPath(resolveProject(opts.project), "/secrets"),
      );
      if (opts.json) return printJson(res.secrets);
      printTable(
        res.secrets.map((s) => ({ ...s, updated: formatTime(s.updated_at) })),
        ["name", "updated", "updated_by"],
      );
    });
  secrets
    .command("rm <name>")
    .description("Delete a secret.")
    .option("--project <project>", "project")
    .action(async (name: string, opts: { project?: string }) => {
      const api = await openApi();
      await api.delete(projectPath(resolveProject(opts.project), `/secrets/${encodeURIComponent(name)}`));
      process.stdout.write(`secret ${name} deleted\n`);
    });
}
