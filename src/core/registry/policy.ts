/**
 * Policy evaluation, pure: given the policies that govern a move (policy-scope.ts) and the evidence
 * (evaluations with their provenance, run metrics, the versions holding the aliases a check compares
 * against, canary records, approvals), produce every check with the value found, the threshold,
 * pass/fail/pending and the evidence it used. The service stores the result as a decision record and
 * acts on its verdict. Prompts use the same function with their own evidence.
 *
 * Semantics (written down here because DESIGN.md leaves them open):
 * - Evidence has a source. `pipeline`: an evaluation a `tandem/evaluate`, `tandem/fairness` or
 *   `tandem/eval` step made, or a source-run metric the engine recorded while the step ran.
 *   `manual`: anything else (CLI, API, MLflow logging by hand). A policy reads manual evidence only
 *   with `accept_manual: true`; otherwise the check lists it as set aside.
 * - `metric: "roc_auc >= 0.70"` — ops `>=`, `>`, `<=`, `<`, `==`, `!=`. The value is the candidate's
 *   newest usable evaluation that has the metric, else its source run's metric of that name.
 * - `fairness: {attribute, metric, max, min}` — from the newest usable evaluation with that attribute.
 *   A metric reported per group only (e.g. `accuracy`) is checked on its worst group.
 * - `beats: champion` (or `{alias, metric}`) — on the newest evaluation data both versions were
 *   evaluated on (usable evidence on both sides), the candidate must be strictly better (lower for
 *   rmse, mae, log_loss, calibration_error; higher otherwise). A tie is not a win: retraining on
 *   unchanged data does not promote. An alias nobody holds yet, or held by the candidate itself,
 *   passes. The metric is the one named, else the first metric threshold of the same policy, else
 *   the first of roc_auc, f1, accuracy, r2, rmse present.
 * - `canary` and `approvals` (with its `unless` rule): see policy-approvals.ts.
 */
import type { PolicySpec } from "../pipelines/spec/policies.js";
import type { Approval, CheckEvidence, CheckResult, Evaluation, EvidenceSource, PromotionTarget } from "./model.js";
import type { Verdict } from "./model.js";
import { checkApprovals, checkCanary, type CanaryStats } from "./policy-approvals.js";
import { compare, lowerIsBetter, parseMetricThreshold } from "./policy-grammar.js";
import type { TargetScope } from "./policy-scope.js";

/**
 * `record[key]` when the record has it itself: metric and attribute names are the policy author's,
 * and `constructor` or `toString` must be missing, not Object.prototype's (a run cited as evidence
 * for a metric nobody logged; a fairness check that threw).
 */
function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

export type { PolicySpec };
export type { CanaryStats };
export { parseMetricThreshold, lowerIsBetter };
type Requirement = PolicySpec["require"][number];

/** Problems in a policy set that validation should report before anything is evaluated. */
export function policyProblems(policies: Record<string, PolicySpec>): string[] {
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(policies)) {
    spec.require.forEach((req, i) => {
      const at = `policies.${name}.require[${i}]`;
      if ("metric" in req) {
        const parsed = parseMetricThreshold(req.metric);
        if (typeof parsed === "string") problems.push(`${at}.metric: ${parsed}`);
      }
      if ("fairness" in req && req.fairness.max === undefined && req.fairness.min === undefined) {
        problems.push(`${at}.fairness: give max or min`);
      }
      if ("approvals" in req)
        for (const [j, w] of (req.approvals.unless ?? []).entries())
          if ("fairness" in w && w.fairness.max === undefined && w.fairness.min === undefined)
            problems.push(`${at}.approvals.unless[${j}].fairness: give max or min`);
    });
  }
  return problems;
}

const DEFAULT_COMPARISON_METRICS = ["roc_auc", "f1", "accuracy", "r2", "rmse"];

export interface Incumbent {
  version: number;
  evaluations: Evaluation[];
  /** The alias was deleted since this version held it last (a deleted alias is not an empty one). */
  deleted?: boolean;
}

export interface RunMetric {
  value: number;
  source: EvidenceSource;
}

export interface PolicyEvidence {
  target: PromotionTarget;
  /** What the move changes (aliases, endpoint slots, stages, prompts). */
  scope: TargetScope;
  candidateVersion: number;
  author: string;
  /** Why the author is the author (shown when four-eyes excludes them). */
  authorNote: string;
  /** The candidate's evaluations, newest first, every source (the policy decides what counts). */
  evaluations: Evaluation[];
  sourceRunId: string | null;
  /** The source run's latest metric values and their source (fallback for thresholds). */
  runMetrics: Record<string, RunMetric>;
  /** For each alias a `beats` names: who holds it now (null: nobody). */
  incumbents: Record<string, Incumbent | null>;
  approvals: Approval[];
  /** For each endpoint a `canary` names: what serving recorded of the candidate there. */
  canaries: Record<string, CanaryStats>;
}

/** The facts a check needs about the policy it belongs to. */
export interface PolicyContext {
  name: string;
  spec: PolicySpec;
}

function evaluationEvidence(ev: Evaluation, used: boolean, note: string): CheckEvidence {
  return {
    kind: "evaluation",
    id: ev.id,
    source: ev.source,
    dataset: ev.dataset,
    runId: ev.runId,
    pipelineRunId: ev.pipelineRunId,
    step: ev.step,
    by: ev.createdBy,
    used,
    note,
  };
}

const MANUAL_NOTE = "manual evidence; the policy does not accept_manual";

/** Who made an evaluation, as a reader wants it: `pipeline run 1a2b… step evaluate` or `by alice (manual)`. */
export function provenance(ev: Evaluation): string {
  return ev.source === "pipeline"
    ? `pipeline run ${ev.pipelineRunId ?? "?"} step ${ev.step ?? "?"}`
    : `by ${ev.createdBy} (manual)`;
}

/**
 * The newest evaluation with `has` that the policy may read, and the manual ones set aside on the way.
 * Shared by metric, fairness and beats checks so they agree on what counts.
 */
export function usableEvaluations(
  p: PolicyContext,
  evaluations: Evaluation[],
): { usable: Evaluation[]; setAside: Evaluation[] } {
  if (p.spec.accept_manual) return { usable: evaluations, setAside: [] };
  return {
    usable: evaluations.filter((ev) => ev.source === "pipeline"),
    setAside: evaluations.filter((ev) => ev.source !== "pipeline"),
  };
}

export function checkMetric(p: PolicyContext, text: string, e: PolicyEvidence): CheckResult {
  const base = { policy: p.name, kind: "metric" as const };
  const parsed = parseMetricThreshold(text);
  if (typeof parsed === "string")
    return { ...base, check: text, value: null, threshold: null, outcome: "fail", detail: parsed };
  const check = `${parsed.metric} ${parsed.op} ${parsed.threshold}`;
  const { usable, setAside } = usableEvaluations(p, e.evaluations);
  const evidence: CheckEvidence[] = setAside
    .filter((ev) => typeof ev.metrics[parsed.metric] === "number")
    .map((ev) => evaluationEvidence(ev, false, MANUAL_NOTE));
  let found: { value: number; detail: string } | null = null;
  const ev = usable.find((x) => typeof x.metrics[parsed.metric] === "number");
  if (ev) {
    found = { value: ev.metrics[parsed.metric]!, detail: `evaluation on ${ev.dataset}, ${provenance(ev)}` };
    evidence.unshift(evaluationEvidence(ev, true, ""));
  } else {
    const r = own(e.runMetrics, parsed.metric);
    if (r) {
      const ok = r.source === "pipeline" || p.spec.accept_manual;
      evidence.push({
        kind: "run",
        id: e.sourceRunId ?? "",
        source: r.source,
        dataset: null,
        runId: e.sourceRunId,
        pipelineRunId: null,
        step: null,
        by: null,
        used: ok,
        note: ok ? "" : "logged outside a pipeline step; the policy does not accept_manual",
      });
      if (ok) found = { value: r.value, detail: `source run ${e.sourceRunId ?? ""} (${r.source})` };
    }
  }
  if (!found) {
    const aside = evidence.length ? `; set aside: ${evidence.length} manual` : "";
    return {
      ...base,
      check,
      value: null,
      threshold: parsed.threshold,
      outcome: "fail",
      detail: `no ${parsed.metric} recorded for this version by a pipeline step${aside}`,
      evidence,
    };
  }
  const ok = compare(found.value, parsed.op, parsed.threshold);
  return {
    ...base,
    check,
    value: found.value,
    threshold: parsed.threshold,
    outcome: ok ? "pass" : "fail",
    detail: found.detail,
    evidence,
  };
}

export function checkFairness(
  p: PolicyContext,
  req: Extract<Requirement, { fairness: unknown }>["fairness"],
  e: PolicyEvidence,
): CheckResult[] {
  const base = { policy: p.name, kind: "fairness" as const };
  const name = `${req.metric} by ${req.attribute}`;
  const { usable, setAside } = usableEvaluations(p, e.evaluations);
  const ev = usable.find((x) => own(x.fairness, req.attribute) !== undefined);
  const aside = setAside
    .filter((x) => own(x.fairness, req.attribute) !== undefined)
    .map((x) => evaluationEvidence(x, false, MANUAL_NOTE));
  const evidence = [...(ev ? [evaluationEvidence(ev, true, "")] : []), ...aside];
  const bounds: Array<["max" | "min", number]> = [];
  if (req.max !== undefined) bounds.push(["max", req.max]);
  if (req.min !== undefined) bounds.push(["min", req.min]);
  if (bounds.length === 0)
    return [
      {
        ...base,
        check: name,
        value: null,
        threshold: null,
        outcome: "fail",
        detail: "the requirement gives neither max nor min",
      },
    ];
  return bounds.map(([bound, threshold]): CheckResult => {
    const check = `${name} ${bound === "max" ? "<=" : ">="} ${threshold}`;
    const missing = (detail: string): CheckResult => ({
      ...base,
      check,
      value: null,
      threshold,
      outcome: "fail",
      detail,
      evidence,
    });
    if (!ev) return missing(`no fairness evaluation by ${req.attribute} from a pipeline step for this version`);
    const result = own(ev.fairness, req.attribute)!;
    let value: number | undefined = own(result.metrics, req.metric);
    let detail = `evaluation on ${ev.dataset}, ${provenance(ev)}`;
    if (value === undefined) {
      const perGroup = Object.entries(result.byGroup).flatMap(([g, m]) =>
        typeof m[req.metric] === "number" ? [[g, m[req.metric]!] as const] : [],
      );
      if (perGroup.length > 0) {
        const worst = perGroup.reduce((a, b) => ((bound === "min" ? b[1] < a[1] : b[1] > a[1]) ? b : a));
        value = worst[1];
        detail = `worst group ${req.attribute}=${worst[0]}, ${detail}`;
      }
    }
    if (value === undefined) return missing(`no ${req.metric} by ${req.attribute} recorded`);
    const ok = bound === "max" ? value <= threshold : value >= threshold;
    return { ...base, check, value, threshold, outcome: ok ? "pass" : "fail", detail, evidence };
  });
}

function comparisonMetric(spec: PolicySpec, named: string | undefined, evaluations: Evaluation[]): string | null {
  if (named) return named;
  for (const req of spec.require) {
    if ("metric" in req) {
      const parsed = parseMetricThreshold(req.metric);
      if (typeof parsed !== "string") return parsed.metric;
    }
  }
  for (const m of DEFAULT_COMPARISON_METRICS) if (evaluations.some((ev) => typeof ev.metrics[m] === "number")) return m;
  return null;
}

export function checkBeats(
  p: PolicyContext,
  beats: Extract<Requirement, { beats: unknown }>["beats"],
  e: PolicyEvidence,
): CheckResult {
  const alias = typeof beats === "string" ? beats : beats.alias;
  const mine = usableEvaluations(p, e.evaluations).usable;
  const metric = comparisonMetric(p.spec, typeof beats === "string" ? undefined : beats.metric, mine);
  const result = (outcome: CheckResult["outcome"], detail: string, extra: Partial<CheckResult> = {}): CheckResult => ({
    policy: p.name,
    kind: "beats",
    check: `beats ${alias}${metric ? ` on ${metric}` : ""}`,
    value: null,
    threshold: null,
    outcome,
    detail,
    ...extra,
  });
  const holder = e.incumbents[alias] ?? null;
  if (holder === null) return result("pass", `no version holds ${alias} yet`);
  if (holder.version === e.candidateVersion) return result("pass", `this version already holds ${alias}`);
  if (!metric) return result("fail", "no metric to compare on (name one: beats: {alias, metric})");
  const theirs = usableEvaluations(p, holder.evaluations).usable;
  for (const ev of mine) {
    const value = ev.metrics[metric];
    if (typeof value !== "number") continue;
    const other = theirs.find((h) => h.dataset === ev.dataset && typeof h.metrics[metric] === "number");
    if (!other) continue;
    const threshold = other.metrics[metric]!;
    const ok = lowerIsBetter(metric) ? value < threshold : value > threshold;
    const who = holder.deleted
      ? `${alias} was version ${holder.version} until deleted`
      : `${alias} is version ${holder.version}`;
    return result(ok ? "pass" : "fail", `${who}; both evaluated on ${ev.dataset}`, {
      value,
      threshold,
      evidence: [
        evaluationEvidence(ev, true, ""),
        evaluationEvidence(other, true, `${alias} (version ${holder.version})`),
      ],
    });
  }
  return result(
    "fail",
    `no evaluation data on which both this version and ${alias} (version ${holder.version}) have ${metric}` +
      (p.spec.accept_manual ? "" : " from a pipeline step"),
  );
}

/** One requirement's checks (an `approvals` one needs the others' context: see checkApprovals). */
export function checkRequirement(p: PolicyContext, req: Requirement, e: PolicyEvidence): CheckResult[] {
  if ("metric" in req) return [checkMetric(p, req.metric, e)];
  if ("fairness" in req) return checkFairness(p, req.fairness, e);
  if ("beats" in req) return [checkBeats(p, req.beats, e)];
  if ("canary" in req) return [checkCanary(p, req.canary, e)];
  const c = checkApprovals(p, req.approvals, e, (w) => checkRequirement(p, w, e));
  return c ? [c] : [];
}

/** Every check of every governing policy, in declaration order. */
export function evaluatePolicies(policies: Record<string, PolicySpec>, e: PolicyEvidence): CheckResult[] {
  const checks: CheckResult[] = [];
  for (const [name, spec] of Object.entries(policies))
    for (const req of spec.require) checks.push(...checkRequirement({ name, spec }, req, e));
  if (checks.length === 0) {
    const names = Object.keys(policies);
    checks.push({
      policy: names.join(",") || "-",
      kind: "policy",
      check: names.length ? "no requirement applies to this target" : "no policy governs this target",
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

/** The aliases `beats` requirements compare against, `unless` rules included (the service loads who holds them). */
export function aliasesCompared(policies: Record<string, PolicySpec>): string[] {
  const out = new Set<string>();
  for (const req of requirementsOf(policies))
    if ("beats" in req) out.add(typeof req.beats === "string" ? req.beats : req.beats.alias);
  return [...out];
}

/** The endpoints `canary` requirements name, `unless` rules included (the service loads their canary records). */
export function canaryEndpoints(policies: Record<string, PolicySpec>): string[] {
  const out = new Set<string>();
  for (const req of requirementsOf(policies)) if ("canary" in req) out.add(req.canary.endpoint);
  return [...out];
}

function requirementsOf(policies: Record<string, PolicySpec>): Requirement[] {
  return Object.values(policies).flatMap((spec) =>
    spec.require.flatMap((req) => ("approvals" in req ? [req, ...(req.approvals.unless ?? [])] : [req])),
  );
}
