/**
 * What a prompt move changes (its scope) and which policies govern it: one answer for setting and
 * deleting a prompt alias, deploying a prompt on an endpoint, and the alert-driven rollback.
 */
import type { PolicySpec } from "../registry/policy.js";
import { emptyScope, governingPolicies, type TargetScope } from "../registry/policy-scope.js";

/**
 * The policies that govern giving prompt `name` the target: those whose `applies_to.prompts` names
 * it (`support`, `support@production`, `*`), or the endpoint, and those without `applies_to`
 * (they govern everything) — the registry's one rule (policy-scope.ts). `named` only adds.
 */
export function promptPolicies(
  all: Record<string, PolicySpec>,
  scope: TargetScope,
  named: string | null = null,
): Record<string, PolicySpec> {
  return Object.fromEntries(governingPolicies(all, scope, [named]).map((g) => [g.name, g.spec]));
}

/**
 * What giving prompt `name` the target changes: the alias, or an endpoint serving the prompt. An
 * endpoint slot that follows (or followed) aliases serves their traffic, so a deploy into it, pinned
 * or not, is also a move of those aliases (`follows`): a policy on `support@production` governs
 * pinning `support@7` on the endpoint that served production.
 */
export function promptScope(
  name: string,
  target: { kind: "alias" | "endpoint"; name: string },
  follows: string[] = [],
): TargetScope {
  const scope: TargetScope = {
    ...emptyScope(name),
    prompts:
      target.kind === "alias"
        ? [`${name}@${target.name}`]
        : [`${name}@*`, ...[...new Set(follows)].map((alias) => `${name}@${alias}`)],
  };
  if (target.kind === "endpoint") scope.endpoints.push({ endpoint: target.name, slot: "primary", percent: null });
  return scope;
}
