/**
 * Tandem names as Backstage accepts them. Tandem allows up to 100 characters of letters, digits, `_`
 * and `-`; Backstage names allow 63 (Kubernetes object names) and namespaces only lowercase DNS
 * labels. A name that has to change gets a short hash of the original, so two names never merge
 * into one entity (`Churn_Model` and `churn-model` stay apart).
 */
import { createHash } from "node:crypto";

const NAME = /^[A-Za-z0-9]([-_.A-Za-z0-9]*[A-Za-z0-9])?$/;
const NAMESPACE = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const MAX = 63;

const shortHash = (raw: string) => createHash("sha256").update(raw).digest("hex").slice(0, 6);

function fit(raw: string, clean: string, valid: RegExp): string {
  if (clean === raw && valid.test(clean) && clean.length <= MAX) return clean;
  const suffix = `-${shortHash(raw)}`;
  const head = clean.slice(0, MAX - suffix.length).replace(/[-_.]+$/, "");
  return `${head || "x"}${suffix}`;
}

/** An entity name: `prefix-name` (the prefix keeps kinds that share a Backstage kind apart). */
export function entityName(raw: string, prefix = ""): string {
  const full = `${prefix}${raw}`;
  const clean = full.replace(/[^-_.A-Za-z0-9]/g, "-").replace(/^[-_.]+|[-_.]+$/g, "");
  return fit(full, clean, NAME);
}

/** A project's namespace: lowercase, `-` for anything else. */
export function namespaceName(project: string): string {
  const clean = project
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return fit(project, clean, NAMESPACE);
}

export function entityRef(kind: string, namespace: string, name: string): string {
  return `${kind.toLowerCase()}:${namespace}/${name}`;
}
