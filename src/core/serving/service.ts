/**
 * Endpoints as users change them: deploy, rollback, promote, delete, and the deployment records of
 * models and software services. Every change is audited and bumps the change counter, so every
 * serving process (this one, another replica, `tandem serve`) picks it up within a poll interval.
 */
import { audited } from "../governance/audited.js";
import type { AuditLog } from "../governance/audit.js";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.js";
import { newId } from "../ids.js";
import type { MetadataStore } from "../ports.js";
import type { EndpointController } from "./controller.js";
import {
  DEFAULT_SLO,
  formatSelector,
  parseModelRef,
  parseSelector,
  type CanarySpec,
  type DeploymentRecord,
  type Endpoint,
  type ModelSelector,
  type ServingEvent,
  type SloSpec,
} from "./model.js";
import type { DeploymentFilter, ModelResolver, ServableVersion, ServingStore } from "./ports.js";
import { sloFromSpec } from "./slo.js";
import type { LlmEndpointConfig } from "../llm/model.js";

/** The shape of one `endpoints:` entry of tandem.yaml (see pipelines/spec/endpoints.ts). */
export interface SpecEndpoint {
  /** "model@alias"; absent for an LLM endpoint, whose `llm.prompt` is "prompt@alias". */
  model?: string;
  canary?: { alias: string; percent: number };
  shadow?: { alias: string; percent?: number };
  /** The canary judge's limits, snake_case as in tandem.yaml (see pipelines/spec/endpoints.ts). */
  slo?: {
    max_error_rate_increase?: number;
    max_p95_ratio?: number;
    significance?: number;
    latency_floor_ms?: number;
    latency_margin_ms?: number;
    window_seconds?: number;
    min_requests?: number;
    auto_promote_after_seconds?: number;
  };
  llm?: LlmSpec;
}

/** `endpoints.E.llm` of tandem.yaml (see pipelines/spec/endpoints.ts). */
export interface LlmSpec {
  upstream: string;
  model: string;
  prompt: string;
  api_key_secret?: string;
  log_content?: boolean;
  /** Upstream timeout in seconds (default 60). */
  timeout_seconds?: number;
}

/** The serving model name of a prompt: LLM endpoints serve `prompt:NAME`. */
export const PROMPT_MODEL_PREFIX = "prompt:";

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$/;

export interface DeployInput {
  model: string;
  primary: ModelSelector;
  canary?: CanarySpec | null;
  shadow?: ModelSelector | null;
  /** Share of requests mirrored to the shadow, 0–100 (default 100). */
  shadowPercent?: number;
  /** A policy checked on top of the governing ones (default: keep the endpoint's). */
  policy?: string | null;
  slo?: Partial<SloSpec>;
  /** An LLM endpoint's upstream (then `model` is `prompt:NAME`). */
  llm?: LlmEndpointConfig | null;
}

type SlotName = "primary" | "canary" | "shadow";

const sameSelector = (a: ModelSelector | null, b: ModelSelector): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The alias a selector follows, if any. */
const aliasOf = (s: ModelSelector | null | undefined): string[] => (s?.kind === "alias" ? [s.alias] : []);

export const SERVICE_DEPLOYMENT_REASONS = ["deploy", "rollback", "hotfix"] as const;
export type ServiceDeploymentReason = (typeof SERVICE_DEPLOYMENT_REASONS)[number];

export interface ServiceDeploymentInput {
  service: string;
  commit?: string | null;
  environment?: string | null;
  outcome?: "succeeded" | "failed";
  /** When it happened, ms (default now). */
  at?: number;
  /** When the commit was made, ms: where DORA's change lead time starts (default unknown). */
  commitAt?: number | null;
  /** A planned deployment, or an intervention after a failed one (default "deploy"). */
  reason?: ServiceDeploymentReason;
  /** Minutes-to-restore and lead-time inputs, free-form. */
  details?: Record<string, unknown>;
}

export class EndpointService {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly audit: AuditLog,
    private readonly store: ServingStore,
    private readonly resolver: ModelResolver,
    readonly controller: EndpointController,
    /** Checks that this host can serve a version before it is deployed (default: no check). */
    private readonly preflight: (version: ServableVersion) => Promise<void> = async () => undefined,
  ) {}

  async get(project: string, name: string): Promise<Endpoint> {
    const e = await this.store.getEndpoint(project, name);
    if (!e) throw new NotFoundError(`endpoint ${JSON.stringify(name)} not found in project ${JSON.stringify(project)}`);
    return e;
  }

  list(project: string): Promise<Endpoint[]> {
    return this.store.listEndpoints(project);
  }

  /**
   * Every slot whose version would change must pass every policy that governs it: the endpoint's, and
   * those of the aliases the slot follows before and after (so pinning a version into a slot that
   * followed `champion` meets `champion`'s approvals). A slot that keeps serving the same version
   * under the same selector moves nothing and is not re-checked. Every version is preflighted (it
   * can be served here). `policies: false` only for a rollback the registry's rule decided already.
   */
  private async checkSlots(
    project: string,
    name: string,
    input: DeployInput,
    existing: Endpoint | null,
    actor: string,
    policies: boolean,
  ): Promise<void> {
    const slots: Array<
      [SlotName, ModelSelector | null | undefined, ModelSelector | null, number | null, number | null]
    > = [
      ["primary", input.primary, existing?.primary ?? null, existing?.primaryVersion ?? null, null],
      [
        "canary",
        input.canary?.selector,
        existing?.canary?.selector ?? null,
        existing?.canaryVersion ?? null,
        input.canary?.percent ?? null,
      ],
      ["shadow", input.shadow, existing?.shadow ?? null, existing?.shadowVersion ?? null, null],
    ];
    for (const [slot, selector, before, served, percent] of slots) {
      if (!selector) continue;
      const v = await this.resolver.resolve(project, input.model, selector);
      await this.preflight(v);
      const samePercent = slot !== "canary" || existing?.canary?.percent === percent;
      const unchanged =
        existing?.model === input.model && served === v.version && sameSelector(before, selector) && samePercent;
      if (!policies || unchanged) continue;
      await this.resolver.checkDeployment({
        project,
        model: input.model,
        version: v.version,
        endpoint: name,
        slot,
        percent,
        follows: [...aliasOf(before), ...aliasOf(selector)],
        policies: [input.policy, existing?.policy],
        actor,
      });
    }
  }

  /**
   * Creates or updates an endpoint, after the policies accept every version it would newly serve.
   * The controller's reconcile then decides how traffic moves (directly, or through the canary).
   */
  async deploy(
    project: string,
    name: string,
    input: DeployInput,
    actor: string,
    options: { rollbackDecided?: boolean } = {},
  ): Promise<Endpoint> {
    if (!NAME.test(name))
      throw new InvalidInputError(
        `endpoint name ${JSON.stringify(name)} is not valid: letters, digits, '.', '_' or '-'`,
      );
    if (input.canary && (input.canary.percent < 0 || input.canary.percent > 100))
      throw new InvalidInputError("canary percent must be within 0-100");
    const existing = await this.store.getEndpoint(project, name);
    const policy = input.policy ?? existing?.policy ?? null;
    // A rollback was decided by the registry's rollback rule already (see rollback()).
    await this.checkSlots(project, name, input, existing, actor, !options.rollbackDecided);
    const now = Date.now();
    const slo: SloSpec = { ...DEFAULT_SLO, ...(existing?.slo ?? {}), ...(input.slo ?? {}) };
    const base: Endpoint = existing ?? {
      project,
      name,
      model: input.model,
      primary: input.primary,
      canary: null,
      shadow: null,
      shadowPercent: 100,
      slo,
      policy,
      primaryVersion: null,
      canaryVersion: null,
      shadowVersion: null,
      rollout: null,
      canaryState: null,
      blockedCanaryVersion: null,
      status: "serving",
      revision: 0,
      createdAt: now,
      updatedAt: now,
      createdBy: actor,
      llm: input.llm ?? null,
    };
    if (existing && existing.model !== input.model) {
      throw new ConflictError(
        `endpoint ${name} serves model ${existing.model}; delete it first to serve ${input.model}`,
      );
    }
    const wanted: Endpoint = {
      ...base,
      primary: input.primary,
      canary: input.canary ?? null,
      shadow: input.shadow ?? null,
      shadowPercent: input.shadowPercent ?? 100,
      slo,
      policy,
      // An explicit deploy clears a block: the user asked for these versions.
      blockedCanaryVersion: null,
      llm: input.llm === undefined ? (existing?.llm ?? null) : input.llm,
    };
    await audited(this.metadata, this.audit, async (tx, record) => {
      if (existing) {
        if (
          !(await this.store.updateEndpoint(
            { ...wanted, revision: existing.revision + 1, updatedAt: now },
            existing.revision,
            tx,
          ))
        ) {
          throw new ConflictError(`endpoint ${name} changed while deploying; try again`);
        }
      } else {
        await this.store.insertEndpoint({ ...wanted, revision: 1 }, tx);
      }
      await this.store.bumpChangeCounter(tx);
      await record({
        actor,
        project,
        action: existing ? "endpoint.update" : "endpoint.create",
        target: `endpoint:${name}`,
        summary: {
          primary: formatSelector(input.model, input.primary),
          canary: input.canary
            ? `${formatSelector(input.model, input.canary.selector)} ${input.canary.percent}%`
            : null,
          shadow: input.shadow ? formatSelector(input.model, input.shadow) : null,
          policy,
        },
      });
    });
    const stored = await this.get(project, name);
    await this.controller.step(stored, actor);
    return this.get(project, name);
  }

  /** Returns the primary to `to`: the alias moves back (alias-following) or the pin changes; a decision either way. */
  private async returnPrimary(e: Endpoint, to: number, actor: string, role: string | null): Promise<void> {
    if (e.primary.kind === "alias") {
      await this.resolver.rollbackAlias({
        project: e.project,
        model: e.model,
        alias: e.primary.alias,
        version: to,
        actor,
        role,
        reason: `endpoint ${e.name} rollback`,
      });
      return;
    }
    await this.resolver.checkEndpointRollback({
      project: e.project,
      model: e.model,
      version: to,
      endpoint: e.name,
      actor,
      role,
    });
    await this.deploy(
      e.project,
      e.name,
      {
        model: e.model,
        primary: { kind: "version", version: to },
        canary: e.canary,
        shadow: e.shadow,
        shadowPercent: e.shadowPercent,
        policy: e.policy,
      },
      actor,
      { rollbackDecided: true },
    );
  }

  /**
   * Moves traffic and the alias back together: an in-flight rollout or canary stops; otherwise the
   * primary returns to the version it served before, and an alias-following endpoint's alias moves
   * back to it too, so the next tick does not roll forward again. A rollback is a decision: the
   * registry's rule (a version that passed and has no rejection since, else an approver) decides it.
   */
  async rollback(
    project: string,
    name: string,
    actor: string,
    role: string | null = null,
  ): Promise<{ endpoint: Endpoint; from: number | null; to: number | null }> {
    const e = await this.get(project, name);
    if (e.rollout) {
      const to = e.rollout.previousVersion;
      if (to !== null) await this.returnPrimary(e, to, actor, role);
      await this.controller.step(await this.get(project, name), actor);
      return { endpoint: await this.get(project, name), from: e.rollout.version, to };
    }
    const records = await this.store.listDeployments(project, { target: name, kind: "model", limit: 500 });
    const current = records.find(
      (r) => r.version === e.primaryVersion && r.outcome === "succeeded" && r.previousVersion !== null,
    );
    const to = current?.previousVersion ?? null;
    if (to === null || e.primaryVersion === null)
      throw new ConflictError(`endpoint ${name} has no earlier version to roll back to`);
    await this.returnPrimary(e, to, actor, role);
    if (e.primary.kind === "alias") await this.controller.step(await this.get(project, name), actor);
    await audited(this.metadata, this.audit, async (tx, record) => {
      await this.store.finishDeployment(current!.id, "rolled_back", Date.now(), { rolled_back_by: actor }, tx);
      await record({
        actor,
        project,
        action: "endpoint.rollback",
        target: `endpoint:${name}`,
        summary: { from: e.primaryVersion, to },
      });
    });
    return { endpoint: await this.get(project, name), from: e.primaryVersion, to };
  }

  /** The canary becomes primary, under the policy (an alias-following primary gets its alias moved). */
  async promote(project: string, name: string, actor: string): Promise<Endpoint> {
    const e = await this.get(project, name);
    const version = e.canaryVersion;
    if (version === null) throw new ConflictError(`endpoint ${name} has no canary to promote`);
    await this.resolver.checkDeployment({
      project,
      model: e.model,
      version,
      endpoint: name,
      slot: "primary",
      percent: null,
      follows: aliasOf(e.primary),
      policies: [e.policy],
      actor,
    });
    if (e.rollout) {
      const now = Date.now();
      const next: Endpoint = {
        ...e,
        primaryVersion: version,
        canaryVersion: null,
        canaryState: null,
        rollout: null,
        status: "serving",
      };
      const event: ServingEvent = {
        id: newId(),
        project,
        endpoint: name,
        at: now,
        kind: "promoted",
        severity: "info",
        message: `${e.model}@${version} promoted to primary by ${actor}`,
        deploymentId: e.rollout.deploymentId,
        details: {},
      };
      const ok = await this.controller.apply(
        e,
        {
          endpoint: next,
          changed: true,
          deployments: [],
          finished: [{ id: e.rollout.deploymentId, outcome: "succeeded", details: { promoted_by: actor } }],
          events: [event],
          aliasRollback: null,
        },
        actor,
        now,
      );
      if (!ok) throw new ConflictError(`endpoint ${name} changed while promoting; try again`);
    } else if (e.primary.kind === "alias") {
      await this.resolver.promoteAlias({
        project,
        model: e.model,
        alias: e.primary.alias,
        version,
        actor,
        policy: e.policy,
      });
      await this.controller.step(await this.get(project, name), actor);
    } else {
      await this.deploy(
        project,
        name,
        {
          model: e.model,
          primary: { kind: "version", version },
          canary: e.canary,
          shadow: e.shadow,
          shadowPercent: e.shadowPercent,
          policy: e.policy,
        },
        actor,
      );
    }
    return this.get(project, name);
  }

  /**
   * `endpoints:` of an applied tandem.yaml: each endpoint is deployed as declared (policies checked),
   * unchanged ones are left alone, so applying the same spec twice is a no-op. Endpoints missing
   * from the spec are not deleted (a typo must not take a model offline): `tandem endpoints rm` does.
   */
  async applySpec(actor: string, project: string, endpoints: Record<string, SpecEndpoint>): Promise<string[]> {
    const changed: string[] = [];
    for (const [name, spec] of Object.entries(endpoints)) {
      const text = spec.llm ? `${PROMPT_MODEL_PREFIX}${spec.llm.prompt}` : (spec.model ?? "");
      const ref = parseModelRef(text);
      if (!ref)
        throw new InvalidInputError(
          spec.llm
            ? `endpoints.${name}.llm.prompt: expected "prompt@alias", got ${JSON.stringify(spec.llm.prompt)}`
            : `endpoints.${name}.model: expected "model@alias", got ${JSON.stringify(spec.model)}`,
        );
      const llm: LlmEndpointConfig | null = spec.llm
        ? {
            upstream: spec.llm.upstream,
            model: spec.llm.model,
            apiKeySecret: spec.llm.api_key_secret ?? null,
            logContent: spec.llm.log_content ?? true,
            timeoutMs: (spec.llm.timeout_seconds ?? 60) * 1000,
          }
        : null;
      const canary = spec.canary ? { selector: parseSelector(spec.canary.alias), percent: spec.canary.percent } : null;
      const shadow = spec.shadow ? parseSelector(spec.shadow.alias) : null;
      const shadowPercent = spec.shadow?.percent ?? 100;
      const current = await this.store.getEndpoint(project, name);
      const slo = sloFromSpec(spec.slo);
      const same =
        current &&
        current.model === ref.model &&
        JSON.stringify(current.primary) === JSON.stringify(ref.selector) &&
        JSON.stringify(current.canary) === JSON.stringify(canary) &&
        JSON.stringify(current.shadow) === JSON.stringify(shadow) &&
        current.shadowPercent === shadowPercent &&
        JSON.stringify(current.llm) === JSON.stringify(llm) &&
        Object.entries(slo ?? {}).every(([k, v]) => current.slo[k as keyof SloSpec] === v);
      if (same) continue;
      await this.deploy(
        project,
        name,
        {
          model: ref.model,
          primary: ref.selector,
          canary,
          shadow,
          shadowPercent,
          policy: current?.policy ?? null,
          llm,
          ...(slo ? { slo } : {}),
        },
        actor,
      );
      changed.push(name);
    }
    return changed;
  }

  async remove(project: string, name: string, actor: string): Promise<void> {
    await this.get(project, name);
    await audited(this.metadata, this.audit, async (tx, record) => {
      await this.store.deleteEndpoint(project, name, tx);
      await this.store.bumpChangeCounter(tx);
      await record({ actor, project, action: "endpoint.delete", target: `endpoint:${name}` });
    });
  }

  /** A software service's rollout, recorded for DORA metrics. */
  async recordServiceDeployment(
    project: string,
    input: ServiceDeploymentInput,
    actor: string,
  ): Promise<DeploymentRecord> {
    if (!NAME.test(input.service))
      throw new InvalidInputError(`service name ${JSON.stringify(input.service)} is not valid`);
    const at = input.at ?? Date.now();
    if (input.commitAt != null && input.commitAt > at)
      throw new InvalidInputError(
        `commit_at (${new Date(input.commitAt).toISOString()}) is after the deployment (${new Date(at).toISOString()}): a commit is made before it ships`,
      );
    const record: DeploymentRecord = {
      id: newId(),
      project,
      kind: "service",
      target: input.service,
      model: null,
      version: null,
      previousVersion: null,
      commit: input.commit ?? null,
      commitAt: input.commitAt ?? null,
      environment: input.environment ?? null,
      reason: input.reason ?? "deploy",
      actor,
      outcome: input.outcome ?? "succeeded",
      startedAt: at,
      finishedAt: at,
      details: input.details ?? {},
    };
    await audited(this.metadata, this.audit, async (tx, rec) => {
      await this.store.insertDeployment(record, tx);
      await rec({
        actor,
        project,
        action: "deployment.record",
        target: `service:${input.service}`,
        summary: { commit: record.commit, outcome: record.outcome },
      });
    });
    return record;
  }

  listDeployments(project: string, filter: DeploymentFilter): Promise<DeploymentRecord[]> {
    return this.store.listDeployments(project, filter);
  }

  listEvents(project: string, endpoint: string | null, limit = 100): Promise<ServingEvent[]> {
    return this.store.listEvents(project, endpoint, limit);
  }
}
