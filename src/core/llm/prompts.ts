/**
 * The prompt registry: versions (immutable, deduplicated by content), references, diffs, aliases
 * that move only through the project's policies that govern prompts, their history, the
 * evaluations that judged each version (lineage) and approvals. Every change is audited.
 *
 * Policies: a policy governs a prompt when its `applies_to.prompts` lists the prompt's name (or
 * "*"). Its requirements are evaluated by the registry's policy engine (`evaluatePolicies`) on the
 * prompt version's evaluations: `metric: "exact.mean >= 0.8"`, `beats: production`, `approvals`.
 * A pending verdict (approvals missing) refuses the move with the decision; once the approvals are
 * in, setting the alias again passes. Rollback moves an alias back to a version that held it before
 * without re-checking, as for models (it passed then, and a rollback must be quick).
 */
import { audited } from "../governance/audited.js";
import type { AuditLog } from "../governance/audit.js";
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError, PolicyRefusedError } from "../errors.js";
import { isRole, roleAtLeast, type Role } from "../governance/model.js";
import { newId, nowMs } from "../ids.js";
import type { MetadataStore } from "../ports.js";
import { evaluatePolicies, verdictOf, type Incumbent } from "../registry/policy.js";
import { approvalRole } from "../registry/policy-approvals.js";
import type { CheckResult, Evaluation, Verdict } from "../registry/model.js";
import { checkAlias } from "../registry/refs.js";
import { promptPolicies, promptScope } from "./prompt-scope.js";
import type { Prompt, PromptAlias, PromptAliasEvent, PromptEvaluation, PromptVersion } from "./model.js";
import type { PromptPolicySource, PromptStore } from "./ports.js";
import { decidePromptRollback, reachedAlias } from "./prompt-rollback.js";
import {
  checkPromptName,
  diffVersions,
  normalizeContent,
  parsePromptRef,
  type PromptContent,
  type PromptDiff,
} from "./prompt-content.js";

export interface PromptDecision {
  verdict: Verdict;
  checks: CheckResult[];
  policies: string[];
}

function asEvaluation(e: PromptEvaluation): Evaluation {
  return {
    id: e.id,
    project: e.project,
    modelName: e.name,
    version: e.version,
    dataset: e.dataset,
    metrics: e.metrics,
    fairness: {},
    curves: null,
    runId: e.runId,
    createdBy: e.createdBy,
    createdAt: e.createdAt,
    source: e.source,
    pipelineRunId: e.pipelineRunId,
    step: e.step,
    stepRunId: e.stepRunId,
  };
}

function refuseRollback(decision: PromptDecision, target: string, v: PromptVersion): void {
  if (decision.verdict === "pass") return;
  const failed = decision.checks.filter((c) => c.outcome !== "pass").map((c) => `${c.check} (${c.detail})`);
  throw new ForbiddenError(`rollback of ${target} to ${v.name}@${v.version} refused: ${failed.join("; ")}`, {
    decision,
  });
}

export class PromptService {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly audit: AuditLog,
    readonly store: PromptStore,
    private readonly policySource: PromptPolicySource,
  ) {}

  /** Adds a version (or returns the existing one with the same content). */
  async createVersion(
    actor: string,
    project: string,
    name: string,
    content: PromptContent,
    options: {
      /** Whose work it is, when not the actor's: the person behind a pipeline run (four-eyes refuses them). */
      author?: string;
    } = {},
  ): Promise<{ version: PromptVersion; created: boolean }> {
    checkPromptName(name);
    const normal = normalizeContent(content);
    return audited(this.metadata, this.audit, async (tx, record) => {
      const now = nowMs();
      await this.store.insertPrompt(
        { project, name, description: content.description ?? "", createdBy: actor, createdAt: now, updatedAt: now },
        tx,
      );
      await this.store.lockPrompt(project, name, tx);
      const same = await this.store.findVersionBySha(project, name, normal.sha256, tx);
      if (same) return { version: same, created: false };
      const latest = await this.store.latestVersion(project, name, tx);
      const version: PromptVersion = {
        project,
        name,
        version: (latest?.version ?? 0) + 1,
        ...normal,
        description: content.description ?? "",
        author: options.author ?? actor,
        createdAt: now,
      };
      await this.store.insertVersion(version, tx);
      await this.store.touchPrompt(project, name, now, tx);
      await record({
        actor,
        project,
        action: "prompt.version.create",
        target: `prompt:${name}@${version.version}`,
        summary: { sha256: version.sha256, variables: version.variables, model: version.params.model ?? null },
      });
      return { version, created: true };
    });
  }

  async getPrompt(project: string, name: string): Promise<Prompt> {
    const p = await this.store.getPrompt(project, name);
    if (!p) throw new NotFoundError(`prompt ${JSON.stringify(name)} not found in project ${JSON.stringify(project)}`);
    return p;
  }

  /** `name@N`, `name@alias`, `name@latest` or `name` → that version. */
  async resolve(project: string, ref: string): Promise<PromptVersion> {
    const { name, selector } = parsePromptRef(ref);
    let version: PromptVersion | null;
    if (selector.kind === "latest") version = await this.store.latestVersion(project, name);
    else if (selector.kind === "number") version = await this.store.getVersion(project, name, selector.version);
    else {
      const alias = await this.store.getAlias(project, name, selector.alias);
      if (!alias) {
        await this.getPrompt(project, name);
        throw new NotFoundError(`prompt ${name} has no alias ${JSON.stringify(selector.alias)}`);
      }
      version = await this.store.getVersion(project, name, alias.version);
    }
    if (!version) {
      await this.getPrompt(project, name);
      throw new NotFoundError(`prompt ${ref} not found in project ${JSON.stringify(project)}`);
    }
    return version;
  }

  list(project: string) {
    return this.store.listPrompts(project);
  }

  async versions(project: string, name: string): Promise<PromptVersion[]> {
    await this.getPrompt(project, name);
    return this.store.listVersions(project, name);
  }

  aliases(project: string, name: string): Promise<PromptAlias[]> {
    return this.store.listAliases(project, name);
  }

  async diff(project: string, a: string, b: string): Promise<PromptDiff> {
    return diffVersions(await this.resolve(project, a), await this.resolve(project, b));
  }

  history(project: string, name: string, alias: string | null = null): Promise<PromptAliasEvent[]> {
    return this.store.aliasHistory(project, name, alias);
  }

  evaluations(project: string, name: string, version: number | null = null): Promise<PromptEvaluation[]> {
    return this.store.listEvaluations(project, name, version);
  }

  /** The policy verdict for giving `version` the target (an alias, or an endpoint that serves it). */
  async decide(
    project: string,
    version: PromptVersion,
    target: { kind: "alias" | "endpoint"; name: string },
    named: string | null = null,
    /** For an endpoint: the aliases its slot follows before and after the move (default: none). */
    follows: string[] = [],
  ): Promise<PromptDecision> {
    const all = await this.policySource.policies(project);
    if (named && !all[named])
      throw new NotFoundError(`policy ${named} is not declared in project ${project}; run tandem apply`);
    const scope = promptScope(version.name, target, follows);
    const policies = promptPolicies(all, scope, named);
    const incumbents: Record<string, Incumbent | null> = {};
    for (const spec of Object.values(policies))
      for (const req of spec.require) {
        if (!("beats" in req)) continue;
        const alias = typeof req.beats === "string" ? req.beats : req.beats.alias;
        const holder = await this.store.getAlias(project, version.name, alias);
        incumbents[alias] = holder
          ? {
              version: holder.version,
              evaluations: (await this.store.listEvaluations(project, version.name, holder.version)).map(asEvaluation),
            }
          : null;
      }
    const checks = evaluatePolicies(policies, {
      target,
      scope,
      candidateVersion: version.version,
      author: version.author,
      authorNote: `${version.author} created this version`,
      evaluations: (await this.store.listEvaluations(project, version.name, version.version)).map(asEvaluation),
      sourceRunId: null,
      runMetrics: {},
      canaries: {},
      incumbents,
      approvals: (await this.store.listApprovals(project, version.name, version.version)).map((a) => ({
        ...a,
        modelName: a.name,
      })),
    });
    return { verdict: verdictOf(checks), checks, policies: Object.keys(policies) };
  }

  /** Moves `alias` to the version `ref` names, when the policies governing the prompt pass. */
  async setAlias(
    actor: string,
    project: string,
    ref: string,
    alias: string,
    options: { policy?: string | null; reason?: string } = {},
  ): Promise<{ alias: PromptAlias; decision: PromptDecision }> {
    checkAlias(alias);
    const version = await this.resolve(project, ref);
    const decision = await this.decide(project, version, { kind: "alias", name: alias }, options.policy ?? null);
    if (decision.verdict !== "pass") {
      const failed = decision.checks.filter((c) => c.outcome !== "pass").map((c) => `${c.check} (${c.detail})`);
      const what = `${version.name}@${version.version} → ${alias}`;
      throw new PolicyRefusedError(
        decision.verdict === "pending"
          ? `policy holds ${what}: ${failed.join("; ")}; an approver runs: tandem prompts approve ${version.name}@${version.version}, then set the alias again`
          : `policy refused ${what}: ${failed.join("; ")}`,
        { decision },
      );
    }
    const moved = await this.moveAlias(actor, project, version, alias, "set", options.reason ?? "", decision);
    return { alias: moved, decision };
  }

  /**
   * Moves `alias` back to `version` (which must have held it before) by the rollback rule
   * (prompt-rollback.ts): ForbiddenError, naming the checks, when it refuses. The decision is kept
   * with the move in the alias history.
   */
  async rollbackAlias(
    actor: string,
    project: string,
    name: string,
    alias: string,
    version: number,
    reason: string,
    options: {
      /** The actor's role in the project (default: none, treated as a member). */
      role?: string | null;
      /** The platform's own rollback by an admin's rule (default: false). */
      automatic?: boolean;
    } = {},
  ) {
    const history = await this.store.aliasHistory(project, name, alias);
    if (!history.some((e) => e.toVersion === version))
      throw new ConflictError(`${name}@${version} never held ${alias}: a rollback returns to an earlier holder`);
    const v = await this.resolve(project, `${name}@${version}`);
    const decision = decidePromptRollback({
      version: v,
      target: `alias ${alias}`,
      reached: reachedAlias(history, version),
      approvals: await this.store.listApprovals(project, name, version),
      actor,
      role: options.role ?? null,
      automatic: options.automatic ? { reason } : undefined,
    });
    refuseRollback(decision, alias, v);
    return this.moveAlias(actor, project, v, alias, "rollback", reason, decision);
  }

  /**
   * The rollback rule for an endpoint that pins a prompt version: endpoint decisions are not kept per
   * endpoint, so "passed" means the policies governing the endpoint pass for it now. ForbiddenError
   * when refused.
   */
  async checkPinnedRollback(
    project: string,
    ref: string,
    endpoint: string,
    who: { actor: string; role: string | null },
  ): Promise<void> {
    const v = await this.resolve(project, ref);
    const now = await this.decide(project, v, { kind: "endpoint", name: endpoint });
    const decision = decidePromptRollback({
      version: v,
      target: `endpoint ${endpoint}`,
      reached: now.verdict === "pass" ? `the policies governing endpoint ${endpoint} pass for it` : null,
      approvals: await this.store.listApprovals(project, v.name, v.version),
      actor: who.actor,
      role: who.role,
    });
    refuseRollback(decision, `endpoint ${endpoint}`, v);
  }

  /** The version `alias` pointed at before its current one, or null. */
  async previousAliasVersion(project: string, name: string, alias: string): Promise<number | null> {
    const current = await this.store.getAlias(project, name, alias);
    const events = await this.store.aliasHistory(project, name, alias);
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i]!;
      if (e.toVersion === current?.version && e.fromVersion !== null && e.fromVersion !== current?.version)
        return e.fromVersion;
    }
    return null;
  }

  /**
   * Deleting an alias is a move to nothing: an LLM endpoint serving `name@alias` has nothing left to
   * render. As for models (Promotions.deleteAlias), an alias a policy governs needs the role that
   * could approve a move of it (approvalRole); one nothing governs stays a member's, as moving it.
   */
  async deleteAlias(actor: string, project: string, name: string, alias: string, role: Role | null): Promise<void> {
    const scope = promptScope(name, { kind: "alias", name: alias });
    const policies = promptPolicies(await this.policySource.policies(project), scope);
    const governing = Object.keys(policies);
    const needs = governing.length ? approvalRole(policies, scope) : null;
    if (needs && !roleAtLeast(role, needs))
      throw new ForbiddenError(
        `deleting alias ${alias} of prompt ${name} needs the ${needs} role (${actor} has ${role ?? "none"}): ${governing.map((p) => `policy ${p}`).join(", ")} governs it, and deleting it stops ${name}@${alias} resolving for every endpoint serving it`,
      );
    await audited(this.metadata, this.audit, async (tx, record) => {
      const before = await this.store.getAlias(project, name, alias, tx);
      if (!before) throw new NotFoundError(`prompt ${name} has no alias ${alias}`);
      await this.store.deleteAlias(project, name, alias, tx);
      await this.store.appendAliasEvent(
        {
          project,
          name,
          alias,
          action: "delete",
          fromVersion: before.version,
          toVersion: null,
          actor,
          reason: "",
          decision: null,
          at: nowMs(),
        },
        tx,
      );
      await record({ actor, project, action: "prompt.alias.delete", target: `prompt:${name}@${alias}` });
    });
  }

  private async moveAlias(
    actor: string,
    project: string,
    v: PromptVersion,
    alias: string,
    action: "set" | "rollback",
    reason: string,
    decision: PromptDecision | null,
  ): Promise<PromptAlias> {
    return audited(this.metadata, this.audit, async (tx, record) => {
      await this.store.lockPrompt(project, v.name, tx);
      const before = await this.store.getAlias(project, v.name, alias, tx);
      const next: PromptAlias = {
        project,
        name: v.name,
        alias,
        version: v.version,
        updatedBy: actor,
        updatedAt: nowMs(),
      };
      if (before?.version === v.version) return before;
      await this.store.putAlias(next, tx);
      const kind = action === "set" && before ? "move" : action;
      await this.store.appendAliasEvent(
        {
          project,
          name: v.name,
          alias,
          action: kind,
          fromVersion: before?.version ?? null,
          toVersion: v.version,
          actor,
          reason,
          decision,
          at: next.updatedAt,
        },
        tx,
      );
      await record({
        actor,
        project,
        action: action === "rollback" ? "prompt.alias.rollback" : "prompt.alias.set",
        target: `prompt:${v.name}@${alias}`,
        summary: { from: before?.version ?? null, to: v.version, verdict: decision?.verdict ?? null, reason },
      });
      return next;
    });
  }

  /** Links an evaluation run's metrics to a version (what policies read, and the version's lineage). */
  async recordEvaluation(
    actor: string,
    project: string,
    ref: string,
    input: {
      dataset: string;
      metrics: Record<string, number>;
      runId: string | null;
      /** Given by a `tandem/eval` step: pipeline evidence (default: none, manual evidence). */
      provenance?: { pipelineRunId: string; step: string; stepRunId: string } | null;
    },
  ): Promise<PromptEvaluation> {
    const v = await this.resolve(project, ref);
    const evaluation: PromptEvaluation = {
      id: newId(),
      project,
      name: v.name,
      version: v.version,
      runId: input.runId,
      dataset: input.dataset,
      metrics: input.metrics,
      createdBy: actor,
      createdAt: nowMs(),
      source: input.provenance ? "pipeline" : "manual",
      pipelineRunId: input.provenance?.pipelineRunId ?? null,
      step: input.provenance?.step ?? null,
      stepRunId: input.provenance?.stepRunId ?? null,
    };
    await audited(this.metadata, this.audit, async (tx, record) => {
      await this.store.insertEvaluation(evaluation, tx);
      await record({
        actor,
        project,
        action: "prompt.evaluation.record",
        target: `prompt:${v.name}@${v.version}`,
        summary: {
          dataset: input.dataset,
          run_id: input.runId,
          metrics: Object.keys(input.metrics).length,
          source: evaluation.source,
        },
      });
    });
    return evaluation;
  }

  /** An approver's word on a version; its author can never approve it. */
  async approve(
    actor: string,
    role: Role | null,
    project: string,
    ref: string,
    decision: "approve" | "reject",
    comment = "",
  ): Promise<void> {
    const v = await this.resolve(project, ref);
    if (v.author === actor) throw new ForbiddenError(`${actor} created ${v.name}@${v.version} and cannot approve it`);
    if (!role || !isRole(role)) throw new InvalidInputError("approving needs a role in the project");
    await audited(this.metadata, this.audit, async (tx, record) => {
      await this.store.insertApproval(
        {
          id: newId(),
          project,
          name: v.name,
          version: v.version,
          userName: actor,
          role,
          decision,
          comment,
          at: nowMs(),
        },
        tx,
      );
      await record({ actor, project, action: `prompt.${decision}`, target: `prompt:${v.name}@${v.version}` });
    });
  }
}
