/**
 * The two checks about people and production: approvals (four-eyes) and canaries.
 *
 * - `approvals: {role, count, for_alias, unless}` — distinct users whose latest word on the version
 *   is `approve` and whose role was at least `role`. The author — the person behind the version,
 *   also when a pipeline registered it on their behalf — never counts; the check lists them under
 *   `excluded` with the reason. Missing approvals leave the check `pending`; a latest `reject` from
 *   an eligible user fails it (always, also when `unless` holds). `for_alias: A` limits the
 *   requirement to moves that set A: the alias itself, or an endpoint slot that follows (or followed) A.
 *   `unless` is the admin's automation rule: when all of its checks pass, no human is needed.
 * - `canary: {endpoint, max_percent, min_requests, max_error_rate_increase, max_p95_ratio}` — the
 *   version held these limits (the policy's, not the endpoint's SLO) over all its requests as the
 *   endpoint's canary, and serving never stopped it. A move that only puts it in that canary slot,
 *   at most `max_percent` of traffic, passes: that move is the canary.
 */
import { isRole, roleAtLeast, SYSTEM_USER, type Role } from "../governance/model.js";
import type { PolicySpec } from "../pipelines/spec/policies.js";
import type { Approval, CheckResult } from "./model.js";
import type { PolicyContext, PolicyEvidence } from "./policy.js";
import { forAliasApplies, type TargetScope } from "./policy-scope.js";
import { assertNever } from "../errors.js";
import { DEFAULT_SLO, type SloSpec } from "../serving/model.js";
import { judgeArms, type ArmStats } from "../serving/slo.js";

type Requirement = PolicySpec["require"][number];
type ApprovalsReq = Extract<Requirement, { approvals: unknown }>["approvals"];
type CanaryReq = Extract<Requirement, { canary: unknown }>["canary"];
type Waiver = NonNullable<ApprovalsReq["unless"]>[number];

/**
 * The role that could approve a move in `scope` under `policies`: the highest `approvals.role` that
 * applies to it, approver when none does (a policy without approvals still wants a person who may
 * approve to stand in for its checks where no version is there to meet them: an alias deleted).
 */
export function approvalRole(policies: Record<string, PolicySpec>, scope: TargetScope): Role {
  let role: Role = "approver";
  for (const spec of Object.values(policies))
    for (const req of spec.require ?? [])
      if (
        "approvals" in req &&
        forAliasApplies(req.approvals.for_alias, scope) &&
        !roleAtLeast(role, req.approvals.role)
      )
        role = req.approvals.role;
  return role;
}

/** Requests, errors, p95 latency and latency histogram of one slot (the canary judge's arm). */
export type SlotStats = ArmStats;

/** What serving recorded of a version as one endpoint's canary (all its time in that slot). */
export interface CanaryStats {
  /** Whether the version ever took this endpoint's canary slot. */
  served: boolean;
  /** Why serving stopped it (an SLO breach), when it did. */
  failed: string | null;
  canary: SlotStats;
  /** The primary over the same time, for comparison. */
  primary: SlotStats | null;
}

/** The author of a version registered on behalf of nobody known and no git identity (a polled commit). */
export const UNKNOWN_AUTHOR = "(unknown)";

/**
 * Whether a version's author is a person Tandem knows: a user name. A git identity
 * (`github:erin-gh`), UNKNOWN_AUTHOR, and `system` (what such versions were given before) are not:
 * any approver may be the one who pushed.
 */
export function authorIsKnown(author: string): boolean {
  return author !== SYSTEM_USER && author !== UNKNOWN_AUTHOR && !author.includes(":");
}

export function checkApprovals(
  p: PolicyContext,
  req: ApprovalsReq,
  e: PolicyEvidence,
  checkWaiver: (w: Waiver) => CheckResult[],
): CheckResult | null {
  if (!forAliasApplies(req.for_alias, e.scope)) return null;
  const required: Role = isRole(req.role) ? req.role : "approver";
  const latest = new Map<string, Approval>();
  for (const a of [...e.approvals].sort((x, y) => x.at - y.at)) latest.set(a.userName, a);
  const excluded = [{ user: e.author, reason: e.authorNote || `registered this version` }];
  // Four-eyes with an author nobody can name: one of the approvers may be them, so one more is needed.
  const unknownAuthor = !authorIsKnown(e.author);
  const count = req.count + (unknownAuthor ? 1 : 0);
  const unknownNote = unknownAuthor
    ? `; the author ${e.author} is no known user and any approver may be them, so ${count} approvals are needed`
    : "";
  const isExcluded = (user: string) => excluded.some((x) => x.user === user);
  const words = [...latest.values()];
  const eligible = words.filter((a) => !isExcluded(a.userName) && isRole(a.role) && roleAtLeast(a.role, required));
  const approvers = eligible.filter((a) => a.decision === "approve").map((a) => a.userName);
  const rejecters = eligible.filter((a) => a.decision === "reject");
  const ignored = words.filter((a) => !eligible.includes(a)).map((a) => a.userName);
  const check = `approvals by ${required} (author excluded)${req.for_alias ? ` for ${req.for_alias}` : ""}`;
  const waiver = req.unless?.flatMap(checkWaiver);
  const base = {
    policy: p.name,
    kind: "approvals" as const,
    check,
    value: approvers.length,
    threshold: count,
    excluded,
    ...(waiver ? { waiver } : {}),
  };
  const ignoredNote = ignored.length ? `; not counted: ${ignored.join(", ")}` : "";
  if (rejecters.length > 0) {
    const r = rejecters[0]!;
    return { ...base, outcome: "fail", detail: `rejected by ${r.userName}${r.comment ? `: ${r.comment}` : ""}` };
  }
  if (approvers.length >= count)
    return { ...base, outcome: "pass", detail: `approved by ${approvers.join(", ")}${ignoredNote}${unknownNote}` };
  if (waiver && waiver.every((w) => w.outcome === "pass"))
    return {
      ...base,
      outcome: "pass",
      detail: `no human needed: the policy's unless rule holds (${waiver.map((w) => w.check).join("; ")})`,
    };
  const missing = count - approvers.length;
  const unmet = waiver?.filter((w) => w.outcome !== "pass").map((w) => `${w.check}: ${w.detail}`) ?? [];
  return {
    ...base,
    outcome: "pending",
    detail:
      `awaiting ${missing} approval${missing > 1 ? "s" : ""} by ${required} (not ${e.author})` +
      (approvers.length ? `; approved by ${approvers.join(", ")}` : "") +
      ignoredNote +
      unknownNote +
      (unmet.length ? `; unless rule not met: ${unmet.join("; ")}` : ""),
  };
}

export function checkCanary(p: PolicyContext, req: CanaryReq, e: PolicyEvidence): CheckResult {
  const check = `held its canary on ${req.endpoint} (≥ ${req.min_requests} requests per arm, error rate +${req.max_error_rate_increase} at most, p95 ×${req.max_p95_ratio} at most, once significant)`;
  const result = (outcome: CheckResult["outcome"], detail: string, value: number | null = null): CheckResult => ({
    policy: p.name,
    kind: "canary",
    check,
    value,
    threshold: req.min_requests,
    outcome,
    detail,
    evidence: [
      {
        kind: "canary",
        id: req.endpoint,
        source: null,
        dataset: null,
        runId: null,
        pipelineRunId: null,
        step: null,
        by: null,
        used: true,
        note: detail,
      },
    ],
  });
  const slots = e.scope.endpoints.filter((s) => s.endpoint === req.endpoint);
  if (slots.length > 0 && slots.every((s) => s.slot === "canary")) {
    const percent = Math.max(...slots.map((s) => s.percent ?? 100));
    return percent <= req.max_percent
      ? result("pass", `this move is the canary: ${percent}% of ${req.endpoint}'s traffic`)
      : result("fail", `a canary of ${percent}% is more than the policy's ${req.max_percent}%`);
  }
  const stats = e.canaries[req.endpoint];
  if (!stats?.served) return result("fail", `never served as ${req.endpoint}'s canary`);
  if (stats.failed) return result("fail", `serving stopped it as ${req.endpoint}'s canary: ${stats.failed}`);
  // The same judge as serving's controller, with the policy's limits (minimum sample per arm,
  // significance tests, latency floors): a gate must not pass or refuse on noise either.
  const slo: SloSpec = {
    ...DEFAULT_SLO,
    minRequests: req.min_requests,
    maxErrorRateIncrease: req.max_error_rate_increase,
    maxP95Ratio: req.max_p95_ratio,
  };
  const verdict = judgeArms(slo, stats.canary, stats.primary);
  switch (verdict.verdict) {
    case "insufficient_data":
      return result("fail", `not judged yet: ${verdict.reason.replace(/^keep watching: /, "")}`, verdict.requests);
    case "breach":
      return result("fail", verdict.reason, verdict.canary.requests);
    case "healthy":
      return result("pass", verdict.reason, verdict.canary.requests);
    default:
      return assertNever(verdict);
  }
}
