/**
 * A tandem.yaml's YAML document, parsed once per text in a process. `tandem run` reads the same
 * file three times (the CLI's project, apply's checks, the run's spec), and the `yaml` package
 * takes 50–250 ms for a 200-step spec (about 11 KB) each time, most of the command's spec work.
 * Only `yaml` is imported here: the CLI uses it before it loads anything else.
 */
import { LineCounter, parseDocument, type Document } from "yaml";

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
