import { resolve } from "node:path";
/**
 * `tandem policies show | diff`: the project's policies in force, and what applying a tandem.yaml
 * would change in them (only an admin may change them; `tandem apply` by anyone else answers 403).
 */
import type { Command } from "commander";
import { stringify } from "yaml";
import { GATES_READ_API } from "./api-scopes.js";
import { openApi, projectPath, resolveProject } from "./context.js";
import { readSpec } from "./pipelines.js";
import { printJson } from "./output.js";

interface DiffWire {
  project: string;
  changes: Array<{ policy: string; change: "added" | "removed" | "changed"; before: unknown; after: unknown }>;
  your_role: string | null;
  may_apply: boolean;
}

/** A line diff of two texts (longest common subsequence; policies are a few dozen lines). */
export function lineDiff(before: string, after: string): string[] {
  const a = before ? before.split("\n") : [];
  const b = after ? after.split("\n") : [];
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(`  ${a[i++]}`);
      j++;
    } else if (j < b.length && (i === a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) out.push(`+ ${b[j++]}`);
    else out.push(`- ${a[i++]}`);
  }
  return out;
}

const yamlOf = (value: unknown): string => (value === null ? "" : stringify(value).trimEnd());

export function registerPolicyCommands(program: Command): void {
  const policies = program
    .command("policies")
    .description("The project's policies: governance only an admin changes (tandem apply checks it).");
  policies
    .command("show")
    .description("The policies in force, as YAML.")
    .option("--project <project>", "project (default: the spec's project:)")
    .option("--json", "machine output")
    .action(async (opts: { project?: string; json?: boolean }) => {
      const api = await openApi(GATES_READ_API);
      const { policies: inForce } = await api.get<{ policies: Record<string, unknown> }>(
        projectPath(resolveProject(opts.project), "/policies"),
      );
      if (opts.json) printJson(inForce);
      else process.stdout.write(Object.keys(inForce).length ? `${stringify(inForce)}` : "(no policies)\n");
    });
  policies
    .command("diff [file]")
    .description("What applying tandem.yaml would change in the policies in force, and whether you may apply it.")
    .option("--project <project>", "project (default: the spec's project:)")
    .option("--json", "machine output")
    .action(async (file: string | undefined, opts: { project?: string; json?: boolean }) => {
      const api = await openApi();
      const spec = readSpec(file ?? "tandem.yaml");
      const project = resolveProject(opts.project, resolve(spec.file));
      const diff = await api.post<DiffWire>(projectPath(project, "/policies/diff"), {
        source: spec.source,
        file: spec.file,
      });
      if (opts.json) return printJson(diff);
      if (diff.changes.length === 0) {
        process.stdout.write(`${spec.file} leaves the policies of project ${project} as they are\n`);
        return;
      }
      for (const c of diff.changes) {
        process.stdout.write(`policy ${c.policy}: ${c.change}\n`);
        for (const line of lineDiff(yamlOf(c.before), yamlOf(c.after))) process.stdout.write(`  ${line}\n`);
      }
      process.stdout.write(
        diff.may_apply
          ? `you are an admin of ${project}: tandem apply would make these the policies in force\n`
          : `only an admin of ${project} may apply this (you are ${diff.your_role ?? "not a member"}): tandem apply would answer 403\n`,
      );
    });
}
