/**
 * The gate: aliases, endpoint slots and MLflow stages move only through here. A promotion request
 * is evaluated against every policy that governs what it changes (decisions.ts); the decision
 * record is stored whatever the verdict; a `pass` moves the alias (or stage) in the same
 * transaction; `pending` (only approvals missing) keeps the request open until approvals arrive,
 * when it is re-evaluated and applied by itself; `fail` refuses it. Rollbacks are in rollback.ts.
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
import { PolicyGate, type DecisionWithCompared } from "./decisions.js";
import { emptyScope, type EndpointSlot, type TargetScope } from "./policy-scope.js";
import { roleAtLeast, type Role } from "../governance/model.js";
import { approvalRole } from "./policy-approvals.js";
import { outcomeDetails } from "./promotion-wire.js";

export { checkToWire, outcomeDetails } from "./promotion-wire.js";
import { checkAlias, formatRef, parseModelRef } from "./refs.js";

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
  /** A policy to evaluate on top of the governing ones (never instead of them). */
  policy?: string | null;
  /** More policies to add (an endpoint's own `policy` beside the caller's). */
  policies?: Array<string | null | undefined>;
  /** What the move changes; alias and stage targets compute it (endpoint targets: Serving passes it). */
  scope?: TargetScope;
}

/** One endpoint slot a deploy changes, as Serving describes it. */
export interface DeploymentCheck {
  project: string;
  model: string;
  version: number;
  endpoint: string;
  slot: EndpointSlot["slot"];
  /** The canary's share of traffic (null for primary and shadow). */
  percent: number | null;
  /** Aliases the slot follows before and after the deploy (a pinned version follows none). */
  follows: string[];
  /** Policies added by the caller or the endpoint (never instead of the governing ones). */
  policies: Array<string | null | undefined>;
  actor: string;
}

function refusalMessage(o: PromotionOutcome): string {
  const target = o.request?.target ?? o.decision?.target;
  const what = `${formatRef(o.version.modelName, o.version.version)} → ${target?.kind ?? "alias"} ${target?.name ?? ""}`;
  const checks = o.decision?.checks ?? [];
  if (o.status === "pending") {
    const awaited = checks
      .filter((c) => c.outcome === "pending")
      .map((c) => `policy ${c.policy}: ${c.detail}`)
      .join("; ");
    return `policy holds ${what}: awaiting approval — ${awaited} (request ${o.request?.id}); an approver other than ${o.version.author} runs: tandem models approve ${formatRef(o.version.modelName, o.version.version)}`;
  }
  const failed = checks.filter((c) => c.outcome === "fail").map((c) => `policy ${c.policy}: ${c.check} (${c.detail})`);
  return `policy refused ${what}: ${failed.join("; ")}`;
}

export abstract class Promotions extends PolicyGate {
  protected async moveAlias(
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
  protected async assertHoldersUnchanged(
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

  /** Applies a passed decision: moves the alias, or sets the stage. Endpoint targets are Serving's to apply. */
  private async applyTarget(
    tx: Tx,
    record: RecordAudit,
    actor: string,
    v: ModelVersion,
    target: PromotionTarget,
    decisionId: string,
  ): Promise<Alias | null> {
    if (target.kind === "alias")
      return this.moveAlias(tx, record, { actor, v, alias: target.name, action: "set", decisionId });
    if (target.kind === "stage") await this.writeStage(tx, record, actor, v, target.name, false);
    return null;
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
    const scope = input.scope ?? (await this.scopeOf(project, v.modelName, target));
    const added = [...new Set([input.policy, ...(input.policies ?? [])].filter((p): p is string => !!p))];
    const requestId = newId();
    const decision = await this.decide({
      project,
      version: v,
      target,
      scope,
      added,
      evaluatedBy: actor,
      requestId,
    });
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
        policy: added.length ? added.join(",") : null,
        scope,
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
      await this.recordDecision(tx, record, actor, decision, request.id);
      const alias = status === "applied" ? await this.applyTarget(tx, record, actor, v, target, decision.id) : null;
      return { status: status as PromotionOutcome["status"], version: v, request, decision, alias };
    });
  }

  protected async recordDecision(
    tx: Tx,
    record: RecordAudit,
    actor: string,
    decision: Decision,
    requestId: string | null,
  ): Promise<void> {
    await this.deps.store.insertDecision(decision, tx);
    await record({
      actor,
      project: decision.project,
      action: decision.action === "rollback" ? "model.rollback.decide" : "model.promotion.decide",
      target: `model:${formatRef(decision.modelName, decision.version)}`,
      summary: {
        target: `${decision.target.kind}:${decision.target.name}`,
        verdict: decision.verdict,
        decision_id: decision.id,
        ...(requestId ? { request_id: requestId } : {}),
        policies: decision.governing.map((g) => g.policy),
        failed: decision.checks.filter((c) => c.outcome !== "pass").map((c) => c.check),
      },
    });
  }

  /** Like `promote` for an alias, but throws PolicyRefusedError (409) unless the alias moved; details hold the decision. */
  async setAlias(input: Omit<PromoteInput, "target"> & { alias: string }): Promise<PromotionOutcome> {
    const outcome = await this.promote({ ...input, target: { kind: "alias", name: input.alias } });
    if (outcome.status !== "applied") throw new PolicyRefusedError(refusalMessage(outcome), outcomeDetails(outcome));
    return outcome;
  }

  /**
   * MLflow's stage transition: `Staging` and `Production` are moves under the policies (MLflow
   * clients load `models:/name/Production`); `None` and `Archived` take a version out and need none.
   */
  async requestStage(input: {
    actor: string;
    project: string;
    name: string;
    version: number;
    stage: string;
    archiveExisting: boolean;
  }): Promise<ModelVersion> {
    const stage = this.stageName(input.stage);
    if (stage === "None" || stage === "Archived")
      return this.transitionStage(input.actor, input.project, input.name, input.version, stage, input.archiveExisting);
    const outcome = await this.promote({
      actor: input.actor,
      project: input.project,
      ref: formatRef(input.name, input.version),
      target: { kind: "stage", name: stage },
    });
    if (outcome.status !== "applied") throw new PolicyRefusedError(refusalMessage(outcome), outcomeDetails(outcome));
    if (input.archiveExisting)
      return this.transitionStage(input.actor, input.project, input.name, input.version, stage, true);
    return this.getVersion(input.project, input.name, input.version);
  }

  /** Serving: every governing policy must pass before `version` takes the slot; throws PolicyRefusedError otherwise. */
  async checkDeployment(input: DeploymentCheck): Promise<void> {
    const scope = emptyScope(input.model);
    scope.aliases.push(...new Set(input.follows));
    scope.endpoints.push({ endpoint: input.endpoint, slot: input.slot, percent: input.percent });
    const outcome = await this.promote({
      actor: input.actor,
      project: input.project,
      ref: formatRef(input.model, input.version),
      target: { kind: "endpoint", name: input.endpoint },
      policies: input.policies,
      scope,
    });
    if (outcome.status !== "applied") throw new PolicyRefusedError(refusalMessage(outcome), outcomeDetails(outcome));
  }

  /**
   * The role deleting `name@alias` needs: deleting is a move to nothing (`models:/m@champion` stops
   * resolving, an endpoint following it has nothing to follow), so when a policy governs the alias,
   * directly or through an endpoint slot following it (the scope a move of it has), it needs the
   * role that could approve such a move (approvalRole); nothing governing it, a member's, as moving it.
   */
  private async roleToDelete(
    project: string,
    name: string,
    alias: string,
  ): Promise<{ role: Role; why: string } | null> {
    const scope = await this.scopeOf(project, name, { kind: "alias", name: alias });
    const { reasons, policies } = await this.governing(project, scope);
    if (reasons.length === 0) return null;
    return {
      role: approvalRole(policies, scope),
      why: reasons.map((r) => `policy ${r.policy} (${r.reason})`).join("; "),
    };
  }

  async deleteAlias(actor: string, project: string, name: string, alias: string, role: Role | null): Promise<void> {
    const needs = await this.roleToDelete(project, name, alias);
    if (needs && !roleAtLeast(role, needs.role))
      throw new ForbiddenError(
        `deleting alias ${alias} of model ${name} needs the ${needs.role} role (${actor} has ${role ?? "none"}): ${needs.why} governs it, and deleting it stops ${name}@${alias} resolving for every client and endpoint following it`,
      );
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

  // ---- approvals ----

  /**
   * Records an approver's word on a version, then re-evaluates the version's pending requests;
   * those that now pass are applied (the alias moves). The person behind the version — its author,
   * also when a pipeline registered it on their behalf — can never approve it.
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
        `${actor} cannot approve ${formatRef(v.modelName, v.version)}: ${v.authorNote || "they registered it"}; another approver must`,
        { model: v.modelName, version: v.version, author: v.author, via: v.via, reason: v.authorNote },
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
    // What an alias move changes is read again: an endpoint slot may have started following the alias
    // since the request was made, and its policies govern the move now. Endpoint requests keep the
    // slot Serving described (Serving applies them, checking again, on its next deploy).
    const scope =
      req.target.kind === "endpoint" && req.scope
        ? req.scope
        : await this.scopeOf(req.project, v.modelName, req.target);
    const decision: DecisionWithCompared = await this.decide({
      project: req.project,
      version: v,
      target: req.target,
      scope,
      added: req.policy ? req.policy.split(",") : [],
      evaluatedBy: actor,
      requestId: req.id,
    });
    return audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      await this.deps.store.lockModel(req.project, v.modelName, tx);
      await this.assertHoldersUnchanged(req.project, v.modelName, decision.compared, tx);
      const fresh = await this.deps.store.getRequest(req.id, tx);
      if (fresh?.status !== "pending")
        return { status: "refused" as const, version: v, request: fresh, decision: null, alias: null };
      let status: RequestStatus =
        decision.verdict === "pass" ? "applied" : decision.verdict === "pending" ? "pending" : "rejected";
      // Endpoint requests are applied by Serving on its next deploy; here they just stop waiting.
      if (status === "applied" && req.target.kind === "endpoint") status = "superseded";
      await this.deps.store.updateRequest(
        req.id,
        { status, decidedAt: status === "pending" ? null : decision.at, decisionId: decision.id },
        tx,
      );
      await this.recordDecision(tx, record, actor, decision, req.id);
      const alias = status === "applied" ? await this.applyTarget(tx, record, actor, v, req.target, decision.id) : null;
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
