/**
 * `name@N`, `name@vN`, `name@latest`, `name@<alias>` and a bare `name` (latest). Names follow the
 * project-wide name rule; aliases must not look like a version number, or `name@3` would be ambiguous.
 */
import { InvalidInputError } from "../errors.js";
import type { ModelRef } from "./model.js";

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$/;
const ALIAS = /^[a-zA-Z_][a-zA-Z0-9_-]{0,63}$/;

export function checkModelName(name: string): void {
  if (!NAME.test(name)) {
    throw new InvalidInputError(
      `model name ${JSON.stringify(name)} is not valid: use letters, digits, '.', '_' or '-' (at most 100, starting with a letter or digit)`,
    );
  }
}

/** Aliases start with a letter or '_' (so never a number), then letters, digits, '_' or '-'; `latest` is reserved. */
export function checkAlias(alias: string): void {
  if (!ALIAS.test(alias) || alias === "latest" || /^v\d+$/.test(alias)) {
    throw new InvalidInputError(
      `alias ${JSON.stringify(alias)} is not valid: start with a letter or '_', then letters, digits, '_' or '-' (at most 64); "latest" and "v<N>" are reserved`,
    );
  }
}

export function parseModelRef(ref: string): ModelRef {
  const at = ref.lastIndexOf("@");
  const name = at < 0 ? ref : ref.slice(0, at);
  checkModelName(name);
  if (at < 0) return { name, selector: { kind: "latest" } };
  const sel = ref.slice(at + 1);
  if (sel === "")
    throw new InvalidInputError(
      `model reference ${JSON.stringify(ref)}: nothing after '@' (expected a version number, "latest" or an alias)`,
    );
  if (sel === "latest") return { name, selector: { kind: "latest" } };
  const num = /^v?(\d+)$/.exec(sel);
  if (num) {
    const version = Number(num[1]);
    if (!Number.isSafeInteger(version) || version < 1)
      throw new InvalidInputError(`model reference ${JSON.stringify(ref)}: versions start at 1`);
    return { name, selector: { kind: "number", version } };
  }
  checkAlias(sel);
  return { name, selector: { kind: "alias", alias: sel } };
}

export function formatRef(name: string, version: number): string {
  return `${name}@${version}`;
}
