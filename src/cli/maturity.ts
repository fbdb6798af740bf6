import type { Command } from "commander";
import { openApi, projectPath, resolveProject } from "./context.js";
import { printJson } from "./output.js";

interface EvidenceWire {
  kind: string;
  id: string;
  href: string;
  note: string;
}
export interface MaturityWire {
  project: string;
  level: 0 | 1 | 2;
  passed: number;
  total: number;
  criteria: Array<{
    id: string;
    name: string;
    level: 1 | 2;
    passed: boolean;
    evidence: EvidenceWire[];
    next_step: string | null;
  }>;
  signs: Array<{ id: string; name: string; evidence: EvidenceWire[] }>;
}

/** The one line the quickstart and the Overview quote: `maturity: level 2 (11/11 criteria)`. */
export const maturityLine = (m: Pick<MaturityWire, "level" | "passed" | "total">) =>
  `maturity: level ${m.level} (${m.passed}/${m.total} criteria)`;

export function formatMaturity(m: MaturityWire): string {
  const lines = [`${maturityLine(m)} — project ${m.project}`];
  for (const level of [1, 2] as const) {
    lines.push("", `Level ${level}`);
    for (const c of m.criteria.filter((x) => x.level === level)) {
      lines.push(`  ${c.passed ? "✓" : "✗"} ${c.name}`);
      for (const e of c.evidence.slice(0, 2)) lines.push(`      ${e.note} (${e.href})`);
      if (c.next_step) lines.push(`      next: ${c.next_step}`);
    }
  }
  if (m.signs.length > 0) {
    lines.push("", "Level-0 signs");
    for (const s of m.signs) {
      lines.push(`  ! ${s.name}`);
      for (const e of s.evidence.slice(0, 2)) lines.push(`      ${e.note} (${e.href})`);
    }
  }
  return lines.join("\n");
}

export function registerMaturityCommand(program: Command): void {
  program
    .command("maturity")
    .description(
      "The project's MLOps maturity (Google's levels 0–2) graded from what ran: each criterion with its evidence and next step. Exits 0 whatever the level.",
    )
    .option("--project <project>", "project (default: the current project)")
    .option("--json", "machine output")
    .action(async (opts: { project?: string; json?: boolean }) => {
      const api = await openApi();
      const m = await api.get<MaturityWire>(projectPath(resolveProject(opts.project), "/maturity"));
      if (opts.json) printJson(m);
      else console.log(formatMaturity(m));
    });
}
