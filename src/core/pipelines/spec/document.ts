/**
 * A tandem.yaml's YAML document, parsed once per text in a process. `tandem run` reads the same
 * file three times (the CLI's project, apply's checks, the run's spec), and the `yaml` package
 * takes 50–250 ms for a 200-step spec (about 11 KB) each time, most of the command's spec work.
 * Only `yaml` is imported here: the CLI uses it before it loads anything else.
 */
import { LineCounter, parseDocument, visit, type Alias, type Document } from "yaml";

export interface SpecDocument {
  doc: Document.Parsed;
  /** Offsets to line:column for this document's nodes. */
  lines: LineCounter;
}

/** A few texts: a process reads one spec, or a handful (a server applying several projects). */
const KEEP = 4;
const recent = new Map<string, SpecDocument>();

/**
 * The parsed document of `source` (YAML 1.2 core schema, duplicate keys are errors). Callers only
 * read it: the same object is handed to every caller with the same text.
 */
export function specDocument(source: string): SpecDocument {
  const known = recent.get(source);
  if (known) return known;
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false, schema: "core", uniqueKeys: true });
  const parsed = { doc, lines };
  if (recent.size >= KEEP) recent.delete(recent.keys().next().value!);
  recent.set(source, parsed);
  return parsed;
}

/** Where and why a parsed document has no value. */
export interface ValueProblem {
  offset: number;
  message: string;
}

/**
 * The document's value, or why it has none. A document that parses can still fail to build: an
 * alias whose anchor is not set before it (`run: *nope`), or aliases that expand past `yaml`'s limit
 * (a "billion laughs" file). `toJS` throws a ReferenceError for both, which reached users as an
 * internal error (HTTP 500); here it becomes a problem at the alias's place.
 */
export function documentValue(doc: Document.Parsed): { value: unknown } | ValueProblem {
  try {
    return { value: doc.toJS() };
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    const aliases: Alias[] = [];
    visit(doc, { Alias: (_key, node) => void aliases.push(node) });
    const unresolved = aliases.find((a) => !a.resolve(doc));
    if (unresolved)
      return {
        offset: unresolved.range?.[0] ?? 0,
        message: `unresolved alias *${unresolved.source}: the anchor &${unresolved.source} must be set before the alias`,
      };
    return {
      offset: aliases[0]?.range?.[0] ?? 0,
      message: "aliases expand too far (more than yaml's limit of 100 expansions, a guard against resource exhaustion)",
    };
  }
}
