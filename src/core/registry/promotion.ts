/**
 * The gate: aliases move only through here. A promotion request (alias or endpoint) is evaluated
 * against the policies in force; the decision record is stored whatever the verdict; a `pass`
 * moves the alias in the same transaction; `pending` (only approvals missing) keeps the request
 * open until approvals arrive, when it is re-evaluated and applied by itself; `fail` refuses it.
 * Rollback moves an alias back to a version that held it before, without re-checking (it passed
 * then; a rollback must be quick and must not wait for approvals).
 */
import { audited, type RecordAudit } from "../governance/audited.js";
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError, PolicyRefusedError } from "../errors.js";
import { newId, nowMs } from "../ids.js";
import type { Tx } from "../ports.js";
import type {
  Alias,
  AliasEvent,
  Approval,
  Decision,
  ModelVersion,
  PromotionRequest,
  PromotionTarget,
  RequestStatus,
} from "./model.js";
import { aliasesCompared, evaluatePolicies, verdictOf, type Incumbent, type PolicySpec } from "./policy.js";
import { checkAlias, formatRef, parseModelRef } from "./refs.js";
import { ModelCatalog } from "./catalog.js";

export interface PromotionOutcome {
  /** `applied`: the alias moved (or already pointed there); `pending`: awaiting approvals; `refused`: a check failed. */
  status: "applied" | "pending" | "refused";
  version: ModelVersion;
  request: PromotionRequest | null;
  decision: Decision | null;
  /** The alias after the change, for alias targets that were applied. */
  alias: Alias | null;
}

export interface PromoteInput {
  actor: string;
  project: string;
  /** `name@N`, `name@alias`, … */
  ref: string;
  target: PromotionTarget;
  /** Evaluate only this policy (default: every policy of the project). */
  policy?: string | null;
}

function refusalMessage(o: PromotionOutcome): string {
  const what = `${formatRef(o.version.modelName, o.version.version)} → ${o.request?.target.kind ?? "alias"} ${o.request?.target.name ?? ""}`;
  if (o.status === "pending") {
    return `policy holds ${what}: awaiting approval (request ${o.request?.id}); an approver runs: tandem models approve ${formatRef(o.version.modelName, o.version.version)}`;
  }
  const failed = o.decision?.checks.filter((c) => c.outcome === "fail").map((c) => `${c.check} (${c.detail})`) ?? [];
  return `policy refused ${what}: ${failed.join("; ")}`;
}

export abstract class Promotions extends ModelCatalog {
  /** The policies a request is held to: the named one, else all of the project's. */
  private async policiesFor(project: string, policy: string | null | undefined): Promise<Record<string, PolicySpec>> {
    const all = Object.fromEntries(
      // A policy that names only prompts governs prompts, not models (see core/llm/prompts.ts).
      Object.entries(await this.policySource.policies(project)).filter(
        ([, spec]) => !(spec.applies_to?.prompts && !spec.applies_to.aliases && !spec.applies_to.endpoints),
      ),
    );
    if (!policy) return all;
    const spec = all[policy];
    if (!spec)
      throw new NotFoundError(
        `policy ${policy} is not declared in project ${project} (declared: ${Object.keys(all).join(", ") || "none"}); run tandem apply`,
      );
    return { [policy]: spec };
  }

  private async decide(
    project: string,
    v: ModelVersion,
    target: PromotionTarget,
    policy: string | null,
    evaluatedBy: string,
    requestId: string | null,
  ): Promise<Decision & { compared: Record<string, number | null> }> {
    const policies = await this.policiesFor(project, policy);
    const store = this.deps.store;
    const incumbents: Record<string, Incumbent | null> = {};
    for (const alias of aliasesCompared(policies)) {
      const holder = await store.getAlias(project, v.modelName, alias);
      incumbents[alias] = holder
        ? { version: holder.version, evaluations: await store.listEvaluations(project, v.modelName, holder.version) }
        : null;
    }
    const sourceRun = v.sourceRunId ? await this.deps.lineage.getRun(project, v.sourceRunId) : null;
    const checks = evaluatePolicies(policies, {
      target,
      candidateVersion: v.version,
      author: v.author,
      evaluations: await store.listEvaluations(project, v.modelName, v.version),
      runMetrics: sourceRun?.metrics ?? {},
      incumbents,
      approvals: await store.listApprovals(project, v.modelName, v.version),
    });
    const compared = Object.fromEntries(Object.entries(incumbents).map(([a, h]) => [a, h?.version ?? null]));
    return {
      compared,
      id: newId(),
      project,
      modelName: v.modelName,
      version: v.version,
      requestId,
      target,
      verdict: verdictOf(checks),
      checks,
      evaluatedBy,
      at: nowMs(),
    };
  }

  private async moveAlias(
    tx: Tx,
    record: RecordAudit,
    input: {
      actor: string;
      v: ModelVersion;
      alias: string;
      action: AliasEvent["action"];
      decisionId: string | null;
      reason?: string;
    },
  ): Promise<Alias> {
    const { actor, v, alias } = input;
    const before = await this.deps.store.getAlias(v.project, v.modelName, alias, tx);
    const next: Alias = {
      project: v.project,
      modelName: v.modelName,
      alias,
      version: v.version,
      updatedAt: nowMs(),
      updatedBy: actor,
    };
    await this.deps.store.putAlias(next, tx);
    const action = input.action === "set" && before ? "move" : input.action;
    await this.deps.store.appendAliasEvent(
      {
        project: v.project,
        modelName: v.modelName,
        alias,
        action,
        fromVersion: before?.version ?? null,
        toVersion: v.version,
        actor,
        at: next.updatedAt,
        decisionId: input.decisionId,
      },
      tx,
    );
    await record({
      actor,
      project: v.project,
      action: action === "rollback" ? "model.alias.rollback" : "model.alias.set",
      target: `model:${v.modelName}@${alias}`,
      summary: {
        from: before?.version ?? null,
        to: v.version,
        decision_id: input.decisionId,
        ...(input.reason ? { reason: input.reason } : {}),
      },
    });
    return next;
  }

  /**
   * The policies were evaluated before the model lock was taken; if an alias a `beats` check compared
   * against moved in between, the verdict is stale. Refuse rather than act on it (the caller retries).
   */
  private async assertHoldersUnchanged(
    project: string,
    model: string,
    compared: Record<string, number | null>,
    tx: Tx,
  ): Promise<void> {
    for (const [alias, version] of Object.entries(compared)) {
      const now = (await this.deps.store.getAlias(project, model, alias, tx))?.version ?? null;
      if (now !== version) {
        throw new ConflictError(
          `${model}@${alias} moved (to ${now ?? "nothing"}) while this request was being evaluated; try again`,
        );
      }
    }
  }

  /** Evaluates and records a promotion; never throws for a refusal (see `setAlias` for that). */
  async promote(input: PromoteInput): Promise<PromotionOutcome> {
    const { actor, project, target } = input;
    if (target.kind === "alias") checkAlias(target.name);
    const v = await this.resolve(project, input.ref);
    if (target.kind === "alias") {
      const current = await this.deps.store.getAlias(project, v.modelName, target.name);
      if (current?.version === v.version)
        return { status: "applied", version: v, request: null, decision: null, alias: current };
    }
    const requestId = newId();
    const decision = await this.decide(project, v, target, input.policy ?? null, actor, requestId);
    const status: RequestStatus =
      decision.verdict === "pass" ? "applied" : decision.verdict === "pending" ? "pending" : "refused";
    return audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      await this.deps.store.lockModel(project, v.modelName, tx);
      await this.assertHoldersUnchanged(project, v.modelName, decision.compared, tx);
      const request: PromotionRequest = {
        id: requestId,
        project,
        modelName: v.modelName,
        version: v.version,
        target,
        policy: input.policy ?? null,
        status,
        requestedBy: actor,
        createdAt: decision.at,
        decidedAt: status === "pending" ? null : decision.at,
        decisionId: decision.id,
      };
      // An older open request for the same version and target is replaced by this one.
      for (const old of await this.deps.store.listRequests(
        project,
        { modelName: v.modelName, version: v.version, status: "pending" },
        tx,
      )) {
        if (old.target.kind === target.kind && old.target.name === target.name)
          await this.deps.store.updateRequest(
            old.id,
            { status: "superseded", decidedAt: decision.at, decisionId: old.decisionId },
            tx,
          );
      }
      await this.deps.store.insertRequest(request, tx);
      await this.deps.store.insertDecision(decision, tx);
      await record({
        actor,
        project,
        action: "model.promotion.decide",
        target: `model:${formatRef(v.modelName, v.version)}`,
        summary: {
          target: `${target.kind}:${target.name}`,
          verdict: decision.verdict,
          decision_id: decision.id,
          failed: decision.checks.filter((c) => c.outcome !== "pass").map((c) => c.check),
        },
      });
      const alias =
        status === "applied" && target.kind === "alias"
          ? await this.moveAlias(tx, record, { actor, v, alias: target.name, action: "set", decisionId: decision.id })
          : null;
      return { status: status as PromotionOutcome["status"], version: v, request, decision, alias };
    });
  }

  /** Like `promote` for an alias, but throws PolicyRefusedError (409) unless the alias moved; details hold the decision. */
  async setAlias(input: Omit<PromoteInput, "target"> & { alias: string }): Promise<PromotionOutcome> {
    const outcome = await this.promote({ ...input, target: { kind: "alias", name: input.alias } });
    if (outcome.status !== "applied") throw new PolicyRefusedError(refusalMessage(outcome), outcomeDetails(outcome));
    return outcome;
  }

  /** Serving: the policies must pass before `version` gets `endpoint`; throws PolicyRefusedError otherwise. */
  async checkDeployment(input: {
    project: string;
    model: string;
    version: number;
    endpoint: string;
    policy: string | null;
    actor: string;
  }): Promise<void> {
    const outcome = await this.promote({
      actor: input.actor,
      project: input.project,
      ref: formatRef(input.model, input.version),
      target: { kind: "endpoint", name: input.endpoint },
      policy: input.policy,
    });
    if (outcome.status !== "applied") throw new PolicyRefusedError(refusalMessage(outcome), outcomeDetails(outcome));
  }

  async deleteAlias(actor: string, project: string, name: string, alias: string): Promise<void> {
    await audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      await this.deps.store.lockModel(project, name, tx);
      const before = await this.deps.store.getAlias(project, name, alias, tx);
      if (!before) throw new NotFoundError(`model ${name} has no alias ${alias}`);
      await this.deps.store.deleteAlias(project, name, alias, tx);
      await this.deps.store.appendAliasEvent(
        {
          project,
          modelName: name,
          alias,
          action: "delete",
          fromVersion: before.version,
          toVersion: null,
          actor,
          at: nowMs(),
          decisionId: null,
        },
        tx,
      );
      await record({
        actor,
        project,
        action: "model.alias.delete",
        target: `model:${name}@${alias}`,
        summary: { from: before.version },
      });
    });
  }

  listAliases(project: string, name: string): Promise<Alias[]> {
    return this.deps.store.listAliases(project, name);
  }

  aliasHistory(project: string, name: string, alias: string | null = null): Promise<AliasEvent[]> {
    return this.deps.store.aliasHistory(project, name, alias);
  }

  /** The version `alias` pointed at before its current one, or null. */
  async previousAliasVersion(project: string, name: string, alias: string): Promise<number | null> {
    const history = await this.deps.store.aliasHistory(project, name, alias);
    return history.at(-1)?.fromVersion ?? null;
  }

  /**
   * Moves `alias` back: to `version` when given (it must have held the alias before), else to the
   * version it pointed at before the current one. No policy check: the version passed for this alias once.
   */
  async rollbackAlias(input: {
    project: string;
    model: string;
    alias: string;
    version?: number | null;
    actor: string;
    reason?: string;
  }): Promise<Alias> {
    const { project, model, alias, actor } = input;
    return audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      await this.deps.store.lockModel(project, model, tx);
      const history = await this.deps.store.aliasHistory(project, model, alias, tx);
      const current = await this.deps.store.getAlias(project, model, alias, tx);
      const target = input.version ?? history.at(-1)?.fromVersion ?? null;
      if (target === null) throw new ConflictError(`alias ${model}@${alias} has no earlier version to roll back to`);
      if (!history.some((e) => e.toVersion === target))
        throw new ConflictError(
          `${formatRef(model, target)} never held alias ${alias}; a rollback only returns to an earlier holder (set the alias instead)`,
        );
      if (current?.version === target)
        throw new ConflictError(`alias ${model}@${alias} already points at version ${target}`);
      const v = await this.deps.store.getVersion(project, model, target, tx);
      if (!v) throw new NotFoundError(`model version ${formatRef(model, target)} no longer exists`);
      return this.moveAlias(tx, record, {
        actor,
        v,
        alias,
        action: "rollback",
        decisionId: null,
        reason: input.reason,
      });
    });
  }

  // ---- approvals ----

  /**
   * Records an approver's word on a version, then re-evaluates the version's pending alias requests;
   * those that now pass are applied (the alias moves). The version's author can never approve it.
   */
  async review(input: {
    actor: string;
    role: string;
    project: string;
    ref: string;
    decision: "approve" | "reject";
    comment?: string;
  }): Promise<{ approval: Approval; outcomes: PromotionOutcome[] }> {
    const { actor, project } = input;
    const v = await this.resolve(project, input.ref);
    if (input.decision === "approve" && actor === v.author) {
      throw new ForbiddenError(
        `${actor} registered ${formatRef(v.modelName, v.version)} and cannot approve it; another approver must`,
      );
    }
    if (input.comment !== undefined && input.comment.length > 10_000)
      throw new InvalidInputError("comment: at most 10 000 characters");
    const approval: Approval = {
      id: newId(),
      project,
      modelName: v.modelName,
      version: v.version,
      userName: actor,
      role: input.role,
      decision: input.decision,
      comment: input.comment ?? "",
      at: nowMs(),
    };
    await audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      await this.deps.store.insertApproval(approval, tx);
      await record({
        actor,
        project,
        action: input.decision === "approve" ? "model.version.approve" : "model.version.reject",
        target: `model:${formatRef(v.modelName, v.version)}`,
        summary: { comment: approval.comment },
      });
    });
    const outcomes: PromotionOutcome[] = [];
    for (const req of await this.deps.store.listRequests(project, {
      modelName: v.modelName,
      version: v.version,
      status: "pending",
    })) {
      outcomes.push(await this.reevaluate(req, v, actor));
    }
    return { approval, outcomes };
  }

  private async reevaluate(req: PromotionRequest, v: ModelVersion, actor: string): Promise<PromotionOutcome> {
    const decision = await this.decide(req.project, v, req.target, req.policy, actor, req.id);
    return audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      await this.deps.store.lockModel(req.project, v.modelName, tx);
      await this.assertHoldersUnchanged(req.project, v.modelName, decision.compared, tx);
      const fresh = await this.deps.store.getRequest(req.id, tx);
      if (fresh?.status !== "pending")
        return { status: "refused" as const, version: v, request: fresh, decision: null, alias: null };
      await this.deps.store.insertDecision(decision, tx);
      let status: RequestStatus =
        decision.verdict === "pass" ? "applied" : decision.verdict === "pending" ? "pending" : "rejected";
      // Endpoint requests are applied by Serving on its next deploy; here they just stop waiting.
      if (status === "applied" && req.target.kind === "endpoint") status = "superseded";
      await this.deps.store.updateRequest(
        req.id,
        { status, decidedAt: status === "pending" ? null : decision.at, decisionId: decision.id },
        tx,
      );
      await record({
        actor,
        project: req.project,
        action: "model.promotion.decide",
        target: `model:${formatRef(v.modelName, v.version)}`,
        summary: {
          target: `${req.target.kind}:${req.target.name}`,
          verdict: decision.verdict,
          decision_id: decision.id,
          request_id: req.id,
        },
      });
      let alias: Alias | null = null;
      if (status === "applied" && req.target.kind === "alias") {
        alias = await this.moveAlias(tx, record, {
          actor,
          v,
          alias: req.target.name,
          action: "set",
          decisionId: decision.id,
        });
      }
      const request = { ...req, status, decisionId: decision.id };
      return {
        status: status === "applied" ? "applied" : status === "pending" ? "pending" : "refused",
        version: v,
        request,
        decision,
        alias,
      } as PromotionOutcome;
    });
  }

  approvals(project: string, name: string, version: number): Promise<Approval[]> {
    return this.deps.store.listApprovals(project, name, version);
  }

  decisions(project: string, name: string, version: number): Promise<Decision[]> {
    return this.deps.store.listDecisions(project, name, version);
  }

  requests(
    project: string,
    filter: { modelName?: string; version?: number; status?: RequestStatus } = {},
  ): Promise<PromotionRequest[]> {
    return this.deps.store.listRequests(project, filter);
  }

  /** Parses a ref's model name without resolving (for routes that act on a whole model). */
  static modelNameOf(ref: string): string {
    return parseModelRef(ref).name;
  }
}

/** What a refusal carries on the wire (snake_case, as every wire). */
export function outcomeDetails(o: PromotionOutcome): Record<string, unknown> {
  return {
    status: o.status,
    model: o.version.modelName,
    version: o.version.version,
    request_id: o.request?.id ?? null,
    decision_id: o.decision?.id ?? null,
    verdict: o.decision?.verdict ?? null,
    checks: (o.decision?.checks ?? []).map((c) => ({
      policy: c.policy,
      kind: c.kind,
      check: c.check,
      value: c.value,
      threshold: c.threshold,
      outcome: c.outcome,
      detail: c.detail,
    })),
  };
}
