/**
 * `tandem models …`: the model registry from the command line. Every command goes through the HTTP
 * API (routes in server/routes/models.ts and model-gates.ts); a policy refusal prints its decision
 * record as a table and exits 1.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Command } from "commander";
import { safeRelativePath } from "../core/artifacts/paths.js";
import { ApiError, type TandemApi } from "./api.js";
import { collectFiles } from "./data-files.js";
import { openApi, projectPath, resolveProject, UsageError, VerdictError } from "./context.js";
import { MODEL_LINEAGE_API, MODELS_READ_API } from "./api-scopes.js";
import { formatTime, info, printJson, printTable } from "./output.js";
import { registerModelGateCommands } from "./models-gates.js";
import {
  collect,
  modelPath,
  parseTags,
  reportOutcome,
  versionPath,
  type Json,
  type OutcomeWire,
} from "./models-kit.js";

async function uploadFile(api: TandemApi, project: string, path: string): Promise<{ sha256: string; size: number }> {
  const res = await api.raw("POST", projectPath(project, "/model-blobs"), { stream: createReadStream(path) });
  if (res.status >= 400)
    throw new ApiError(
      res.status,
      "UPLOAD_FAILED",
      `upload of ${path} failed: ${res.body.toString("utf8").slice(0, 300)}`,
    );
  return JSON.parse(res.body.toString("utf8")) as { sha256: string; size: number };
}

async function uploadArtifact(api: TandemApi, project: string, path: string): Promise<Json> {
  // The same local walk as `tandem data add` (regular files, symlinks skipped, sorted).
  const { kind, files } = await collectFiles(path).catch((error: unknown) => {
    throw error instanceof UsageError ? new UsageError(`--file: ${error.message}`) : error;
  });
  if (kind === "file") {
    const { sha256 } = await uploadFile(api, project, files[0]!.abs);
    return { kind: "blob", sha256, file_name: basename(path) };
  }
  const entries = [];
  for (const file of files) {
    const blob = await uploadFile(api, project, file.abs);
    entries.push({ path: file.path, sha256: blob.sha256, size: blob.size });
  }
  return { kind: "tree", entries };
}

async function pull(
  api: TandemApi,
  project: string,
  ref: string,
  dest: string,
): Promise<Array<{ path: string; sha256: string }>> {
  const manifest = await api.get<{ storage: string; entries: Array<{ path: string; sha256: string; size: number }> }>(
    versionPath(project, ref, "/artifact"),
  );
  const single = manifest.storage === "blob" && dest.toLowerCase().endsWith(".onnx");
  const written = [];
  for (const entry of manifest.entries) {
    const res = await api.raw("GET", versionPath(project, ref, "/artifact/file"), { query: { path: entry.path } });
    if (res.status >= 400)
      throw new ApiError(
        res.status,
        "PULL_FAILED",
        `fetching ${entry.path} failed: ${res.body.toString("utf8").slice(0, 300)}`,
      );
    const actual = createHash("sha256").update(res.body).digest("hex");
    if (actual !== entry.sha256)
      throw new VerdictError(
        `${entry.path}: content hashes to ${actual}, expected ${entry.sha256}; nothing written for it`,
      );
    const target = single ? dest : join(dest, safeRelativePath(entry.path));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(`${target}.tandem-part`, res.body);
    await rename(`${target}.tandem-part`, target);
    written.push({ path: target, sha256: entry.sha256 });
  }
  return written;
}

/**
 * `--dataset` is recorded as lineage as given: a typo or a dataset of another project would show in
 * lineage as if the model had been trained on it. Registration goes ahead (the data may live
 * elsewhere), but each reference that does not resolve here is named on stderr.
 */
async function warnAboutUnknownDatasets(api: TandemApi, project: string, refs: string[]): Promise<void> {
  for (const ref of refs) {
    const at = ref.indexOf("@");
    const name = at === -1 ? ref : ref.slice(0, at);
    const version = at === -1 ? "latest" : ref.slice(at + 1);
    try {
      await api.get(
        projectPath(project, `/datasets/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`),
      );
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
      // The message names the project: "no dataset X in project P", or "dataset X has no version N in project P".
      info(`warning: --dataset ${ref}: ${error.message}; the lineage records the reference as given`);
    }
  }
}

export function registerModelCommands(program: Command): void {
  const models = program
    .command("models")
    .description("The model registry: versions, aliases, lineage, model cards, approvals.");
  const proj = (opts: { project?: string }) =>
    resolveProject(opts.project ?? models.opts<{ project?: string }>().project);
  models.option("--project <project>", "project (default: the current project)");

  models
    .command("ls")
    .description("List registered models with their aliases.")
    .option("--json", "machine output")
    .action(async (opts: { json?: boolean }) => {
      const api = await openApi(MODELS_READ_API);
      const res = await api.get<{ models: Json[] }>(projectPath(proj({}), "/models"));
      if (opts.json) return printJson(res.models);
      printTable(
        res.models.map((m) => ({
          ...m,
          aliases: Object.entries((m.aliases as Record<string, number>) ?? {})
            .map(([a, v]) => `${a}=${v}`)
            .join(" "),
          updated_at: formatTime(m.updated_at as number),
        })),
        ["name", "latest_version", "aliases", "owner", "updated_at"],
      );
    });

  models
    .command("show <ref>")
    .description("Show a model (NAME) and its versions, or one version (NAME@N, NAME@alias).")
    .option("--json", "machine output")
    .action(async (ref: string, opts: { json?: boolean }) => {
      const api = await openApi(MODELS_READ_API);
      const project = proj({});
      if (!ref.includes("@")) {
        const m = await api.get<Json & { versions: Json[] }>(modelPath(project, ref));
        if (opts.json) return printJson(m);
        process.stdout.write(`${m.name}  owner ${m.owner}  ${m.description ? `— ${m.description}` : ""}\n`);
        return printTable(
          m.versions.map((v) => ({
            ...v,
            aliases: (v.aliases as string[]).join(","),
            sha256: String((v.artifact as Json).sha256).slice(0, 12),
            created_at: formatTime(v.created_at as number),
          })),
          ["version", "aliases", "author", "stage", "sha256", "source_run_id", "created_at"],
        );
      }
      const v = await api.get<Json>(versionPath(project, ref));
      if (opts.json) return printJson(v);
      const a = v.artifact as Json;
      const lineage = v.lineage as Json;
      process.stdout.write(
        [
          `${v.ref}  (${a.format}, ${a.size} bytes, sha256 ${a.sha256})`,
          `author: ${v.author}   aliases: ${(v.aliases as string[]).join(", ") || "-"}   registered: ${formatTime(v.created_at as number)}`,
          `source run: ${v.source_run_id ?? "-"}   datasets: ${(lineage.dataset_versions as string[]).join(", ") || "-"}   git: ${lineage.git_commit ?? "-"}`,
          `signature (${(v.signature as Json).source}): in ${((v.signature as Json).inputs as Json[]).map((t) => `${t.name}:${t.type}${JSON.stringify(t.shape)}`).join(", ") || "-"}; out ${((v.signature as Json).outputs as Json[]).map((t) => `${t.name}:${t.type}${JSON.stringify(t.shape)}`).join(", ") || "-"}`,
        ].join("\n") + "\n",
      );
    });

  models
    .command("register <name>")
    .description("Register a version from an ONNX file or a model directory (MODEL.json, or one .onnx file).")
    .requiredOption("--file <path>", "the .onnx file or the model directory")
    .option("--run <run_id>", "the run that produced it (default: a run is recorded for this registration)")
    .option("--description <text>", "what this version is")
    .option("--intended-use <text>", "what the model is for and not for (model card)")
    .option("--tag <key=value>", "a version tag (repeatable)", collect)
    .option(
      "--dataset <ref>",
      "without --run: a dataset version it was trained on, e.g. flights@3 (repeatable)",
      collect,
    )
    .option("--git-commit <sha>", "without --run: the commit of the code that trained it")
    .option("--alias <alias>", "also request this alias under the project's policies")
    .option("--policy <policy>", "evaluate only this policy for --alias")
    .option("--json", "machine output")
    .action(
      async (
        name: string,
        opts: {
          file: string;
          run?: string;
          description?: string;
          intendedUse?: string;
          tag?: string[];
          dataset?: string[];
          gitCommit?: string;
          alias?: string;
          policy?: string;
          json?: boolean;
        },
      ) => {
        const api = await openApi();
        const project = proj({});
        const tags = parseTags(opts.tag, "--tag");
        if (opts.run && (opts.dataset || opts.gitCommit)) {
          throw new UsageError(
            "--dataset and --git-commit describe the run recorded without --run; with --run, that run's tags give the lineage",
          );
        }
        if (opts.dataset) await warnAboutUnknownDatasets(api, project, opts.dataset);
        const artifact = await uploadArtifact(api, project, opts.file);
        const res = await api.post<{ version: Json; created: boolean; promotion: OutcomeWire | null }>(
          modelPath(project, name, "/versions"),
          {
            artifact,
            run_id: opts.run ?? null,
            description: opts.description,
            intended_use: opts.intendedUse,
            tags,
            alias: opts.alias,
            policy: opts.policy,
            lineage: opts.run ? undefined : { dataset_versions: opts.dataset, git_commit: opts.gitCommit },
          },
        );
        if (opts.json) printJson(res);
        else
          process.stdout.write(
            `${res.created ? "registered" : "already registered as"} ${res.version.ref} (sha256 ${String((res.version.artifact as Json).sha256).slice(0, 12)}, run ${res.version.source_run_id})\n`,
          );
        if (res.promotion) reportOutcome(res.promotion, opts.json, opts.json);
      },
    );

  models
    .command("pull <ref> <dest>")
    .description(
      "Fetch a version's artifact into DEST (a directory, or a .onnx file path), every file verified against its sha256.",
    )
    .option("--json", "machine output")
    .action(async (ref: string, dest: string, opts: { json?: boolean }) => {
      const written = await pull(await openApi(), proj({}), ref, dest);
      if (opts.json) printJson(written);
      else for (const w of written) process.stdout.write(`${w.path}  sha256 ${w.sha256}\n`);
    });

  models
    .command("lineage [ref]")
    .description(
      "Lineage of NAME@V: source run, pipeline run, steps, dataset versions, git commit, environment; or with --dataset, the versions trained on it.",
    )
    .option("--dataset <ref>", "reverse lineage: versions trained on this dataset version (e.g. flights@3)")
    .option("--json", "machine output")
    .action(async (ref: string | undefined, opts: { dataset?: string; json?: boolean }) => {
      const api = await openApi(MODEL_LINEAGE_API);
      const project = proj({});
      if (opts.dataset) {
        const res = await api.get<{ versions: Json[] }>(
          projectPath(project, `/lineage/datasets/${encodeURIComponent(opts.dataset)}/models`),
        );
        if (opts.json) return printJson(res);
        return printTable(
          res.versions.map((v) => ({ ...v, created_at: formatTime(v.created_at as number) })),
          ["ref", "author", "source_run_id", "created_at"],
        );
      }
      if (!ref) throw new UsageError("give NAME@VERSION, or --dataset NAME@N");
      const g = await api.get<Json & { steps: Json[]; source_run: Json | null; pipeline_run: Json | null }>(
        versionPath(project, ref, "/lineage"),
      );
      if (opts.json) return printJson(g);
      const run = (r: Json | null) => (r ? `${r.id} (${r.name}, ${r.status})` : "-");
      const lines = [
        `version:       ${(g.version as Json).ref}  sha256 ${((g.version as Json).artifact as Json).sha256}`,
        `source run:    ${run(g.source_run)}`,
        `pipeline run:  ${run(g.pipeline_run)}`,
        ...g.steps.map(
          (s) =>
            `  step:        ${s.name} ${s.id} ${s.status}${(s.tags as Json)["tandem.dataset_versions"] ? `  read ${(s.tags as Json)["tandem.dataset_versions"]}` : ""}`,
        ),
        `datasets:      ${(g.dataset_versions as string[]).join(", ") || "-"}`,
        `git commit:    ${g.git_commit ?? "-"}`,
        `environment:   ${g.env_digest ?? "-"}`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });

  models
    .command("card <ref>")
    .description("The model card of a version, as Markdown (default) or JSON.")
    .option("--format <format>", "md or json", "md")
    .option("--out <file>", "write it to a file instead of stdout")
    .action(async (ref: string, opts: { format: string; out?: string }) => {
      if (opts.format !== "md" && opts.format !== "json")
        throw new UsageError(`--format: expected md or json, got ${JSON.stringify(opts.format)}`);
      const api = await openApi(MODEL_LINEAGE_API);
      const res = await api.raw("GET", versionPath(proj({}), ref, "/card"), { query: { format: opts.format } });
      if (res.status >= 400)
        throw new ApiError(
          res.status,
          "CARD_FAILED",
          JSON.parse(res.body.toString("utf8")).error?.message ?? `HTTP ${res.status}`,
        );
      const text =
        opts.format === "json"
          ? `${JSON.stringify(JSON.parse(res.body.toString("utf8")), null, 2)}\n`
          : res.body.toString("utf8");
      if (opts.out) await writeFile(opts.out, text);
      else process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
    });

  registerModelGateCommands(models, proj);
}
