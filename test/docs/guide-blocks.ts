/**
 * Reads the blocks of a guide in docs/guides that the guide runner acts on (docs/README.md,
 * "Guides are tests", describes the markers for writers):
 *
 * - ```` ```sh run ```` — a shell block to run (`bash -e`); `exit=N` says it is meant to fail with N;
 *   `needs=mlflow` (comma-separated) names what it needs from the machine; `timeout=S` in seconds.
 * - ```` ```text output ```` (any language) — what the run block before it prints (stdout and stderr).
 * - ```` ```yaml file=tandem.yaml ```` (any language) — written to that path before the next block runs.
 * - `<!-- skip: why -->` on the line(s) before a block — not run; the runner lists it with the reason.
 * - `<!-- continues: other.md -->` anywhere — this guide starts where that guide ends (it is run first).
 *
 * A `sh`/`bash`/`shell` block that is neither run nor skipped is an error, so a new example cannot
 * silently escape the runner.
 */

export type Block =
  | { kind: "run"; line: number; script: string; exit: number; needs: string[]; timeoutS: number; expected?: Expected }
  | { kind: "file"; line: number; path: string; content: string }
  | { kind: "skip"; line: number; reason: string };

export interface Expected {
  line: number;
  text: string;
}

export interface Guide {
  file: string;
  blocks: Block[];
  continues?: string;
  /** Marker errors, each `file:line: message`. */
  errors: string[];
}

const SHELLS = new Set(["sh", "bash", "shell"]);
const DEFAULT_TIMEOUT_S = 180;

/** Parses one guide's markdown (`file` is used in messages and for `continues`). */
export function parseGuide(file: string, markdown: string): Guide {
  const lines = markdown.split("\n");
  const guide: Guide = { file, blocks: [], errors: [] };
  const error = (line: number, message: string) => guide.errors.push(`${file}:${line}: ${message}`);
  let skipReason: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const comment = /^\s*<!--\s*(skip|continues):\s*(.*?)\s*-->\s*$/.exec(text);
    if (comment) {
      if (comment[1] === "skip") skipReason = comment[2];
      else guide.continues = comment[2];
      continue;
    }
    const open = /^(\s*)(`{3,}|~{3,})\s*(.*)$/.exec(text);
    if (!open) {
      if (text.trim() !== "") skipReason = undefined; // a skip marker applies to the block right after it
      continue;
    }
    const fence = open[2]!;
    const [lang = "", ...words] = open[3]!.trim().split(/\s+/);
    const start = i + 1;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.trim().startsWith(fence); i++) body.push(lines[i]!.slice(open[1]!.length));
    if (i >= lines.length) error(start, `the block opened here is never closed`);
    const content = body.join("\n") + "\n";
    const flags = new Map(words.map((w) => (w.includes("=") ? (w.split("=", 2) as [string, string]) : [w, ""])));
    if (skipReason !== undefined) {
      guide.blocks.push({ kind: "skip", line: start, reason: skipReason });
      skipReason = undefined;
    } else if (flags.has("run")) {
      if (!SHELLS.has(lang)) error(start, `only sh/bash blocks can be run (this one is ${lang || "unlabelled"})`);
      const exit = Number(flags.get("exit") ?? 0);
      const timeoutS = Number(flags.get("timeout") ?? DEFAULT_TIMEOUT_S);
      if (!Number.isInteger(exit) || !(timeoutS > 0)) error(start, `exit= and timeout= take numbers`);
      const needs = (flags.get("needs") ?? "").split(",").filter(Boolean);
      guide.blocks.push({ kind: "run", line: start, script: content, exit, needs, timeoutS });
    } else if (flags.has("output")) {
      const previous = guide.blocks.at(-1);
      if (previous?.kind === "skip") continue; // the output of a skipped block is not checked either
      if (previous?.kind !== "run" || previous.expected)
        error(start, "an output block must follow the run block it belongs to");
      else previous.expected = { line: start, text: content };
    } else if (flags.has("file")) {
      const path = flags.get("file")!;
      if (!path || path.startsWith("/") || path.split("/").includes("..")) error(start, `file= takes a relative path`);
      else guide.blocks.push({ kind: "file", line: start, path, content });
    } else if (SHELLS.has(lang)) {
      error(start, "a sh block must be marked `run`, or have `<!-- skip: why -->` on the line before it");
    }
  }
  return guide;
}
