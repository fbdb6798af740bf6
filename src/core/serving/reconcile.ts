/**
 * One endpoint's state machine, pure: given what its selectors resolve to now and the canary's
 * window stats, decide the next state and its effects (deployment records, events, an alias to
 * move back). The controller runs it every tick on every replica; the revision check in the store
 * makes exactly one replica's decision land.
 *
 * Transitions
 * - primary resolves to a new version, the endpoint serves nothing yet → serve it (deployment
 *   succeeded).
 * - … the endpoint has a canary configured and the version was never primary here → rollout: the new
 *   version takes the canary slot at the canary percentage (deployment in progress).
 * - … otherwise (no canary, or moving back to a version served before = a rollback) → switch at once.
 * - rollout whose SLO breaks → traffic stays on the previous primary, the version is blocked, the
 *   alias is moved back (so alias and traffic agree), a critical event (alert), deployment failed.
 * - rollout healthy for `autoPromoteAfterMs` (when > 0) → it becomes primary (deployment succeeded).
 * - canary alias version (no rollout) whose SLO breaks → its traffic stops, it is blocked until the
 *   canary alias moves, alert, its deployment failed.
 */
import { newId } from "../ids.js";
import type {
  DeploymentOutcome,
  DeploymentRecord,
  Endpoint,
  ServingEvent,
  ServingEventKind,
  Severity,
} from "./model.js";
import type { WindowStats } from "./ports.js";
import { breachDetails, judgeCanary } from "./slo.js";

export interface Observed {
  /** What the primary selector resolves to now (null: unresolvable, e.g. alias deleted). */
  primaryTarget: number | null;
  canaryTarget: number | null;
  shadowTarget: number | null;
  /** Versions this endpoint served as primary before (a move back to one is a rollback). */
  servedBefore: ReadonlySet<number>;
  /** Window stats of the endpoint (null when there is no canary to judge). */
  stats: WindowStats[] | null;
  commits: ReadonlyMap<number, string | null>;
  now: number;
  actor: string;
}

export interface Effects {
  endpoint: Endpoint;
  changed: boolean;
  deployments: DeploymentRecord[];
  finished: Array<{ id: string; outcome: DeploymentOutcome; details: Record<string, unknown> }>;
  events: ServingEvent[];
  /** Move the primary alias back to this version (after a failed rollout). */
  aliasRollback: { alias: string; version: number } | null;
}

export function reconcile(current: Endpoint, o: Observed): Effects {
  const e: Endpoint = { ...current, rollout: current.rollout ? { ...current.rollout } : null };
  const fx: Effects = { endpoint: e, changed: false, deployments: [], finished: [], events: [], aliasRollback: null };

  const event = (
    kind: ServingEventKind,
    severity: Severity,
    message: string,
    deploymentId: string | null,
    details: Record<string, unknown> = {},
  ) =>
    fx.events.push({
      id: newId(),
      project: e.project,
      endpoint: e.name,
      at: o.now,
      kind,
      severity,
      message,
      deploymentId,
      details,
    });
  const deployment = (
    version: number,
    previousVersion: number | null,
    reason: string,
    outcome: DeploymentOutcome,
  ): DeploymentRecord => {
    const record: DeploymentRecord = {
      id: newId(),
      project: e.project,
      kind: "model",
      target: e.name,
      model: e.model,
      version,
      previousVersion,
      commit: o.commits.get(version) ?? null,
      commitAt: null,
      environment: null,
      reason,
      actor: o.actor,
      outcome,
      startedAt: o.now,
      finishedAt: outcome === "in_progress" ? null : o.now,
      details: {},
    };
    fx.deployments.push(record);
    return record;
  };
  const ref = (v: number | null) => `${e.model}@${v ?? "-"}`;

  // 1. A rollout in progress: judge it, or drop it when the primary selector moved elsewhere.
  const rollout = e.rollout;
  if (rollout) {
    if (o.primaryTarget === rollout.version && e.canaryVersion === rollout.version) {
      const verdict = o.stats ? judgeCanary(e.slo, o.stats, rollout.version, e.primaryVersion) : null;
      if (verdict?.verdict === "breach") {
        e.canaryVersion = null;
        e.canaryState = null;
        e.rollout = null;
        e.blockedCanaryVersion = rollout.version;
        e.status = "degraded";
        const details = breachDetails(e.slo, verdict);
        fx.finished.push({ id: rollout.deploymentId, outcome: "failed", details });
        event(
          "slo_breach",
          "critical",
          `rollout of ${ref(rollout.version)} broke its ${verdict.reason}; traffic returned to ${ref(e.primaryVersion)}`,
          rollout.deploymentId,
          {
            version: rollout.version,
            primary_version: e.primaryVersion,
            ...details,
          },
        );
        if (e.primary.kind === "alias" && rollout.previousVersion !== null)
          fx.aliasRollback = { alias: e.primary.alias, version: rollout.previousVersion };
        fx.changed = true;
      } else if (
        verdict?.verdict === "healthy" &&
        e.slo.autoPromoteAfterMs > 0 &&
        o.now - rollout.startedAt >= e.slo.autoPromoteAfterMs
      ) {
        e.primaryVersion = rollout.version;
        e.canaryVersion = null;
        e.canaryState = null;
        e.rollout = null;
        e.status = "serving";
        fx.finished.push({ id: rollout.deploymentId, outcome: "succeeded", details: { promoted: "automatically" } });
        event("promoted", "info", `${ref(rollout.version)} held its SLO and is now primary`, rollout.deploymentId);
        fx.changed = true;
      }
    } else {
      e.canaryVersion = null;
      e.canaryState = null;
      e.rollout = null;
      fx.finished.push({
        id: rollout.deploymentId,
        outcome: "rolled_back",
        details: { reason: `primary selector now resolves to ${ref(o.primaryTarget)}` },
      });
      event(
        "rolled_back",
        "warning",
        `rollout of ${ref(rollout.version)} stopped: the primary selector moved to ${ref(o.primaryTarget)}`,
        rollout.deploymentId,
      );
      fx.changed = true;
    }
  }

  // 2. The primary selector moved.
  const target = o.primaryTarget;
  if (!e.rollout && target !== null && target !== e.primaryVersion && target !== e.blockedCanaryVersion) {
    const previous = e.primaryVersion;
    if (previous !== null && e.canary && !o.servedBefore.has(target)) {
      const d = deployment(target, previous, "rollout through canary", "in_progress");
      // A canary in the slot (often this very version, as challenger) hands it over to the rollout.
      if (e.canaryState)
        fx.finished.push({
          id: e.canaryState.deploymentId,
          outcome: e.canaryVersion === target ? "succeeded" : "rolled_back",
          details: { superseded_by: d.id },
        });
      e.rollout = { version: target, previousVersion: previous, deploymentId: d.id, startedAt: o.now };
      e.canaryVersion = target;
      e.canaryState = { deploymentId: d.id, since: o.now };
      e.status = "rolling_out";
      event(
        "rollout_started",
        "info",
        `rolling out ${ref(target)} on ${e.canary.percent}% of traffic before it replaces ${ref(previous)}`,
        d.id,
      );
    } else {
      const reason = previous === null ? "deploy" : o.servedBefore.has(target) ? "rollback" : "alias moved";
      const d = deployment(target, previous, reason, "succeeded");
      e.primaryVersion = target;
      e.status = "serving";
      if (e.canaryVersion === target) {
        if (e.canaryState)
          fx.finished.push({
            id: e.canaryState.deploymentId,
            outcome: "succeeded",
            details: { promoted: "primary moved to it" },
          });
        e.canaryVersion = null;
        e.canaryState = null;
      }
      event(
        reason === "rollback" ? "rolled_back" : "deployed",
        "info",
        // The first deploy replaced nothing: "(was churn@-)" read as if a version "-" had served.
        previous === null ? `${ref(target)} is now primary` : `${ref(target)} is now primary (was ${ref(previous)})`,
        d.id,
      );
    }
    fx.changed = true;
  }
  if (
    target !== null &&
    target !== e.blockedCanaryVersion &&
    e.status === "degraded" &&
    !e.rollout &&
    target === e.primaryVersion
  ) {
    e.status = "serving";
    fx.changed = true;
  }

  // 3. The canary alias (when no rollout holds the canary slot).
  if (!e.rollout) {
    let canaryTarget = e.canary ? o.canaryTarget : null;
    if (canaryTarget !== null && (canaryTarget === e.primaryVersion || canaryTarget === e.blockedCanaryVersion))
      canaryTarget = null;
    if (
      e.blockedCanaryVersion !== null &&
      e.canary &&
      o.canaryTarget !== e.blockedCanaryVersion &&
      o.primaryTarget !== e.blockedCanaryVersion
    ) {
      e.blockedCanaryVersion = null;
      fx.changed = true;
    }
    if (canaryTarget !== e.canaryVersion) {
      if (e.canaryState)
        fx.finished.push({
          id: e.canaryState.deploymentId,
          outcome: "rolled_back",
          details: { reason: `canary moved to ${ref(canaryTarget)}` },
        });
      e.canaryVersion = canaryTarget;
      e.canaryState = null;
      if (canaryTarget !== null) {
        const d = deployment(canaryTarget, e.primaryVersion, `canary ${e.canary?.percent ?? 0}%`, "in_progress");
        e.canaryState = { deploymentId: d.id, since: o.now };
        event("deployed", "info", `${ref(canaryTarget)} takes ${e.canary?.percent ?? 0}% of traffic as canary`, d.id);
      }
      fx.changed = true;
    } else if (e.canaryVersion !== null && o.stats) {
      const verdict = judgeCanary(e.slo, o.stats, e.canaryVersion, e.primaryVersion);
      if (verdict.verdict === "breach") {
        const failed = e.canaryVersion;
        const deploymentId = e.canaryState?.deploymentId ?? null;
        const details = breachDetails(e.slo, verdict);
        if (deploymentId) fx.finished.push({ id: deploymentId, outcome: "failed", details });
        e.blockedCanaryVersion = failed;
        e.canaryVersion = null;
        e.canaryState = null;
        event(
          "slo_breach",
          "critical",
          `canary ${ref(failed)} broke its ${verdict.reason}; traffic returned to ${ref(e.primaryVersion)}`,
          deploymentId,
          {
            version: failed,
            primary_version: e.primaryVersion,
            ...details,
          },
        );
        fx.changed = true;
      }
    }
  }

  // 4. Shadow.
  const shadow = o.shadowTarget !== null && o.shadowTarget !== e.primaryVersion ? o.shadowTarget : null;
  if (shadow !== e.shadowVersion) {
    e.shadowVersion = shadow;
    fx.changed = true;
  }
  return fx;
}
