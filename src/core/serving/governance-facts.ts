/**
 * What the registry's policies need to know about serving (its `ServingFacts` port): which endpoint
 * slots follow an alias — moving the alias moves their traffic, so their policies govern the move —
 * and what a version did as an endpoint's canary, for `canary` checks.
 */
import type { CanaryStats, SlotStats } from "../registry/policy-approvals.js";
import type { EndpointSlot } from "../registry/policy-scope.js";
import type { ServedSlot } from "../registry/ports.js";
import type { Endpoint } from "./model.js";
import type { PredictionLogStore, ServingStore, WindowStats } from "./ports.js";

/** The endpoint slots (primary, canary, shadow) of `e` that follow `alias`. */
export function slotsFollowing(e: Endpoint, alias: string): EndpointSlot[] {
  const out: EndpointSlot[] = [];
  if (e.primary.kind === "alias" && e.primary.alias === alias)
    out.push({ endpoint: e.name, slot: "primary", percent: null });
  if (e.canary?.selector.kind === "alias" && e.canary.selector.alias === alias)
    out.push({ endpoint: e.name, slot: "canary", percent: e.canary.percent });
  if (e.shadow?.kind === "alias" && e.shadow.alias === alias)
    out.push({ endpoint: e.name, slot: "shadow", percent: null });
  return out;
}

const none: SlotStats = { requests: 0, errors: 0, p95Ms: null, latencyHist: [] };

export class ServingGovernanceFacts {
  constructor(
    private readonly store: ServingStore,
    private readonly log: PredictionLogStore,
  ) {}

  async followers(project: string, model: string, alias: string): Promise<EndpointSlot[]> {
    const endpoints = (await this.store.listEndpoints(project)).filter((e) => e.model === model);
    return endpoints.flatMap((e) => slotsFollowing(e, alias));
  }

  async servedBy(project: string, model: string): Promise<ServedSlot[]> {
    const out: ServedSlot[] = [];
    for (const e of await this.store.listEndpoints(project)) {
      if (e.model !== model) continue;
      const slots = [
        ["primary", e.primaryVersion, e.primary],
        ["canary", e.canaryVersion, e.canary?.selector ?? null],
        ["shadow", e.shadowVersion, e.shadow],
      ] as const;
      for (const [slot, served, selector] of slots) {
        const versions = new Set([served, selector?.kind === "version" ? selector.version : null]);
        for (const version of versions) if (version !== null) out.push({ endpoint: e.name, slot, version });
      }
    }
    return out;
  }

  /**
   * The version's record as `endpoint`'s canary: every deployment that put it in the canary slot
   * (a canary alias, or a rollout through the canary), whether serving stopped one for breaking its
   * SLO, and its requests there since the first one, beside the primary's over the same time.
   */
  async canaryStats(project: string, endpoint: string, model: string, version: number): Promise<CanaryStats> {
    const records = (await this.store.listDeployments(project, { target: endpoint, kind: "model", limit: 500 })).filter(
      (r) =>
        r.model === model &&
        r.version === version &&
        (r.reason.startsWith("canary") || r.reason.startsWith("rollout through canary")),
    );
    if (records.length === 0) return { served: false, failed: null, canary: none, primary: null };
    const failed = records.find((r) => r.outcome === "failed");
    const since = Math.min(...records.map((r) => r.startedAt));
    const stats = await this.log.windowStats(project, endpoint, since);
    const canary = stats.find((s) => s.slot === "canary" && s.version === version);
    return {
      served: true,
      failed: failed ? String(failed.details.reason ?? "its SLO broke") : null,
      canary: canary ? slotStats(canary) : none,
      primary: busiest(stats.filter((s) => s.slot === "primary")),
    };
  }
}

function slotStats(s: WindowStats): SlotStats {
  return { requests: s.requests, errors: s.errors, p95Ms: s.p95Ms, latencyHist: s.latencyHist };
}

/** The primary over the canary's time: the version that answered most of it. */
function busiest(primaries: WindowStats[]): SlotStats | null {
  if (primaries.length === 0) return null;
  return slotStats(primaries.reduce((a, b) => (b.requests > a.requests ? b : a)));
}
