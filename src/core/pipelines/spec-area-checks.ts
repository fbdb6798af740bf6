/**
 * One set of checks for `tandem validate` and `tandem apply`: the parts of a spec other areas own
 * (monitor definitions, endpoint references, an LLM upstream's address, `policies:` versus the ones
 * in force) are checked by those areas through `SpecChecker`s, and each finding becomes a SpecIssue
 * with file:line:column. Apply refuses on any issue before it stores anything, so a spec `validate`
 * calls valid is one `apply` accepts, and the other way round.
 */
import { ForbiddenError, InvalidInputError } from "../errors.js";
import type { Role } from "../governance/model.js";
import type { SpecIssue, SpecLocator, SpecPath } from "./spec/positions.js";
import type { TandemSpec } from "./spec/schema.js";

/** A finding of an area's check: where in the spec, and what is wrong there. */
export interface SpecProblem {
  path: SpecPath;
  message: string;
  /** A warning does not stop `apply` (e.g. "applying this needs an admin"). (default false) */
  warning?: boolean;
  /** A refusal for safety (an address the outbound guard refuses): apply answers 403. (default false) */
  forbidden?: boolean;
}

export interface SpecCheckContext {
  project: string;
  /** The caller's role in the project, for checks that depend on it (null: unknown). */
  role: Role | null;
}

/** An area's own checks of its part of a spec; must not change anything. */
export type SpecChecker = (spec: TandemSpec, context: SpecCheckContext) => Promise<SpecProblem[]>;

/**
 * `monitors.flights-drift.checks[5].latency.p95_ms` → its path, given the prefix the caller knows
 * (`["monitors", "flights-drift"]`), so a name with dots in it stays one segment.
 */
export function pathOfField(prefix: SpecPath, field: string): SpecPath {
  const head = prefix.map((p) => (typeof p === "number" ? `[${p}]` : p)).join(".");
  const rest = field.startsWith(head) ? field.slice(head.length) : "";
  const path: SpecPath = [...prefix];
  for (const m of rest.matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)) path.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return path;
}

/**
 * An area's domain error (`monitors.x.checks[5].latency.p95_ms: required …`) as a problem at its
 * field: the text before the first ": " is the field when it starts with `prefix`.
 */
export function problemOf(prefix: SpecPath, error: unknown): SpecProblem | null {
  if (!(error instanceof InvalidInputError) && !(error instanceof ForbiddenError)) return null;
  const head = prefix.join(".");
  const colon = error.message.indexOf(": ");
  const field = colon > 0 ? error.message.slice(0, colon) : "";
  const forbidden = error instanceof ForbiddenError;
  if (field === head || field.startsWith(`${head}.`) || field.startsWith(`${head}[`))
    return { path: pathOfField(prefix, field), message: error.message.slice(colon + 2), forbidden };
  return { path: prefix, message: error.message, forbidden };
}

/** Runs every checker; their problems become issues and warnings with positions. */
export async function areaFindings(
  checkers: readonly SpecChecker[],
  spec: TandemSpec,
  context: SpecCheckContext,
  at: SpecLocator,
): Promise<{ issues: SpecIssue[]; warnings: SpecIssue[]; forbidden: boolean }> {
  const issues: SpecIssue[] = [];
  const warnings: SpecIssue[] = [];
  let forbidden = false;
  for (const check of checkers)
    for (const p of await check(spec, context)) {
      (p.warning ? warnings : issues).push(at.issue(p.path, p.message));
      forbidden ||= (p.forbidden ?? false) && !p.warning;
    }
  return { issues, warnings, forbidden };
}
