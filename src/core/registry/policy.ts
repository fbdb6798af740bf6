/**
 * Policy evaluation, pure: given the policies in force and the evidence (evaluations, run metrics,
 * the versions holding the aliases a check compares against, approvals), produce every check with
 * the value found, the threshold and pass/fail/pending. The service stores the result as a decision
 * record and acts on its verdict.
 *
 * Semantics (written down here because DESIGN.md leaves them open):
 * - `metric: "roc_auc >= 0.70"` — ops `>=`, `>`, `<=`, `<`, `==`, `!=`. The value is the candidate's
 *   newest evaluation that has the metric, else its source run's metric of that name.
 * - `fairness: {attribute, metric, max, min}` — from the newest evaluation with that attribute. A
 *   metric reported per group only (e.g. `accuracy`) is checked on its worst group.
 * - `beats: champion` (or `{alias, metric}`) — on the newest evaluation data both versions were
 *   evaluated on, the candidate must be strictly better (lower for rmse, mae, log_loss,
 *   calibration_error; higher otherwise). A tie is not a win: retraining on unchanged data does not
 *   promote. An alias nobody holds yet, or held by the candidate itself, passes. The metric is the
 *   one named, else the first metric threshold of the same policy, else the first of
 *   roc_auc, f1, accuracy, r2, rmse present.
 * - `approvals: {role, count, for_alias}` — distinct users other than the author whose latest word on
 *   the version is `approve` and whose role was at least `role`; missing ones leave the check
 *   `pending`. A latest `reject` from such a user fails it. `for_alias` limits it to that alias.
 */
import { roleAtLeast, isRole, type Role } from "../governance/model.js";
import type { PolicySpec } from "../pipelines/spec/policies.js";
import type { Approval, CheckResult, Evaluation, PromotionTarget, Verdict } from "./model.js";

export type { PolicySpec };
type Requirement = PolicySpec["require"][number];

const OPS = [">=", "<=", "==", "!=", ">", "<"] as const;
type Op = (typeof OPS)[number];

export interface MetricThreshold {
  metric: string;
  op: Op;
  threshold: number;
}

/** Parses `roc_auc >= 0.70`; returns an error message instead of throwing, for decision records. */
export function parseMetricThreshold(text: string): MetricThreshold | string {
  const m = /^\s*([A-Za-z_][\w.]*)\s*(>=|<=|==|!=|>|<)\s*(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$/.exec(text);
  if (!m)
    return `cannot read ${JSON.stringify(text)}: expected "<metric> <op> <number>" with op one of ${OPS.join(" ")}`;
  return { metric: m[1]!, op: m[2] as Op, threshold: Number(m[3]) };
}

/** Problems in a policy set that validation should report before anything is evaluated. */
export function policyProblems(policies: Record<string, PolicySpec>): string[] {
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(policies)) {
    spec.require.forEach((req, i) => {
      if ("metric" in req) {
        const parsed = parseMetricThreshold(req.metric);
        if (typeof parsed === "string") problems.push(`policies.${name}.require[${i}].metric: ${parsed}`);
      }
      if ("fairness" in req && req.fairness.max === undefined && req.fairness.min === undefined) {
        problems.push(`policies.${name}.require[${i}].fairness: give max or min`);
      }
    });
  }
  return problems;
}

const LOWER_IS_BETTER = new Set(["rmse", "mae", "mse", "log_loss", "calibration_error"]);
const DEFAULT_COMPARISON_METRICS = ["roc_auc", "f1", "accuracy", "r2", "rmse"];

export function lowerIsBetter(metric: string): boolean {
  return LOWER_IS_BETTER.has(metric) || metric.endsWith("_difference");
}

function compare(value: number, op: Op, threshold: number): boolean {
  switch (op) {
    case ">=":
      return value >= threshold;
    case ">":
      return value > threshold;
    case "<=":
      return value <= threshold;
    case "<":
      return value < threshold;
    case "==":
      return value === threshold;
    case "!=":
      return value !== threshold;
  }
}

export interface Incumbent {
  version: number;
  evaluations: Evaluation[];
}

export interface PolicyEvidence {
  target: PromotionTarget;
  candidateVersion: number;
  author: string;
  /** The candidate's evaluations, newest first. */
  evaluations: Evaluation[];
  /** The source run's latest metric values (fallback for thresholds). */
  runMetrics: Record<string, number>;
  /** For each alias a `beats` names: who holds it now (null: nobody). */
  incumbents: Record<string, Incumbent | null>;
  approvals: Approval[];
}

function metricValue(e: PolicyEvidence, metric: string): { value: number; from: string } | null {
  for (const ev of e.evaluations) {
    const v = ev.metrics[metric];
    if (typeof v === "number") return { value: v, from: `evaluation on ${ev.dataset}` };
  }
  const r = e.runMetrics[metric];
  return typeof r === "number" ? { value: r, from: "source run" } : null;
}

function checkMetric(policy: string, text: string, e: PolicyEvidence): CheckResult {
  const parsed = parseMetricThreshold(text);
  if (typeof parsed === "string")
    return { policy, kind: "metric", check: text, value: null, threshold: null, outcome: "fail", detail: parsed };
  const found = metricValue(e, parsed.metric);
  const check = `${parsed.metric} ${parsed.op} ${parsed.threshold}`;
  if (!found)
    return {
      policy,
      kind: "metric",
      check,
      value: null,
      threshold: parsed.threshold,
      outcome: "fail",
      detail: `no ${parsed.metric} recorded for this version`,
    };
  const ok = compare(found.value, parsed.op, parsed.threshold);
  return {
    policy,
    kind: "metric",
    check,
    value: found.value,
    threshold: parsed.threshold,
    outcome: ok ? "pass" : "fail",
    detail: found.from,
  };
}

function checkFairness(
  policy: string,
  req: Extract<Requirement, { fairness: unknown }>["fairness"],
  e: PolicyEvidence,
): CheckResult[] {
  const base = `${req.metric} by ${req.attribute}`;
  const ev = e.evaluations.find((x) => x.fairness[req.attribute] !== undefined);
  const out: CheckResult[] = [];
  const bounds: Array<["max" | "min", number]> = [];
  if (req.max !== undefined) bounds.push(["max", req.max]);
  if (req.min !== undefined) bounds.push(["min", req.min]);
  if (bounds.length === 0) {
    return [
      {
        policy,
        kind: "fairness",
        check: base,
        value: null,
        threshold: null,
        outcome: "fail",
        detail: "the requirement gives neither max nor min",
      },
    ];
  }
  for (const [bound, threshold] of bounds) {
    const check = `${base} ${bound === "max" ? "<=" : ">="} ${threshold}`;
    if (!ev) {
      out.push({
        policy,
        kind: "fairness",
        check,
        value: null,
        threshold,
        outcome: "fail",
        detail: `no fairness evaluation by ${req.attribute} for this version`,
      });
      continue;
    }
    const result = ev.fairness[req.attribute]!;
    let value: number | undefined = result.metrics[req.metric];
    let detail = `evaluation on ${ev.dataset}`;
    if (value === undefined) {
      const perGroup = Object.entries(result.byGroup).flatMap(([g, m]) =>
        typeof m[req.metric] === "number" ? [[g, m[req.metric]!] as const] : [],
      );
      if (perGroup.length > 0) {
        const worst = perGroup.reduce((a, b) => ((bound === "min" ? b[1] < a[1] : b[1] > a[1]) ? b : a));
        value = worst[1];
        detail = `worst group ${req.attribute}=${worst[0]}, evaluation on ${ev.dataset}`;
      }
    }
    if (value === undefined) {
      out.push({
        policy,
        kind: "fairness",
        check,
        value: null,
        threshold,
        outcome: "fail",
        detail: `no ${req.metric} by ${req.attribute} recorded`,
      });
      continue;
    }
    const ok = bound === "max" ? value <= threshold : value >= threshold;
    out.push({ policy, kind: "fairness", check, value, threshold, outcome: ok ? "pass" : "fail", detail });
  }
  return out;
}

function comparisonMetric(spec: PolicySpec, named: string | undefined, e: PolicyEvidence): string | null {
  if (named) return named;
  for (const req of spec.require) {
    if ("metric" in req) {
      const parsed = parseMetricThreshold(req.metric);
      if (typeof parsed !== "string") return parsed.metric;
    }
  }
  for (const m of DEFAULT_COMPARISON_METRICS)
    if (e.evaluations.some((ev) => typeof ev.metrics[m] === "number")) return m;
  return null;
}

function checkBeats(
  policy: string,
  spec: PolicySpec,
  beats: Extract<Requirement, { beats: unknown }>["beats"],
  e: PolicyEvidence,
): CheckResult {
  const alias = typeof beats === "string" ? beats : beats.alias;
  const metric = comparisonMetric(spec, typeof beats === "string" ? undefined : beats.metric, e);
  const check = `beats ${alias}${metric ? ` on ${metric}` : ""}`;
  const holder = e.incumbents[alias] ?? null;
  if (holder === null)
    return {
      policy,
      kind: "beats",
      check,
      value: null,
      threshold: null,
      outcome: "pass",
      detail: `no version holds ${alias} yet`,
    };
  if (holder.version === e.candidateVersion)
    return {
      policy,
      kind: "beats",
      check,
      value: null,
      threshold: null,
      outcome: "pass",
      detail: `this version already holds ${alias}`,
    };
  if (!metric)
    return {
      policy,
      kind: "beats",
      check,
      value: null,
      threshold: null,
      outcome: "fail",
      detail: "no metric to compare on (name one: beats: {alias, metric})",
    };
  for (const ev of e.evaluations) {
    const mine = ev.metrics[metric];
    if (typeof mine !== "number") continue;
    const theirs = holder.evaluations.find((h) => h.dataset === ev.dataset && typeof h.metrics[metric] === "number")
      ?.metrics[metric];
    if (theirs === undefined) continue;
    const ok = lowerIsBetter(metric) ? mine < theirs : mine > theirs;
    return {
      policy,
      kind: "beats",
      check,
      value: mine,
      threshold: theirs,
      outcome: ok ? "pass" : "fail",
      detail: `${alias} is version ${holder.version}; both evaluated on ${ev.dataset}`,
    };
  }
  return {
    policy,
    kind: "beats",
    check,
    value: null,
    threshold: null,
    outcome: "fail",
    detail: `no evaluation data on which both this version and ${alias} (version ${holder.version}) have ${metric}`,
  };
}

function checkApprovals(
  policy: string,
  req: Extract<Requirement, { approvals: unknown }>["approvals"],
  e: PolicyEvidence,
): CheckResult | null {
  if (req.for_alias !== undefined && !(e.target.kind === "alias" && e.target.name === req.for_alias)) return null;
  const required: Role = isRole(req.role) ? req.role : "approver";
  const latest = new Map<string, Approval>();
  for (const a of [...e.approvals].sort((x, y) => x.at - y.at)) latest.set(a.userName, a);
  const eligible = [...latest.values()].filter(
    (a) => a.userName !== e.author && isRole(a.role) && roleAtLeast(a.role, required),
  );
  const approvers = eligible.filter((a) => a.decision === "approve").map((a) => a.userName);
  const rejecters = eligible.filter((a) => a.decision === "reject");
  const check = `approvals by ${required} (author excluded)${req.for_alias ? ` for ${req.for_alias}` : ""}`;
  if (rejecters.length > 0) {
    const r = rejecters[0]!;
    return {
      policy,
      kind: "approvals",
      check,
      value: approvers.length,
      threshold: req.count,
      outcome: "fail",
      detail: `rejected by ${r.userName}${r.comment ? `: ${r.comment}` : ""}`,
    };
  }
  const ok = approvers.length >= req.count;
  return {
    policy,
    kind: "approvals",
    check,
    value: approvers.length,
    threshold: req.count,
    outcome: ok ? "pass" : "pending",
    detail: approvers.length
      ? `approved by ${approvers.join(", ")}`
      : `awaiting ${req.count} approval${req.count > 1 ? "s" : ""}`,
  };
}

/** Every check of every policy, in declaration order. */
export function evaluatePolicies(policies: Record<string, PolicySpec>, e: PolicyEvidence): CheckResult[] {
  const checks: CheckResult[] = [];
  for (const [name, spec] of Object.entries(policies)) {
    for (const req of spec.require) {
      if ("metric" in req) checks.push(checkMetric(name, req.metric, e));
      else if ("fairness" in req) checks.push(...checkFairness(name, req.fairness, e));
      else if ("beats" in req) checks.push(checkBeats(name, spec, req.beats, e));
      else {
        const c = checkApprovals(name, req.approvals, e);
        if (c) checks.push(c);
      }
    }
  }
  if (checks.length === 0) {
    const names = Object.keys(policies);
    checks.push({
      policy: names.join(",") || "-",
      kind: "policy",
      check: names.length ? "no requirement applies to this target" : "no policy declared",
      value: null,
      threshold: null,
      outcome: "pass",
      detail: "",
    });
  }
  return checks;
}

export function verdictOf(checks: CheckResult[]): Verdict {
  if (checks.some((c) => c.outcome === "fail")) return "fail";
  if (checks.some((c) => c.outcome === "pending")) return "pending";
  return "pass";
}

/** The aliases `beats` requirements compare against (the service loads who holds them). */
export function aliasesCompared(policies: Record<string, PolicySpec>): string[] {
  const out = new Set<string>();
  for (const spec of Object.values(policies)) {
    for (const req of spec.require)
      if ("beats" in req) out.add(typeof req.beats === "string" ? req.beats : req.beats.alias);
  }
  return [...out];
}
