/**
 * Deciding a move: which policies govern it (policy-scope.ts), the evidence they read (evaluations
 * with provenance, source-run metrics, alias holders, canary records, approvals, the person behind
 * the version) and the decision record. Between the catalog (catalog.ts) and the moves that act on a
 * decision (promotion.ts, rollback.ts).
 */
import { NotFoundError } from "../errors.js";
import { newId, nowMs } from "../ids.js";
import { isRole, lowerRole, type Role } from "../governance/model.js";
import type { Approval, Decision, ModelVersion, PromotionTarget } from "./model.js";
import {
  aliasesCompared,
  canaryEndpoints,
  evaluatePolicies,
  verdictOf,
  type CanaryStats,
  type Incumbent,
  type PolicySpec,
  type RunMetric,
} from "./policy.js";
import {
  describeScope,
  emptyScope,
  governingPolicies,
  unknownPolicies,
  type EndpointSlot,
  type TargetScope,
} from "./policy-scope.js";
import { ModelCatalog } from "./catalog.js";

export type DecisionWithCompared = Decision & {
  /** Alias → the version it held when evaluated (a `beats` check's opponent), to detect races. */
  compared: Record<string, number | null>;
};

export interface DecideInput {
  project: string;
  version: ModelVersion;
  target: PromotionTarget;
  /** What the move changes (see scopeOf for alias and stage targets; serving builds endpoint ones). */
  scope: TargetScope;
  /** Policies the caller adds (`--policy`, an endpoint's `policy`); they never replace the governing ones. */
  added: Array<string | null | undefined>;
  evaluatedBy: string;
  requestId: string | null;
}

export abstract class PolicyGate extends ModelCatalog {
  /** The scope of moving `model`'s alias or stage: for an alias, also every endpoint slot following it. */
  protected async scopeOf(project: string, model: string, target: PromotionTarget): Promise<TargetScope> {
    const scope = emptyScope(model);
    switch (target.kind) {
      case "alias":
        scope.aliases.push(target.name);
        if (this.deps.serving)
          scope.endpoints.push(...(await this.deps.serving.followers(project, model, target.name)));
        return scope;
      case "stage":
        scope.stages.push(target.name);
        return scope;
      case "endpoint":
        // Serving knows the slot; endpoint scopes come from endpointScope().
        scope.endpoints.push({ endpoint: target.name, slot: "primary", percent: null });
        return scope;
    }
  }

  /** The policies that govern `scope` plus the ones named; a name that does not exist is an error. */
  async governing(
    project: string,
    scope: TargetScope,
    added: Array<string | null | undefined> = [],
  ): Promise<{ policies: Record<string, PolicySpec>; reasons: Decision["governing"] }> {
    const all = await this.policySource.policies(project);
    const unknown = unknownPolicies(all, added);
    if (unknown.length)
      throw new NotFoundError(
        `policy ${unknown.join(", ")} is not declared in project ${project} (declared: ${Object.keys(all).join(", ") || "none"}); run tandem apply`,
      );
    const governing = governingPolicies(all, scope, added);
    return {
      policies: Object.fromEntries(governing.map((g) => [g.name, g.spec])),
      reasons: governing.map((g) => ({ policy: g.name, reason: g.reason })),
    };
  }

  /**
   * The source run's latest metrics, each `pipeline` only when a built-in step computed it while it
   * ran. A `run:` step's metrics file is the project's own code speaking (a member writes that code),
   * so it is manual evidence like a metric logged through the API.
   */
  private async runMetrics(project: string, runId: string | null): Promise<Record<string, RunMetric>> {
    if (!runId) return {};
    const run = await this.deps.lineage.getRun(project, runId);
    if (!run) return {};
    const step = this.deps.pipelines ? await this.deps.pipelines.stepOfRun(project, runId) : null;
    const computed = (k: string, value: number) => step !== null && step.uses !== null && step.metrics[k] === value;
    return Object.fromEntries(
      Object.entries(run.metrics).map(([k, value]) => [
        k,
        { value, source: computed(k, value) ? ("pipeline" as const) : ("manual" as const) },
      ]),
    );
  }

  private async canaries(
    project: string,
    v: ModelVersion,
    policies: Record<string, PolicySpec>,
  ): Promise<Record<string, CanaryStats>> {
    const out: Record<string, CanaryStats> = {};
    for (const endpoint of canaryEndpoints(policies)) {
      out[endpoint] = this.deps.serving
        ? await this.deps.serving.canaryStats(project, endpoint, v.modelName, v.version)
        : {
            served: false,
            failed: null,
            canary: { requests: 0, errors: 0, p95Ms: null, latencyHist: [] },
            primary: null,
          };
    }
    return out;
  }

  /**
   * Approvals as they count today: each with the lower of the role its approver decided with and the
   * role they hold now, and none once they have left the project. An approval is a person's word
   * under their role: demoting or removing an approver takes back what it was worth, as GitHub counts
   * a review only from someone who still has write access when the change merges. Without this, an
   * approver removed for cause still unlocked every later move of the versions they had approved.
   */
  private async approvalsAsTheyCount(project: string, approvals: Approval[]): Promise<Approval[]> {
    const people = this.deps.people;
    if (!people) return approvals;
    const now = new Map<string, Role | null>();
    for (const a of approvals) if (!now.has(a.userName)) now.set(a.userName, await people.roleOf(a.userName, project));
    return approvals.map((a) => {
      const current = now.get(a.userName) ?? null;
      const role = current && isRole(a.role) ? lowerRole(a.role, current) : "none";
      return role === a.role ? a : { ...a, role };
    });
  }

  /** Evaluates the governing policies for a move and builds its decision record (not stored here). */
  protected async decide(input: DecideInput): Promise<DecisionWithCompared> {
    const { project, version: v, target, scope } = input;
    const { policies, reasons } = await this.governing(project, scope, input.added);
    const store = this.deps.store;
    const incumbents: Record<string, Incumbent | null> = {};
    const compared: Record<string, number | null> = {};
    for (const alias of aliasesCompared(policies)) {
      const holder = await store.getAlias(project, v.modelName, alias);
      compared[alias] = holder?.version ?? null;
      // A deleted alias is compared with its last holder: deleting `champion` (a member may) must not
      // make "beats champion" pass as if no champion had ever been chosen.
      const last = holder ? null : ((await store.aliasHistory(project, v.modelName, alias)).at(-1) ?? null);
      const version = holder?.version ?? last?.fromVersion ?? null;
      incumbents[alias] =
        version === null
          ? null
          : { version, evaluations: await store.listEvaluations(project, v.modelName, version), deleted: !holder };
    }
    const checks = evaluatePolicies(policies, {
      target,
      scope,
      candidateVersion: v.version,
      author: v.author,
      authorNote: v.authorNote,
      evaluations: await store.listEvaluations(project, v.modelName, v.version),
      sourceRunId: v.sourceRunId,
      runMetrics: await this.runMetrics(project, v.sourceRunId),
      incumbents,
      approvals: await this.approvalsAsTheyCount(project, await store.listApprovals(project, v.modelName, v.version)),
      canaries: await this.canaries(project, v, policies),
    });
    return {
      compared,
      id: newId(),
      project,
      modelName: v.modelName,
      version: v.version,
      requestId: input.requestId,
      target,
      verdict: verdictOf(checks),
      checks,
      evaluatedBy: input.evaluatedBy,
      at: nowMs(),
      action: "promote",
      scope: describeScope(scope),
      governing: reasons,
    };
  }
}

export type { EndpointSlot };
