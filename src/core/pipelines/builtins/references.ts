/**
 * Helpers for a builtin's `references(w)` declaration (see contract.ts): each takes the substituted
 * `with:` and a field name and returns that field's reference, or nothing when the field is absent
 * or its value came from an input or a step output (those are keyed by their content already).
 */
import type { ReferenceKind } from "../model.js";
import type { WithReference } from "./contract.js";

/**
 * Values substituted from `${{ inputs.x }}`, `${{ outputs.x }}` or a step output hold a placeholder
 * when the key is made (`<inputs.x>`, `<sha256:…>`), and `<expr>` for any expression when
 * `tandem validate` looks at a spec without running it.
 */
export function isPlaceholder(value: string): boolean {
  return /<(?:inputs\.|outputs\.|sha256:|expr>)/.test(value);
}

/** `with:` as `tandem validate` sees it before a run: every `${{ … }}` is `<expr>` (see isPlaceholder). */
export function staticWith(w: unknown): Record<string, unknown> {
  const walk = (v: unknown): unknown =>
    typeof v === "string"
      ? v.replace(/\$\{\{[\s\S]*?\}\}/g, "<expr>")
      : Array.isArray(v)
        ? v.map(walk)
        : v !== null && typeof v === "object"
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
          : v;
  return (walk(w ?? {}) ?? {}) as Record<string, unknown>;
}

/** `name@ref` names a registered model version or alias; anything else is a path. */
export function isModelRef(value: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*@[A-Za-z0-9_-]+$/.test(value);
}

function field(
  w: Record<string, unknown>,
  name: string,
  kind: ReferenceKind,
  options: { optional?: boolean } = {},
): WithReference[] {
  const value = w[name];
  if (typeof value !== "string" || value === "" || isPlaceholder(value)) return [];
  return [{ path: [name], kind, ref: value, ...(options.optional ? { optional: true } : {}) }];
}

/** A dataset version: `rows@latest`, `dataset://rows@3`, `rows@golden`. */
export const datasetField = (w: Record<string, unknown>, name: string) => field(w, name, "dataset");

/** A file in the project folder (a table, an expectations file). */
export const fileField = (w: Record<string, unknown>, name: string) => field(w, name, "file");

/** A registered version (`m@champion`, `m@3`), else a file: a step output or a project file. */
export function modelOrFileField(w: Record<string, unknown>, name: string): WithReference[] {
  const value = w[name];
  if (typeof value !== "string") return [];
  return field(w, name, isModelRef(value) ? "model" : "file");
}

export const endpointField = (w: Record<string, unknown>, name: string) => field(w, name, "endpoint");

export const policyField = (w: Record<string, unknown>, name: string) => field(w, name, "policy");

/** The field's path as shown and as keyed in `pinned`: `dataset`, `compare[0]`. */
export function fieldName(path: Array<string | number>): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}
