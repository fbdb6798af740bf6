/**
 * `tandem prompts compare NAME@A NAME@B --cases FILE --upstream URL`: both versions answer the same
 * cases on the server (through its outbound guard), and the differences are shown case by case.
 */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { parse } from "yaml";
import type { PromptComparison } from "../core/llm/compare.js";
import { openApi, projectPath, resolveProject, UsageError } from "./context.js";
import { printJson } from "./output.js";

const short = (s: string | null, n = 60) => (s === null ? "(error)" : s.length > n ? `${s.slice(0, n - 1)}…` : s);

function refs(a: string, b: string): { name: string; a: string; b: string } {
  const [name, va] = a.split("@");
  const [nameB, vb] = b.includes("@") ? b.split("@") : [name, b];
  if (!name || !va || !vb) throw new UsageError(`expected NAME@A NAME@B (or NAME@A B), got ${a} ${b}`);
  if (nameB !== name) throw new UsageError(`compare two versions of one prompt: ${a} and ${b} name two prompts`);
  return { name, a: va, b: vb };
}

export function registerPromptCompare(prompts: Command): void {
  prompts
    .command("compare <a> <b>")
    .description("Run two versions on the same cases through one upstream; show the differences case by case.")
    .requiredOption("--cases <file>", "JSON Lines cases: {variables | input, expected, rubric} per line")
    .requiredOption("--upstream <url>", "OpenAI-compatible base URL, e.g. https://api.openai.com/v1")
    .option("--model <model>", "model for versions whose params name none")
    .option("--api-key-secret <name>", "project secret holding the upstream's API key")
    .option(
      "--scorers <yaml>",
      "scorers as tandem/eval takes them, e.g. '[exact, {regex: \"^A\"}]'",
      "[exact, contains]",
    )
    .option("--all", "list every case, not only those whose answer changed")
    .option("--project <project>", "project (default: the current project)")
    .option("--json", "machine output")
    .action(
      async (
        a: string,
        b: string,
        o: {
          cases: string;
          upstream: string;
          model?: string;
          apiKeySecret?: string;
          scorers: string;
          all?: boolean;
          project?: string;
          json?: boolean;
        },
      ) => {
        const r = refs(a, b);
        const cases = await readFile(o.cases, "utf8").catch(() => {
          throw new UsageError(`--cases: cannot read ${o.cases}`);
        });
        let scorers: unknown;
        try {
          scorers = parse(o.scorers) as unknown;
        } catch (error) {
          throw new UsageError(`--scorers: not YAML: ${(error as Error).message}`);
        }
        if (!Array.isArray(scorers)) throw new UsageError("--scorers: expected a list, e.g. [exact, contains]");
        const api = await openApi();
        const c = await api.post<PromptComparison>(
          projectPath(resolveProject(o.project), `/prompts/${encodeURIComponent(r.name)}/compare`),
          {
            a: r.a,
            b: r.b,
            cases,
            cases_file: o.cases,
            upstream: o.upstream,
            model: o.model,
            api_key_secret: o.apiKeySecret,
            scorers,
          },
        );
        if (o.json) return printJson(c);
        const out = (s: string) => process.stdout.write(`${s}\n`);
        const names = Object.keys(c.summary.better);
        for (const m of ["cases", "answer_errors", ...names.map((n) => `${n}.mean`)])
          out(`${m.padEnd(18)} ${String(c.metrics.a[m] ?? "-").padEnd(10)} → ${c.metrics.b[m] ?? "-"}`);
        out(
          `${c.summary.changed} of ${c.cases.length} answers changed; ${names
            .map((n) => `${n}: ${c.summary.better[n]} better, ${c.summary.worse[n]} worse`)
            .join("; ")}`,
        );
        for (const x of c.cases) {
          if (!x.changed && !o.all) continue;
          const mark = names.some((n) => (x.delta[n] ?? 0) < 0)
            ? "-"
            : names.some((n) => (x.delta[n] ?? 0) > 0)
              ? "+"
              : " ";
          out(`${mark} line ${x.line}: ${short(JSON.stringify(x.variables))}`);
          out(
            `    ${c.a}: ${short(x.a.error ?? x.a.answer)}  ${names.map((n) => `${n}=${x.a.scores[n] ?? "err"}`).join(" ")}`,
          );
          out(
            `    ${c.b}: ${short(x.b.error ?? x.b.answer)}  ${names.map((n) => `${n}=${x.b.scores[n] ?? "err"}`).join(" ")}`,
          );
        }
      },
    );
}
