/**
 * Rollback is a decision too. Moving an alias (or a pinned endpoint) back to an earlier holder must be
 * quick and must not wait for approvals, so it is not re-evaluated against `beats` (which would compare
 * with the very version being rolled back from). Instead:
 * - anyone who may move the alias (a member) may return it to a version that got there through a
 *   passing decision and has no rejection since;
 * - anything else needs an approver who is not the version's author (an override, recorded as such);
 * - serving's automatic rollback after an SLO breach returns traffic to the version the rollout
 *   replaced, which never stopped serving.
 * Every rollback, allowed or not, writes a decision record (action `rollback`).
 */
import { audited, type RecordAudit } from "../governance/audited.js";
import { isRole, roleAtLeast } from "../governance/model.js";
import { ConflictError, ForbiddenError, NotFoundError } from "../errors.js";
import { newId, nowMs } from "../ids.js";
import type { Tx } from "../ports.js";
import type { Alias, CheckResult, Decision, ModelVersion, PromotionTarget } from "./model.js";
import { verdictOf } from "./policy.js";
import { describeScope, type TargetScope } from "./policy-scope.js";
import { Promotions } from "./promotion.js";
import { formatRef } from "./refs.js";

export interface RollbackInput {
  project: string;
  model: string;
  version: number;
  target: PromotionTarget;
  actor: string;
  /** The actor's role in the project (null: unknown, treated as member). */
  role: string | null;
  /** Serving's own rollback after an SLO breach (set by serving's controller, never from a request). */
  automatic?: boolean;
  reason?: string;
}

const rollbackCheck = (check: string, outcome: CheckResult["outcome"], detail: string): CheckResult => ({
  policy: "-",
  kind: "rollback",
  check,
  value: null,
  threshold: null,
  outcome,
  detail,
});

export abstract class Rollbacks extends Promotions {
  /** The rollback rule's checks for returning `v` to `target` (see the file comment). */
  private async rollbackChecks(input: RollbackInput, v: ModelVersion, tx: Tx): Promise<CheckResult[]> {
    const store = this.deps.store;
    if (input.automatic)
      return [
        rollbackCheck(
          "automatic rollback after an SLO breach",
          "pass",
          input.reason ?? "traffic returns to the version the rollout replaced",
        ),
      ];
    const decisions = (await store.listDecisions(input.project, v.modelName, v.version, tx)).filter(
      (d) => d.verdict === "pass" && d.target.kind === input.target.kind && d.target.name === input.target.name,
    );
    const passed = decisions[0] ?? null; // newest first
    const checks: CheckResult[] = [
      passed
        ? rollbackCheck(
            `reached ${input.target.kind} ${input.target.name} through a passing decision`,
            "pass",
            `decision ${passed.id} (${passed.action}, ${new Date(passed.at).toISOString()})`,
          )
        : rollbackCheck(
            `reached ${input.target.kind} ${input.target.name} through a passing decision`,
            "fail",
            `no passing decision for ${formatRef(v.modelName, v.version)} on ${input.target.kind} ${input.target.name}`,
          ),
    ];
    const latest = new Map<string, { decision: string; at: number; comment: string }>();
    for (const a of (await store.listApprovals(input.project, v.modelName, v.version, tx)).sort((x, y) => x.at - y.at))
      latest.set(a.userName, a);
    const rejections = [...latest.entries()].filter(([, a]) => a.decision === "reject");
    checks.push(
      rejections.length
        ? rollbackCheck(
            "no rejection since",
            "fail",
            rejections.map(([u, a]) => `rejected by ${u}${a.comment ? `: ${a.comment}` : ""}`).join("; "),
          )
        : rollbackCheck("no rejection since", "pass", "no approver's latest word is reject"),
    );
    if (checks.every((c) => c.outcome === "pass")) return checks;
    const approver = input.role !== null && isRole(input.role) && roleAtLeast(input.role, "approver");
    const check = "otherwise an approver who is not the author";
    if (!approver) checks.push(rollbackCheck(check, "fail", `${input.actor} is ${input.role ?? "not an approver"}`));
    else if (input.actor === v.author)
      checks.push(rollbackCheck(check, "fail", `${input.actor} is the author: ${v.authorNote || "registered it"}`));
    else {
      // The approver's word replaces the failed checks; they stay in the record for the reader.
      for (const c of checks) c.outcome = c.outcome === "fail" ? "pass" : c.outcome;
      checks.push(rollbackCheck(check, "pass", `override by ${input.role} ${input.actor}`));
    }
    return checks;
  }

  /**
   * Decides a rollback and records it; applies it with `apply` in the same transaction when allowed.
   * Refusals throw ForbiddenError after the decision record is stored.
   */
  protected async decideRollback<T>(
    input: RollbackInput,
    scope: TargetScope,
    apply: (tx: Tx, record: RecordAudit, v: ModelVersion, decision: Decision) => Promise<T>,
  ): Promise<T> {
    const result = await audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      await this.deps.store.lockModel(input.project, input.model, tx);
      const v = await this.deps.store.getVersion(input.project, input.model, input.version, tx);
      if (!v) throw new NotFoundError(`model version ${formatRef(input.model, input.version)} no longer exists`);
      const checks = await this.rollbackChecks(input, v, tx);
      const decision: Decision = {
        id: newId(),
        project: input.project,
        modelName: v.modelName,
        version: v.version,
        requestId: null,
        target: input.target,
        verdict: verdictOf(checks),
        checks,
        evaluatedBy: input.actor,
        at: nowMs(),
        action: "rollback",
        scope: describeScope(scope),
        governing: [],
      };
      await this.recordDecision(tx, record, input.actor, decision, null);
      if (decision.verdict !== "pass") return { refused: decision };
      return { done: await apply(tx, record, v, decision) };
    });
    if ("refused" in result && result.refused) {
      const d = result.refused;
      const failed = d.checks.filter((c) => c.outcome === "fail").map((c) => `${c.check} (${c.detail})`);
      throw new ForbiddenError(
        `rollback of ${input.target.kind} ${input.target.name} to ${formatRef(d.modelName, d.version)} refused: ${failed.join("; ")}; an approver other than the author may roll back anyway`,
        { decision_id: d.id, verdict: d.verdict, checks: d.checks },
      );
    }
    return result.done as T;
  }

  /**
   * Moves `alias` back: to `version` when given (it must have held the alias before), else to the
   * version it pointed at before the current one — if the rollback rule allows (see the file comment).
   */
  async rollbackAlias(input: {
    project: string;
    model: string;
    alias: string;
    version?: number | null;
    actor: string;
    role?: string | null;
    automatic?: boolean;
    reason?: string;
  }): Promise<Alias> {
    const { project, model, alias } = input;
    const history = await this.deps.store.aliasHistory(project, model, alias);
    const current = await this.deps.store.getAlias(project, model, alias);
    const target = input.version ?? history.at(-1)?.fromVersion ?? null;
    if (target === null) throw new ConflictError(`alias ${model}@${alias} has no earlier version to roll back to`);
    if (!history.some((e) => e.toVersion === target))
      throw new ConflictError(
        `${formatRef(model, target)} never held alias ${alias}; a rollback only returns to an earlier holder (set the alias instead)`,
      );
    if (current?.version === target)
      throw new ConflictError(`alias ${model}@${alias} already points at version ${target}`);
    const scope = await this.scopeOf(project, model, { kind: "alias", name: alias });
    return this.decideRollback(
      {
        project,
        model,
        version: target,
        target: { kind: "alias", name: alias },
        actor: input.actor,
        role: input.role ?? null,
        automatic: input.automatic,
        reason: input.reason,
      },
      scope,
      async (tx, record, v, decision) => {
        const now = await this.deps.store.getAlias(project, model, alias, tx);
        if (now?.version !== current?.version)
          throw new ConflictError(`${model}@${alias} moved while the rollback was being decided; try again`);
        return this.moveAlias(tx, record, {
          actor: input.actor,
          v,
          alias,
          action: "rollback",
          decisionId: decision.id,
          reason: input.reason,
        });
      },
    );
  }

  /**
   * MLflow clients load `models:/name/Production` as the newest version in that stage. Taking the
   * newest one out (to None or Archived) hands the stage to the one below it: a rollback, under the
   * same rule (it must have reached the stage through a passing decision, with no rejection since,
   * else an approver who is not its author). Other stage moves are `requestStage`'s.
   */
  override async requestStage(input: Parameters<Promotions["requestStage"]>[0] & { role?: string | null }) {
    const stage = this.stageName(input.stage);
    const v = await this.getVersion(input.project, input.name, input.version);
    const from = v.stage;
    if ((stage !== "None" && stage !== "Archived") || (from !== "Staging" && from !== "Production"))
      return super.requestStage(input);
    const all = { modelName: input.name, limit: 100_000, offset: 0 };
    const held = (await this.deps.store.listVersions(input.project, all)).filter((x) => x.stage === from);
    const exposed = held[0]?.version === v.version ? held[1] : undefined;
    if (!exposed) return super.requestStage(input);
    const target = { kind: "stage" as const, name: from };
    const rollback = { project: input.project, model: input.name, version: exposed.version, target };
    const who = {
      actor: input.actor,
      role: input.role ?? null,
      reason: `${formatRef(v.modelName, v.version)} left ${from}`,
    };
    return this.decideRollback(
      { ...rollback, ...who },
      await this.scopeOf(input.project, input.name, target),
      async (tx, record) => {
        const now = await this.deps.store.getVersion(input.project, input.name, v.version, tx);
        if (now?.stage !== from)
          throw new ConflictError(`${formatRef(v.modelName, v.version)} left ${from} meanwhile; try again`);
        return this.writeStage(tx, record, input.actor, now, stage, false);
      },
    );
  }

  /** A pinned endpoint back to a version it served: the same rule, target the endpoint (Serving applies it). */
  async checkEndpointRollback(input: {
    project: string;
    model: string;
    version: number;
    endpoint: string;
    actor: string;
    role: string | null;
  }): Promise<void> {
    const scope: TargetScope = {
      subject: input.model,
      aliases: [],
      endpoints: [{ endpoint: input.endpoint, slot: "primary", percent: null }],
      stages: [],
      prompts: [],
    };
    await this.decideRollback(
      { ...input, target: { kind: "endpoint", name: input.endpoint } },
      scope,
      async () => undefined,
    );
  }
}
