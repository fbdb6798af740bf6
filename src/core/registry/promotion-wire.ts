/** Promotion outcomes and decision checks on the wire (snake_case, as every wire). */
import type { Decision } from "./model.js";
import type { PromotionOutcome } from "./promotion.js";

/** What a refusal carries on the wire (snake_case, as every wire). */
export function outcomeDetails(o: PromotionOutcome): Record<string, unknown> {
  return {
    status: o.status,
    model: o.version.modelName,
    version: o.version.version,
    author: o.version.author,
    request_id: o.request?.id ?? null,
    decision_id: o.decision?.id ?? null,
    verdict: o.decision?.verdict ?? null,
    scope: o.decision?.scope ?? null,
    policies: o.decision?.governing.map((g) => g.policy) ?? [],
    checks: (o.decision?.checks ?? []).map(checkToWire),
  };
}

/** A check on the wire; also used by the decision routes. */
export function checkToWire(c: Decision["checks"][number]): Record<string, unknown> {
  return {
    policy: c.policy,
    kind: c.kind,
    check: c.check,
    value: c.value,
    threshold: c.threshold,
    outcome: c.outcome,
    detail: c.detail,
    ...(c.evidence
      ? {
          evidence: c.evidence.map((e) => ({
            kind: e.kind,
            id: e.id,
            source: e.source,
            dataset: e.dataset,
            run_id: e.runId,
            pipeline_run_id: e.pipelineRunId,
            step: e.step,
            by: e.by,
            used: e.used,
            note: e.note,
          })),
        }
      : {}),
    ...(c.excluded ? { excluded: c.excluded } : {}),
    ...(c.waiver ? { waiver: c.waiver.map(checkToWire) } : {}),
  };
}
