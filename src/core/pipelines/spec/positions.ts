/**
 * From a path in the parsed spec back to file:line:column, so every error names where to look.
 * The `yaml` package keeps each node's source range; a LineCounter turns offsets into positions.
 */
import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from "yaml";

export type SpecPath = Array<string | number>;

export interface SpecIssue {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Dotted field path, e.g. `pipelines.train.steps.fit.needs[0]`. */
  field: string;
  message: string;
}

export function formatPath(path: SpecPath): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? p : `.${p}`;
  }
  return out || "(top level)";
}

export function formatIssue(i: SpecIssue): string {
  return `${i.file}:${i.line}:${i.column}: ${i.field}: ${i.message}`;
}

/** Where a path points in the source. */
export class SpecLocator {
  constructor(
    readonly file: string,
    readonly source: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  private pos(offset: number): { line: number; column: number } {
    const p = this.lines.linePos(offset);
    return { line: p.line, column: p.col };
  }

  /**
   * The node at `path` (its key when `key` is set, e.g. for an unknown key); the deepest existing
   * ancestor when the path goes further than the document (a missing field).
   */
  private find(path: SpecPath, key: boolean): { offset: number; node?: Node } {
    let node: unknown = this.doc.contents;
    let offset = (this.doc.contents as Node | null)?.range?.[0] ?? 0;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) return { offset };
        const keyNode = pair.key as Node;
        if (last && key) return { offset: keyNode.range?.[0] ?? offset, node: keyNode };
        node = pair.value;
        offset = (pair.value as Node | null)?.range?.[0] ?? keyNode.range?.[0] ?? offset;
      } else if (isSeq(node) && typeof seg === "number") {
        const item = node.items[seg] as Node | undefined;
        if (!item) return { offset };
        node = item;
        offset = item.range?.[0] ?? offset;
      } else return { offset };
    }
    return { offset, node: node as Node };
  }

  issue(path: SpecPath, message: string, options: { key?: boolean } = {}): SpecIssue {
    const { offset } = this.find(path, options.key ?? false);
    return { file: this.file, ...this.pos(offset), field: formatPath(path), message };
  }

  /**
   * An issue about the text at `[start, end)` inside the string at `path` (an expression in a
   * `run:` script): found by searching the node's source for that text, so block scalars map to the
   * exact line and column; falls back to the node's start when escapes make the text differ.
   */
  issueInString(path: SpecPath, value: string, start: number, end: number, message: string): SpecIssue {
    const found = this.find(path, false);
    const node = found.node;
    const needle = value.slice(start, end);
    if (node?.range && needle) {
      let nth = 0;
      for (let i = value.indexOf(needle); i >= 0 && i < start; i = value.indexOf(needle, i + 1)) nth++;
      const src = this.source.slice(node.range[0], node.range[1]);
      let at = -1;
      for (let k = 0; k <= nth; k++) {
        at = src.indexOf(needle, at + 1);
        if (at < 0) break;
      }
      if (at >= 0) return { file: this.file, ...this.pos(node.range[0] + at), field: formatPath(path), message };
    }
    return { file: this.file, ...this.pos(found.offset), field: formatPath(path), message };
  }

  /** An issue at a raw source offset (YAML syntax errors). */
  issueAt(offset: number, field: string, message: string): SpecIssue {
    return { file: this.file, ...this.pos(offset), field, message };
  }
}
