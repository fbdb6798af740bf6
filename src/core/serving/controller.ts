/**
 * The endpoint controller: every tick, resolve each endpoint's selectors, judge its canary from the
 * prediction log's window stats, and apply `reconcile`'s decision in one audited transaction guarded
 * by the endpoint's revision. Any number of replicas run it; a stale replica's write simply misses.
 */
import { audited } from "../governance/audited.js";
import type { AuditLog } from "../governance/audit.js";
import { SYSTEM_USER } from "../governance/model.js";
import { NotFoundError } from "../errors.js";
import type { MetadataStore } from "../ports.js";
import { formatSelector, type Endpoint, type ModelSelector, type ServingEvent } from "./model.js";
import type { ModelResolver, PredictionLogStore, ServingAlertSink, ServingStore, WindowStats } from "./ports.js";
import { reconcile, type Effects } from "./reconcile.js";
import { judgeCanary, type SloVerdict } from "./slo.js";

export interface ControllerDeps {
  metadata: MetadataStore;
  audit: AuditLog;
  store: ServingStore;
  log: PredictionLogStore;
  resolver: ModelResolver;
  /** Called for every critical event after it is stored. */
  alertSink: () => ServingAlertSink;
}

export class EndpointController {
  constructor(private readonly deps: ControllerDeps) {}

  private async resolveVersion(
    e: Endpoint,
    selector: ModelSelector | null,
  ): Promise<{ version: number | null; commit: string | null }> {
    if (!selector) return { version: null, commit: null };
    try {
      const v = await this.deps.resolver.resolve(e.project, e.model, selector);
      return { version: v.version, commit: v.gitCommit };
    } catch (error) {
      if (error instanceof NotFoundError) return { version: null, commit: null };
      throw error;
    }
  }

  /** Versions this endpoint has served as primary before (from its deployment records). */
  private async servedBefore(e: Endpoint): Promise<Set<number>> {
    const records = await this.deps.store.listDeployments(e.project, { target: e.name, kind: "model", limit: 500 });
    const served = new Set<number>();
    for (const r of records)
      if (r.version !== null && r.outcome === "succeeded" && !r.reason.startsWith("canary")) served.add(r.version);
    for (const r of records) if (r.previousVersion !== null) served.add(r.previousVersion);
    return served;
  }

  /** The prediction log's stats over the SLO window, from when the current canary started at the earliest. */
  private windowStats(e: Endpoint, now: number): Promise<WindowStats[]> {
    const since = Math.max(now - e.slo.windowMs, e.canaryState?.since ?? 0);
    return this.deps.log.windowStats(e.project, e.name, since);
  }

  /** How the canary stands right now, judged as the next tick will judge it (null: no canary serves). */
  async judgeNow(e: Endpoint, now = Date.now()): Promise<SloVerdict | null> {
    if (e.canaryVersion === null) return null;
    return judgeCanary(e.slo, await this.windowStats(e, now), e.canaryVersion, e.primaryVersion);
  }

  /** Decides and applies one endpoint's next state. Returns the effects when something changed. */
  async step(current: Endpoint, actor = SYSTEM_USER, now = Date.now()): Promise<Effects | null> {
    const primary = await this.resolveVersion(current, current.primary);
    const canary = await this.resolveVersion(current, current.canary?.selector ?? null);
    const shadow = await this.resolveVersion(current, current.shadow);
    const commits = new Map<number, string | null>();
    for (const r of [primary, canary, shadow]) if (r.version !== null) commits.set(r.version, r.commit);
    const stats = current.canaryVersion !== null ? await this.windowStats(current, now) : null;
    const servedBefore =
      primary.version !== null && primary.version !== current.primaryVersion
        ? await this.servedBefore(current)
        : new Set<number>();
    const fx = reconcile(current, {
      primaryTarget: primary.version,
      canaryTarget: canary.version,
      shadowTarget: shadow.version,
      servedBefore,
      stats,
      commits,
      now,
      actor,
    });
    if (!fx.changed) return null;
    const applied = await this.apply(current, fx, actor, now);
    if (!applied) return null;
    if (fx.aliasRollback) {
      await this.deps.resolver.rollbackAlias({
        project: current.project,
        model: current.model,
        alias: fx.aliasRollback.alias,
        version: fx.aliasRollback.version,
        actor,
        role: null,
        automatic: true,
        reason: `endpoint ${current.name}: rollout broke its ${String(fx.events.find((ev) => ev.kind === "slo_breach")?.details.reason ?? "SLO")}`,
      });
    }
    for (const event of fx.events) if (event.severity === "critical") await this.deps.alertSink()(event);
    return fx;
  }

  /** Writes the effects if nobody changed the endpoint meanwhile. */
  async apply(current: Endpoint, fx: Effects, actor: string, now: number): Promise<boolean> {
    const next: Endpoint = { ...fx.endpoint, revision: current.revision + 1, updatedAt: now };
    return audited(this.deps.metadata, this.deps.audit, async (tx, record) => {
      if (!(await this.deps.store.updateEndpoint(next, current.revision, tx))) return false;
      for (const d of fx.deployments) await this.deps.store.insertDeployment(d, tx);
      for (const f of fx.finished) await this.deps.store.finishDeployment(f.id, f.outcome, now, f.details, tx);
      for (const ev of fx.events) await this.deps.store.insertEvent(ev, tx);
      await this.deps.store.bumpChangeCounter(tx);
      await record({
        actor,
        project: current.project,
        action: "endpoint.reconcile",
        target: `endpoint:${current.name}`,
        summary: {
          primary: `${formatSelector(current.model, current.primary)} → ${next.primaryVersion ?? "-"}`,
          canary_version: next.canaryVersion,
          shadow_version: next.shadowVersion,
          status: next.status,
          events: fx.events.map((e) => e.kind),
        },
      });
      return true;
    });
  }

  /** One pass over every endpoint (or those named `project/name` in `only`). Errors stay per endpoint. */
  async tick(only?: ReadonlySet<string>): Promise<ServingEvent[]> {
    const events: ServingEvent[] = [];
    for (const e of await this.deps.store.listEndpoints(null)) {
      if (only && !only.has(`${e.project}/${e.name}`)) continue;
      try {
        const fx = await this.step(e);
        if (fx) events.push(...fx.events);
      } catch {
        // One endpoint's trouble (a registry hiccup, a lost race) must not stop the others; next tick retries.
      }
    }
    return events;
  }
}
