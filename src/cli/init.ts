/**
 * `tandem init [--template classification|service|llm] [DIR]`: a new project that runs at once.
 * DIR must be absent or empty: init never overwrites a file (each is created with O_EXCL, so even
 * a file appearing meanwhile is left alone and init stops).
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { NAME_PATTERN } from "../core/pipelines/spec/name-pattern.js";
import { UsageError } from "./context.js";
import {
  TEMPLATE_INFO,
  TEMPLATE_NAMES,
  projectNameFor,
  runAtOnce,
  specWithProject,
  templateDir,
  templateFiles,
  type TemplateName,
} from "./project-templates.js";

function assertEmptyTarget(target: string): void {
  if (!existsSync(target)) return;
  if (!statSync(target).isDirectory()) throw new UsageError(`${target} exists and is not a folder`);
  const entries = readdirSync(target);
  if (entries.length > 0)
    throw new UsageError(
      `${target} is not empty (${entries.slice(0, 3).join(", ")}${entries.length > 3 ? ", …" : ""}): tandem init only writes into a new or empty folder, and overwrites nothing`,
    );
}

export function initProject(options: { template: TemplateName; target: string; project?: string }): string[] {
  const source = templateDir(options.template);
  const target = resolve(options.target);
  assertEmptyTarget(target);
  const project = options.project ?? projectNameFor(target) ?? options.template;
  if (!NAME_PATTERN.test(project))
    throw new UsageError(
      `--project: ${JSON.stringify(project)} must start with a letter and use only letters, digits, '_' and '-'`,
    );
  mkdirSync(target, { recursive: true });
  const written: string[] = [];
  for (const file of templateFiles(source)) {
    const to = join(target, file);
    mkdirSync(dirname(to), { recursive: true });
    const content = file === "tandem.yaml" ? specWithProject(source, project) : readFileSync(join(source, file));
    // `wx`: fail rather than replace a file that appeared since the emptiness check.
    writeFileSync(to, content, { flag: "wx", mode: statSync(join(source, file)).mode & 0o777 });
    written.push(file);
  }
  return written;
}

export function registerInitCommand(program: Command): void {
  program
    .command("init")
    .description(
      `Scaffold a project that passes \`tandem validate\` and whose main pipeline runs at once, in DIR (default: the current folder), which must be new or empty. Templates: ${TEMPLATE_NAMES.map((t) => `${t} (${TEMPLATE_INFO[t].description})`).join("; ")}`,
    )
    .argument("[dir]", "where to create the project (new or empty)", ".")
    .option("--template <name>", `one of ${TEMPLATE_NAMES.join(", ")}`, "classification")
    .option("--project <name>", "the project name (default: the folder's name when it is a valid name)")
    .action((dir: string, opts: { template: string; project?: string }) => {
      if (!(TEMPLATE_NAMES as readonly string[]).includes(opts.template))
        throw new UsageError(
          `--template: expected one of ${TEMPLATE_NAMES.join(", ")}, got ${JSON.stringify(opts.template)}`,
        );
      const template = opts.template as TemplateName;
      const files = initProject({ template, target: dir, project: opts.project });
      process.stdout.write(
        [
          `created a ${template} project in ${resolve(dir)} (${files.length} files)`,
          "next:",
          ...(dir === "." ? [] : [`  cd ${dir}`]),
          "  tandem validate",
          ...runAtOnce(template).map((line) => `  ${line}`),
          "",
        ].join("\n"),
      );
    });
}
