/**
 * The words of a `run:` script that could name a project path (`node steps/lint.js`): what
 * `tandem validate` checks against the step's inputs and `cache: { files }`. Expressions are blanked
 * out first (an input's path is not a project path); flags, variables, globs, URLs and absolute or
 * parent paths are not candidates.
 */
import { posix } from "node:path";

export interface ScriptWord {
  /** Normalised: `./steps/x.js` and `steps//x.js` become `steps/x.js`, `service/.` becomes `service`. */
  path: string;
  start: number;
  end: number;
}

/** Candidate project paths in a script, each with its first position. */
export function scriptPaths(script: string): ScriptWord[] {
  const blanked = script.replace(/\$\{\{[\s\S]*?\}\}/g, (m) => " ".repeat(m.length));
  const out = new Map<string, ScriptWord>();
  for (const m of blanked.matchAll(/[^\s'"`;|&()<>=,{}]+/g)) {
    const word = m[0];
    if (/^[-$#~]/.test(word) || /[$*?[\]]/.test(word) || word.includes("://") || word.startsWith("/")) continue;
    if (!/[A-Za-z0-9_]/.test(word)) continue;
    const path = posix.normalize(word).replace(/\/+$/, "");
    if (path === "." || path === "" || path.startsWith("../") || path === "..") continue;
    if (!out.has(path)) out.set(path, { path, start: m.index, end: m.index + word.length });
  }
  return [...out.values()];
}

/** Whether `path` is `root` or inside it (both relative, normalised). */
export function isUnder(path: string, root: string): boolean {
  const r = posix.normalize(root).replace(/\/+$/, "");
  return r === "." || path === r || path.startsWith(`${r}/`);
}
