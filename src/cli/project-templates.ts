/**
 * The project templates of `tandem init` (the `templates/` folder beside `src/` and `dist/`): which
 * exist, their files, and the template's tandem.yaml with another project name.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDocument } from "yaml";
import { NAME_PATTERN } from "../core/pipelines/spec/name-pattern.js";
import { UsageError } from "./context.js";

export const TEMPLATE_NAMES = ["classification", "service", "llm"] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

/** What each template is, as `tandem init --help` and the Backstage template say it. */
export const TEMPLATE_INFO: Record<
  TemplateName,
  {
    title: string;
    description: string;
    main: string;
    type: string;
    /** How to run `main` at once, when more than `tandem run MAIN` (default that). */
    runAtOnce?: string[];
  }
> = {
  classification: {
    title: "Tandem classification project",
    description:
      "A binary classifier: generated data → validate → train → evaluate → register under a policy → deploy, a drift monitor and a retrain on its alert.",
    main: "train",
    type: "ml-pipeline",
  },
  service: {
    title: "Tandem software service",
    description: "A small HTTP service released through a Tandem pipeline: build → test → deploy record (DORA).",
    main: "release",
    type: "service",
  },
  llm: {
    title: "Tandem LLM application",
    description:
      "A versioned prompt evaluated by tandem/eval against an OpenAI-compatible upstream (a local stand-in until you point it at a real model), whose `production` alias a policy gates on the evaluation.",
    main: "evaluate",
    type: "llm-app",
    // The stand-in listens on loopback, which the outbound guard refuses unless allowed.
    runAtOnce: ["node standin/server.mjs &", "TANDEM_OUTBOUND_ALLOW=127.0.0.1 tandem run evaluate"],
  },
};

/** The commands that run a template's main pipeline at once, from its folder. */
export function runAtOnce(name: TemplateName): string[] {
  return TEMPLATE_INFO[name].runAtOnce ?? [`tandem run ${TEMPLATE_INFO[name].main}`];
}

/** `templates/` of this installation (dist/cli/… and src/cli/… are both two levels below the root). */
export function templatesRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "../../templates");
}

export function templateDir(name: string): string {
  if (!(TEMPLATE_NAMES as readonly string[]).includes(name))
    throw new UsageError(`--template: expected one of ${TEMPLATE_NAMES.join(", ")}, got ${JSON.stringify(name)}`);
  const dir = join(templatesRoot(), name);
  if (!existsSync(join(dir, "tandem.yaml")))
    throw new UsageError(`the ${name} template is not available in this installation (no ${dir}/tandem.yaml)`);
  return dir;
}

/** Every file of a template, as paths relative to its folder, sorted. */
export function templateFiles(dir: string): string[] {
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => {
      const full = join(d, e.name);
      if (e.name === ".tandem" || e.name === "node_modules") return [];
      return e.isDirectory() ? walk(full) : [relative(dir, full)];
    });
  return walk(dir).sort();
}

/** A project name from a folder name: the folder's own name when it is a valid one, else null. */
export function projectNameFor(dir: string): string | null {
  const name = basename(resolve(dir));
  return NAME_PATTERN.test(name) ? name : null;
}

/** The template's tandem.yaml with `project:` set to `project` (comments and layout kept). */
export function specWithProject(dir: string, project: string): string {
  const doc = parseDocument(readFileSync(join(dir, "tandem.yaml"), "utf8"));
  doc.set("project", project);
  return doc.toString({ lineWidth: 0 });
}
