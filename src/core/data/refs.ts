/** Parsing `name@N`, `name@latest`, `name@sha256:…`, `name@<tag>` and `dataset://` references. */
import { InvalidInputError } from "../errors.js";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const LABEL = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;

export type VersionSelector =
  | { by: "latest" }
  | { by: "number"; version: number }
  | { by: "manifest"; prefix: string }
  | { by: "tag"; label: string };

export interface VersionRef {
  name: string;
  selector: VersionSelector;
}

export function assertDatasetName(name: string): string {
  if (!NAME.test(name)) {
    throw new InvalidInputError(
      `invalid dataset name ${JSON.stringify(name)}: use letters, digits, '.', '_' and '-' (at most 128, starting with a letter or digit)`,
    );
  }
  return name;
}

/** A tag: starts with a letter, so it never looks like a version number or `latest`… which is reserved. */
export function assertTagLabel(label: string): string {
  if (!LABEL.test(label) || label === "latest") {
    throw new InvalidInputError(
      `invalid tag ${JSON.stringify(label)}: start with a letter, then letters, digits, '.', '_' or '-' (not "latest")`,
    );
  }
  return label;
}

/** Parses a reference; `name` alone means `name@latest`, `dataset://` in front is allowed. */
export function parseVersionRef(text: string): VersionRef {
  const ref = text.startsWith("dataset://") ? text.slice("dataset://".length) : text;
  const at = ref.indexOf("@");
  const name = assertDatasetName(at === -1 ? ref : ref.slice(0, at));
  const sel = at === -1 ? "latest" : ref.slice(at + 1);
  if (sel === "latest" || sel === "") return { name, selector: { by: "latest" } };
  if (/^\d+$/.test(sel)) {
    const version = Number(sel);
    if (version < 1 || !Number.isSafeInteger(version))
      throw new InvalidInputError(`invalid version in ${JSON.stringify(text)}: versions start at 1`);
    return { name, selector: { by: "number", version } };
  }
  if (sel.startsWith("sha256:")) {
    const prefix = sel.slice("sha256:".length).toLowerCase();
    if (!/^[0-9a-f]{8,64}$/.test(prefix)) {
      throw new InvalidInputError(
        `invalid manifest hash in ${JSON.stringify(text)}: give sha256: and at least 8 hex digits`,
      );
    }
    return { name, selector: { by: "manifest", prefix } };
  }
  return { name, selector: { by: "tag", label: assertTagLabel(sel) } };
}
