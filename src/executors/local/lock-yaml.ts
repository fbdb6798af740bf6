/**
 * tandem.lock's text as `yaml`'s stringify(value, { sortMapEntries: true, lineWidth: 0 }) writes it,
 * for the values a lock holds most: maps, numbers, booleans, null, and strings of letters, digits,
 * spaces and `_./-` on one line. Anything else (a multi-line command, a list, an empty string, other
 * characters) returns null, and the caller stringifies with `yaml` as before. Why: `yaml` built the
 * 200-step lock of bench/pipeline-overhead in 80-90 ms of CPU in a fresh process (load 15), once per
 * run; this writes it in a few. lock-yaml.test.ts holds the two to the same bytes.
 *
 * The rules are `yaml`'s own for such a string (stringify/stringifyString.ts, plainString): plain,
 * unless it is `-` alone, starts with `- `, starts or ends with a space, or would read back as
 * another type of the core schema (`true`, `1`, `.5`, `null`): then double-quoted, which for these
 * characters needs no escapes. A document marker (`---`, `...` at the start) sends it back to `yaml`.
 */
import { Schema } from "yaml";

/** The core schema's scalar tags other than str, as `yaml` tests a plain string against them. */
const OTHER_TYPES = new Schema({ schema: "core" }).tags.filter(
  (tag) => tag.default && tag.tag !== "tag:yaml.org,2002:str" && tag.test,
);

const SIMPLE = /^[A-Za-z0-9_./ -]+$/;

function scalarString(value: string): string | null {
  if (!SIMPLE.test(value) || value.startsWith("---") || value.startsWith("...")) return null;
  const quoted =
    value === "-" ||
    value.startsWith("- ") ||
    value.startsWith(" ") ||
    value.endsWith(" ") ||
    OTHER_TYPES.some((tag) => tag.test!.test(value));
  return quoted ? `"${value}"` : value;
}

function scalar(value: unknown): string | null {
  if (typeof value === "string") return scalarString(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return null;
    return Object.is(value, -0) ? "-0" : JSON.stringify(value);
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  if (value === null) return "null";
  return null;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;

/** A map's lines at `indent`, keys sorted as sortMapEntries sorts them, or null. */
function mapLines(map: Record<string, unknown>, indent: string, out: string[]): boolean {
  for (const key of Object.keys(map).sort()) {
    const value = map[key];
    const k = scalarString(key);
    if (k === null || value === undefined) return false;
    if (isPlainObject(value)) {
      if (Object.keys(value).length === 0) {
        out.push(`${indent}${k}: {}`);
        continue;
      }
      out.push(`${indent}${k}:`);
      if (!mapLines(value, `${indent}  `, out)) return false;
      continue;
    }
    const v = scalar(value);
    if (v === null) return false;
    out.push(`${indent}${k}: ${v}`);
  }
  return true;
}

/** `stringify(lock, { sortMapEntries: true, lineWidth: 0 })`, or null when the lock holds other values. */
export function lockYaml(lock: Record<string, unknown>): string | null {
  if (Object.keys(lock).length === 0) return null;
  const out: string[] = [];
  return mapLines(lock, "", out) ? `${out.join("\n")}\n` : null;
}
