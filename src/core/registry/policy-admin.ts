/**
 * Policies are governance, not pipeline configuration: a project's policies in force are kept by the
 * registry, and only an admin changes them. A spec whose `policies:` differ from them in any way —
 * compared as canonical JSON (keys sorted, defaults filled), an absent `policies:` counting as
 * removing them all — may be applied only by an admin; anyone else gets 403 naming the policies that
 * differ. `tandem policies diff` shows the same comparison before an apply.
 */
import { ForbiddenError } from "../errors.js";
import { roleAtLeast, type Role } from "../governance/model.js";
import type { PolicySpec } from "../pipelines/spec/policies.js";

/** JSON with object keys sorted at every level, so equal policies compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  return value;
}

export interface PolicyChange {
  policy: string;
  change: "added" | "removed" | "changed";
  before: PolicySpec | null;
  after: PolicySpec | null;
}

/** What replacing `current` by `next` changes, policy by policy (empty: nothing). */
export function diffPolicies(current: Record<string, PolicySpec>, next: Record<string, PolicySpec>): PolicyChange[] {
  const out: PolicyChange[] = [];
  // Own keys only: a policy may be named constructor or toString, which `in` and `[]` find on any
  // object (an added one was no change, so it was never stored, and a member could apply it).
  for (const [name, before] of Object.entries(current)) {
    const after = Object.hasOwn(next, name) ? next[name] : undefined;
    if (after === undefined) out.push({ policy: name, change: "removed", before, after: null });
    else if (canonicalJson(before) !== canonicalJson(after))
      out.push({ policy: name, change: "changed", before, after });
  }
  for (const [name, after] of Object.entries(next))
    if (!Object.hasOwn(current, name)) out.push({ policy: name, change: "added", before: null, after });
  return out;
}

/** `release (changed), smoke (added)` */
export function describeChanges(changes: PolicyChange[]): string {
  return changes.map((c) => `${c.policy} (${c.change})`).join(", ");
}

/** Who asks to change policies: a user (null for an unknown git pusher) and their role in the project. */
export interface PolicyChanger {
  user: string | null;
  role: Role | null;
}

/**
 * Throws ForbiddenError (403) unless `who` is an admin of the project or nothing changes. The message
 * names every policy that differs; `details.changes` carries the diff.
 */
export function assertMayChangePolicies(who: PolicyChanger, project: string, changes: PolicyChange[]): void {
  if (changes.length === 0 || roleAtLeast(who.role, "admin")) return;
  const whom = who.user === null ? "an unknown git pusher" : `${who.user} (${who.role ?? "no role"})`;
  throw new ForbiddenError(
    `only an admin of project ${project} may change its policies; this spec changes ${describeChanges(changes)}, and ${whom} is not one. Keep policies: as they are (tandem policies diff shows the difference) or ask an admin to apply it`,
    { project, changes: changes.map((c) => ({ policy: c.policy, change: c.change })) },
  );
}

/** The audit summary of a change: each policy's before and after, as canonical JSON. */
export function auditDiff(changes: PolicyChange[]): Record<string, unknown> {
  return {
    changes: changes.map((c) => ({
      policy: c.policy,
      change: c.change,
      before: c.before === null ? null : canonicalJson(c.before),
      after: c.after === null ? null : canonicalJson(c.after),
    })),
  };
}
