/**
 * Which policies govern a move. A caller never picks them: every policy whose `applies_to` matches
 * something the move changes governs it, a policy without `applies_to` governs everything, and a
 * policy the caller names (`--policy`, an endpoint's `policy`) is added on top — never instead.
 *
 * What a move changes (its scope) is wider than its target: moving alias `champion` also changes
 * every endpoint slot that follows `champion`; deploying into an endpoint slot also touches the
 * alias that slot followed before and the one it follows after. So every path to production
 * (alias set, deploy pinned or following, promote, rollback, `tandem/register`, MLflow's
 * set-registered-model-alias and transition-stage) meets the same policies.
 *
 * Pure, and shared with prompts: a prompt alias move is a scope with `prompts: ["support@production"]`.
 */
import type { AppliesTo, PolicySpec } from "../pipelines/spec/policies.js";
import { matchesPattern } from "./policy-grammar.js";

export type Slot = "primary" | "canary" | "shadow";

/** One endpoint slot a move changes; `percent` is the canary's share of traffic (null elsewhere). */
export interface EndpointSlot {
  endpoint: string;
  slot: Slot;
  percent: number | null;
}

export interface TargetScope {
  /** The model (or prompt) whose version moves. */
  subject: string;
  /** Alias names this move sets: directly, or through an endpoint slot that follows (or followed) them. */
  aliases: string[];
  /** Endpoint slots this move changes. */
  endpoints: EndpointSlot[];
  /** MLflow stages (`Staging`, `Production`) this move sets. */
  stages: string[];
  /** `prompt@alias` this move sets (prompt targets). */
  prompts: string[];
}

export function emptyScope(subject: string): TargetScope {
  return { subject, aliases: [], endpoints: [], stages: [], prompts: [] };
}

/** Why a policy governs: shown in decision records so a reader sees where each check came from. */
export interface GoverningPolicy {
  name: string;
  spec: PolicySpec;
  reason: string;
}

function aliasMatch(pattern: string, subject: string, alias: string): boolean {
  return pattern.includes("@") ? matchesPattern(pattern, `${subject}@${alias}`) : matchesPattern(pattern, alias);
}

function promptMatch(pattern: string, promptRef: string): boolean {
  return pattern.includes("@")
    ? matchesPattern(pattern, promptRef)
    : matchesPattern(pattern, promptRef.slice(0, promptRef.lastIndexOf("@")));
}

/** What of `scope` the policy's `applies_to` names, as a reason; null when it governs none of it. */
export function governsReason(appliesTo: AppliesTo | undefined, scope: TargetScope): string | null {
  if (!appliesTo) return "no applies_to: governs every alias, endpoint, stage and prompt";
  for (const p of appliesTo.aliases ?? [])
    for (const a of scope.aliases) if (aliasMatch(p, scope.subject, a)) return `applies_to.aliases ${p} (${a})`;
  for (const p of appliesTo.endpoints ?? [])
    for (const e of scope.endpoints)
      if (matchesPattern(p, e.endpoint)) return `applies_to.endpoints ${p} (${e.endpoint} ${e.slot})`;
  for (const s of appliesTo.stages ?? []) if (scope.stages.includes(s)) return `applies_to.stages ${s}`;
  for (const p of appliesTo.prompts ?? [])
    for (const ref of scope.prompts) if (promptMatch(p, ref)) return `applies_to.prompts ${p} (${ref})`;
  return null;
}

/**
 * Every policy that governs `scope`, in declaration order, plus those the caller named (`added`,
 * which must exist: see `unknownPolicies`). Nothing a caller passes can remove one.
 */
export function governingPolicies(
  policies: Record<string, PolicySpec>,
  scope: TargetScope,
  added: ReadonlyArray<string | null | undefined> = [],
): GoverningPolicy[] {
  const named = new Set(added.filter((n): n is string => typeof n === "string" && n !== ""));
  const out: GoverningPolicy[] = [];
  for (const [name, spec] of Object.entries(policies)) {
    const reason = governsReason(spec.applies_to, scope);
    if (reason) out.push({ name, spec, reason });
    else if (named.has(name)) out.push({ name, spec, reason: "named by the request (adds its checks)" });
  }
  return out;
}

/** Names the caller gave that the project does not declare (a typo must not silently add nothing). */
export function unknownPolicies(
  policies: Record<string, PolicySpec>,
  added: ReadonlyArray<string | null | undefined>,
): string[] {
  // Own keys only: `"constructor" in policies` is true of any object, and let such a name add nothing.
  return added.filter((n): n is string => typeof n === "string" && n !== "" && !Object.hasOwn(policies, n));
}

/** Whether an `approvals.for_alias` requirement applies to this scope. */
export function forAliasApplies(forAlias: string | undefined, scope: TargetScope): boolean {
  return forAlias === undefined || scope.aliases.includes(forAlias);
}

/** A scope's short description for messages: `alias champion`, `endpoint prod (canary 10%)`. */
export function describeScope(scope: TargetScope): string {
  const parts = [
    ...scope.aliases.map((a) => `alias ${a}`),
    ...scope.endpoints.map((e) => `endpoint ${e.endpoint} (${e.slot}${e.percent !== null ? ` ${e.percent}%` : ""})`),
    ...scope.stages.map((s) => `stage ${s}`),
    ...scope.prompts.map((p) => `prompt ${p}`),
  ];
  return parts.join(", ") || "nothing governed";
}
