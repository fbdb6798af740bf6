/**
 * A prompt alias rollback is a decision, by the registry's rule (core/registry/rollback.ts):
 * - a member may return the alias to a version that got there through a passing decision and has
 *   no rejection since (an approver's latest word on it is not `reject`);
 * - anything else needs an approver who is not the version's author (an override, recorded);
 * - what the platform does by an admin's rule (a policy's `rollback.on_alert`, serving's rollback
 *   after an SLO breach) passes as `automatic`.
 * Pure: the caller reads the alias history and the approvals, and stores the decision with the move.
 */
import { isRole, roleAtLeast } from "../governance/model.js";
import type { CheckResult } from "../registry/model.js";
import { verdictOf } from "../registry/policy.js";
import type { PromptAliasEvent, PromptApproval, PromptVersion } from "./model.js";
import type { PromptDecision } from "./prompts.js";

export interface PromptRollbackInput {
  version: PromptVersion;
  /** What is rolled back: `alias production`, `endpoint bot`. */
  target: string;
  /** How the version passed for the target (null: it never did). */
  reached: string | null;
  approvals: PromptApproval[];
  actor: string;
  /** The actor's role in the project (null: unknown, treated as member). */
  role: string | null;
  /** The platform's own rollback by an admin's rule (never from a request). */
  automatic?: { reason: string };
}

const check = (name: string, outcome: CheckResult["outcome"], detail: string): CheckResult => ({
  policy: "-",
  kind: "rollback",
  check: name,
  value: null,
  threshold: null,
  outcome,
  detail,
});

/** How `version` reached the alias through a passing decision, from the alias history; null if never. */
export function reachedAlias(history: PromptAliasEvent[], version: number): string | null {
  const passed = (e: PromptAliasEvent) => (e.decision as { verdict?: string } | null)?.verdict === "pass";
  const event = history.filter((e) => e.toVersion === version && passed(e)).at(-1);
  return event ? `${event.action} by ${event.actor} at ${new Date(event.at).toISOString()}` : null;
}

export function decidePromptRollback(input: PromptRollbackInput): PromptDecision {
  const { version: v, target } = input;
  const ref = `${v.name}@${v.version}`;
  if (input.automatic)
    return { verdict: "pass", checks: [check("automatic rollback", "pass", input.automatic.reason)], policies: [] };
  const reached = `reached ${target} through a passing decision`;
  const checks: CheckResult[] = [
    input.reached
      ? check(reached, "pass", input.reached)
      : check(reached, "fail", `no passing decision gave ${target} to ${ref}`),
  ];
  const latest = new Map<string, PromptApproval>();
  for (const a of [...input.approvals].sort((x, y) => x.at - y.at)) latest.set(a.userName, a);
  const rejections = [...latest.values()].filter((a) => a.decision === "reject");
  checks.push(
    rejections.length
      ? check(
          "no rejection since",
          "fail",
          rejections.map((a) => `rejected by ${a.userName}${a.comment ? `: ${a.comment}` : ""}`).join("; "),
        )
      : check("no rejection since", "pass", "no approver's latest word is reject"),
  );
  if (checks.every((c) => c.outcome === "pass")) return { verdict: "pass", checks, policies: [] };
  const approver = input.role !== null && isRole(input.role) && roleAtLeast(input.role, "approver");
  const name = "otherwise an approver who is not the author";
  if (!approver) checks.push(check(name, "fail", `${input.actor} is ${input.role ?? "not an approver"}`));
  else if (input.actor === v.author) checks.push(check(name, "fail", `${input.actor} created ${ref}`));
  else {
    // The approver's word replaces the failed checks; they stay in the record for the reader.
    for (const c of checks) c.outcome = c.outcome === "fail" ? "pass" : c.outcome;
    checks.push(check(name, "pass", `override by ${input.role} ${input.actor}`));
  }
  return { verdict: verdictOf(checks), checks, policies: [] };
}
